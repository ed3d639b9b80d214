"""`goodwill touches on|off|status|preview|batch`: the touches goodwill sends by itself, switched
on per rule after a look at what they would send, and the month's postcard batch."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from goodwill.cli import touch_batches
from goodwill.cli.context import out, state
from goodwill.cli.terminal import shown

app = typer.Typer(
    help="Automated touches: the mail (and postcards) goodwill sends by itself.",
    no_args_is_help=True,
)

touch_batches.register(app)

RuleArgument = Annotated[
    str, typer.Argument(metavar="RULE", help="The rule's name (goodwill touches status).")
]


def _switch(ctx: typer.Context, rule: str, *, on: bool) -> None:
    from goodwill.actions.touches import switch_touches
    from goodwill.domain.audit import Actor
    from goodwill.engine.configuration import playbook_for

    st = state(ctx)
    with st.store.begin() as session:
        done = switch_touches(
            session,
            st.settings,
            playbook_for(st.settings),
            rule,
            on=on,
            actor=Actor.cli(),
            now=st.now(),
        )
    state_words = "now sent by goodwill" if on else "now left to people"
    already = "" if done.changed else " (it already was)"
    moved = (
        f"; {done.moved} open follow-up{'s' if done.moved != 1 else ''} "
        f"{'handed to the worker' if on else 'back on people’s lists'}"
        if done.moved
        else ""
    )
    out.print(f"{shown(done.rule)}: {state_words}{already}{moved}")


@app.command("on")
def switch_on(ctx: typer.Context, rule: RuleArgument) -> None:
    """Let goodwill send RULE's touches itself (email or postcard rules), from now on.

    Its open follow-ups that are not yet due leave people's lists; look first with
    `goodwill touches preview --rule RULE`.

    Example: goodwill touches on thank-you-first-purchase
    """
    _switch(ctx, rule, on=True)


@app.command("off")
def switch_off(ctx: typer.Context, rule: RuleArgument) -> None:
    """Stop sending RULE's touches automatically: they are people's follow-ups again.

    Example: goodwill touches off birthday-card
    """
    _switch(ctx, rule, on=False)


@app.command("status")
def status(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The rules goodwill could send by itself, and which are switched on.

    Example: goodwill touches status
    """
    from goodwill.engine.configuration import playbook_for
    from goodwill.store.touch_switches import automated_rules

    st = state(ctx)
    with st.store() as session:
        on = automated_rules(session)
    rules = [r for r in playbook_for(st.settings).rules if r.can_automate]
    if as_json:
        rows = [
            {
                "rule": r.name,
                "on": r.on,
                "channel": r.channel.value,
                "template": r.template,
                "marketing": r.marketing,
                "automated": r.name in on,
            }
            for r in rules
        ]
        out.print_json(json.dumps(rows))
        return
    table = Table("rule", "touch point", "how", "template", "kind of mail", "sent by goodwill")
    for r in rules:
        table.add_row(
            shown(r.name),
            shown(r.on),
            shown(r.channel.value),
            shown(r.template or ""),
            "marketing (consent needed)" if r.marketing else "service",
            "[green]on[/]" if r.name in on else "off",
        )
    out.print(table)


@app.command("preview")
def preview(
    ctx: typer.Context,
    days: Annotated[int, typer.Option(min=1, max=90, help="How many days ahead.")] = 7,
    rule: Annotated[str | None, typer.Option("--rule", help="Only this rule.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """What goodwill would send to whom in the next --days: for the rules switched on, and
    for the others what they would send once switched on.

    Example: goodwill touches preview --days 7
    """
    from goodwill.actions.touches import preview_sends
    from goodwill.engine.configuration import playbook_for
    from goodwill.errors import NotFound

    st = state(ctx)
    playbook = playbook_for(st.settings)
    if rule is not None and playbook.rule(rule) is None:
        raise NotFound(f"there is no rule {rule!r} in the playbook", rule=rule)
    with st.store() as session:
        planned = preview_sends(session, st.settings, playbook, now=st.now(), days=days, rule=rule)
    if as_json:
        out.print_json(json.dumps([p.as_dict() for p in planned]))
        return
    if not planned:
        out.print(f"Nothing to send in the next {days} days.")
        return
    zone = st.settings.zone
    table = Table("when", "rule", "client", "to", "subject", "what happens", title="Next sends")
    for p in planned:
        what = {
            "send": "sent" if p.automated else "sent once switched on",
            "batch": "in the month's postcard batch",
            "held": f"waits: {p.why}",
            "not sent": p.why or "not sent",
            "person": f"left to a person: {p.why}",
        }[p.verdict]
        if p.verdict == "send" and p.why:
            what += f" (waits: {p.why})"
        table.add_row(
            p.send_at.astimezone(zone).strftime("%a %d %b %H:%M"),
            shown(p.rule),
            shown(p.client_name),
            shown(p.to or ""),
            shown(p.subject or ""),
            shown(what),
        )
    out.print(table)
