"""`goodwill backup FILE` and `goodwill restore FILE`: a consistent copy while goodwill runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from goodwill.cli.context import out, state


def register(app: typer.Typer) -> None:
    app.command("backup")(backup)
    app.command("restore")(restore)


def backup(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(metavar="FILE", help="The backup file to create (new).")],
) -> None:
    """Make a consistent backup of the database, safe while goodwill runs (file mode 0600).

    Example: goodwill backup /var/backups/goodwill/goodwill-$(date +%F).db
    """
    from goodwill.store.backup import backup as make_backup

    st = state(ctx)
    info = make_backup(st.settings.database_url, file)
    size = file.stat().st_size
    out.print(
        f"backed up to {file} ({info.kind}, schema {info.revision}, {size} bytes)", markup=False
    )


def restore(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(metavar="FILE", help="A file made by goodwill backup.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Replace the database with a backup, after checking it is one goodwill can migrate.

    Stop the server and the worker first. Example: goodwill restore goodwill-2026-11-22.db --yes
    """
    from goodwill.store.backup import inspect
    from goodwill.store.backup import restore as bring_back

    st = state(ctx)
    url = st.settings.database_url
    info = inspect(file, url)
    if not yes:
        typer.confirm(
            f"Replace everything in the database with {file} (schema {info.revision})?",
            abort=True,
        )
    bring_back(file, url)
    out.print(
        f"restored {file} ({info.kind}, schema {info.revision}; upgraded to this version)",
        markup=False,
    )
