"""`goodwill touches`: what goodwill sends by itself."""

from __future__ import annotations

import typer

from goodwill.cli import touch_batches

app = typer.Typer(help="Automated touches: what goodwill sends by itself.", no_args_is_help=True)
touch_batches.register(app)
