"""`goodwill playbook check|show`: validate a playbook file, see the rules in force."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from goodwill.cli.context import out, state
from goodwill.cli.terminal import shown
from goodwill.domain.playbooks import Playbook

app = typer.Typer(
    help="Playbooks: rules that turn touch points into follow-ups.", no_args_is_help=True
)


def _print(playbook: Playbook, title: str) -> None:
    table = Table("rule", "on", "when", "follow-up", "how", "who", "due", title=title)
    for r in playbook.rules:
        when = ", ".join(f"{k}={v}" for k, v in vars(r.when).items() if v is not None)
        table.add_row(
            shown(r.name),
            shown(r.on),
            shown(when or "always"),
            shown(r.title),
            shown(f"{r.channel}, {r.personal_level.label}"),
            shown(r.assignee),
            shown(r.due),
        )
    out.print(table)


@app.command("check")
def check(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(metavar="FILE", help="The playbook TOML file.")],
) -> None:
    """Validate a playbook file; errors name the file, the rule and the field.

    Example: goodwill playbook check my-playbook.toml
    """
    from goodwill.engine.configuration import load_playbook_file

    playbook = load_playbook_file(file)
    out.print(f"{shown(file)}: {len(playbook.rules)} rules, all valid")


@app.command("show")
def show(
    ctx: typer.Context,
    default: Annotated[
        bool, typer.Option("--default", help="Print the shipped default file.")
    ] = False,
) -> None:
    """Show the rules in force (or print the shipped default playbook to start your own).

    Example: goodwill playbook show --default > my-playbook.toml
    """
    from goodwill.engine.configuration import default_playbook_text, playbook_for

    if default:
        print(default_playbook_text(), end="")
        return
    settings = state(ctx).settings
    _print(playbook_for(settings), shown(settings.playbook or "default playbook"))
