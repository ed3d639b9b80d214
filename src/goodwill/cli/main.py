"""Entry point: global options, error translation (one clear line, a stable exit code)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from goodwill import __version__
from goodwill.cli import (
    audit,
    backup,
    cadence,
    calendar,
    clients,
    clv,
    engine,
    events,
    feedback,
    followups,
    imports,
    inbox,
    incident,
    insights,
    mail,
    playbook,
    privacy,
    reply,
    serve,
    sla,
    users,
)
from goodwill.cli.context import State, err, out
from goodwill.errors import GoodwillError, InvalidInput
from goodwill.store.database import upgrade

app = typer.Typer(
    name="goodwill",
    help="goodwill: remember every client, follow up at the right moment, recover well.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)
app.add_typer(imports.app, name="import")
app.add_typer(users.app, name="user")
app.add_typer(playbook.app, name="playbook")
app.add_typer(calendar.app, name="calendar")
app.add_typer(events.app, name="event")
app.add_typer(clv.app, name="clv")
app.add_typer(cadence.app, name="cadence")
app.add_typer(sla.app, name="sla")
app.add_typer(reply.app, name="reply")
app.add_typer(incident.app, name="incident")
app.add_typer(feedback.app, name="feedback")
app.add_typer(insights.app, name="insights")
clients.register(app)
followups.register(app)
inbox.register(app)
engine.register(app)
serve.register(app)
mail.register(app)
privacy.register(app)
backup.register(app)
audit.register(app)

EXIT_CODES = {"invalid": 2, "config": 2, "not_found": 3, "conflict": 4, "not_allowed": 5}


def _version(value: bool) -> None:
    if value:
        out.print(f"goodwill {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            metavar="URL",
            help="Database URL (default: GOODWILL_DATABASE_URL, "
            "then a SQLite file in the data directory).",
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            metavar="FILE",
            help="TOML configuration file (default: "
            "GOODWILL_CONFIG, then the user config "
            "directory).",
        ),
    ] = None,
    now: Annotated[
        str | None,
        typer.Option(
            "--now",
            metavar="ISO",
            help="Act as if it were this instant (reproducible "
            "output, e.g. 2026-11-23T09:00+01:00).",
        ),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress lines.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """goodwill keeps a business's clients for decades.

    Example: goodwill --db sqlite:///shop.db clients --search anna
    """
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    ctx.obj = State(db=db, config=config, now_text=now)


@app.command()
def init(ctx: typer.Context) -> None:
    """Create the database schema, or upgrade it to this version.

    Example: goodwill --db postgresql://goodwill@localhost/goodwill init
    """
    from goodwill.cli.context import state
    from goodwill.store.database import make_engine

    settings = state(ctx).settings
    changed = upgrade(make_engine(settings.database_url))
    out.print(
        "schema upgraded" if changed else "schema is up to date",
        f"({_safe_url(settings.database_url)})",
    )


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def run() -> None:
    """Console-script entry: GoodwillError becomes one line on stderr and an exit code."""
    try:
        code = app(standalone_mode=False)
    except GoodwillError as exc:
        err.print(f"error: {exc.message}", markup=False, highlight=False, style="red")
        sys.exit(EXIT_CODES.get(exc.code, 1))
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err.print("aborted")
        sys.exit(130)
    except Exception as exc:  # click's usage errors arrive here in non-standalone mode
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise
    sys.exit(code if isinstance(code, int) else 0)


__all__ = ["InvalidInput", "app", "run"]
