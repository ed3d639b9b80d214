"""`python -m goodwill` runs the command line."""

from goodwill.cli.main import run

run()
