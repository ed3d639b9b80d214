"""`goodwill calendar add`: check a business calendar by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from goodwill.cli.context import out

app = typer.Typer(
    help="Business calendars: opening hours, holidays, time zone.", no_args_is_help=True
)


@app.command("add")
def add(
    calendar: Annotated[Path, typer.Option(metavar="FILE", help="The calendar TOML file.")],
    start: Annotated[str, typer.Option(metavar="ISO8601", help="The start instant.")],
    hours: Annotated[float, typer.Option(help="Business hours to add.")],
) -> None:
    """Add business hours to an instant; prints the result as ISO 8601 with its offset.

    Example: goodwill calendar add --calendar office.toml --start 2026-12-24T16:00-07:00 --hours 4
    """
    from goodwill.analysis.calendar_files import add_hours_command

    out.print(add_hours_command(calendar, start, hours), highlight=False)
