"""`goodwill playbook check|show|preview`: validate a playbook file, see the rules in force,
see the message a rule's template makes for a real client."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from goodwill.cli.context import out, state
from goodwill.cli.terminal import shown, without_controls
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
    """Validate a playbook file and the templates its rules name; errors name the file, the
    rule and the field (a missing template, a placeholder its touch point cannot fill).

    Example: goodwill playbook check my-playbook.toml
    """
    from goodwill.engine.configuration import load_playbook_file
    from goodwill.touch_messages import check_rule_templates

    playbook = load_playbook_file(file)
    check_rule_templates(playbook, state(ctx).settings, source=str(file))
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
    from goodwill.engine.configuration import (
        default_playbook_text,
        playbook_for,
        playbook_source,
    )

    if default:
        print(default_playbook_text(), end="")
        return
    settings = state(ctx).settings
    _print(playbook_for(settings), shown(playbook_source(settings)))


@app.command("preview")
def preview(
    ctx: typer.Context,
    rule: Annotated[str, typer.Argument(metavar="RULE", help="The rule's name.")],
    client: Annotated[int, typer.Option("--client", help="The client's id.")],
) -> None:
    """Print the subject and body a rule's template makes for one client, from the client's
    latest touch point of the rule's kind, before the rule is left to send by itself.

    Example: goodwill playbook preview thank-you-first-purchase --client 12
    """
    from goodwill.engine.configuration import playbook_for
    from goodwill.touch_messages import preview_rule

    st = state(ctx)
    with st.store() as session:
        message = preview_rule(
            session,
            st.settings,
            playbook_for(st.settings),
            rule,
            client_id=client,
            today=st.today(),
        )
    text = f"Subject: {message.subject or ''}\n\n{message.body}"
    print("\n".join(without_controls(line) for line in text.splitlines()))
