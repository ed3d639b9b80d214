"""`goodwill followups`, `goodwill today` and `goodwill followup done|snooze|reassign`."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from goodwill.cli.context import State, out, state
from goodwill.cli.terminal import shown
from goodwill.domain.audit import Actor
from goodwill.domain.dates import DateError, parse_instant
from goodwill.errors import InvalidInput

if TYPE_CHECKING:
    from goodwill.store.followups import FollowUpView

app = typer.Typer(help="One follow-up: complete, snooze, reassign.", no_args_is_help=True)
AssigneeOption = Annotated[
    str | None,
    typer.Option(
        "--assignee", metavar="EMAIL", help="Only this person's ('unassigned' for nobody's)."
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
IdArgument = Annotated[int, typer.Argument(metavar="ID", help="The follow-up's id.")]


def register(root: typer.Typer) -> None:
    root.command("followups")(followups)
    root.command("today")(today)
    root.add_typer(app, name="followup")


def _instant(st: State, text: str, option: str) -> datetime:
    try:
        return parse_instant(text, zone=st.settings.zone)
    except DateError as exc:
        raise InvalidInput(f"{option}: {exc}", option=option) from exc


def _table(items: list[FollowUpView], st: State, title: str) -> Table:
    table = Table("id", "due", "client", "what", "why", "how", "who", title=title)
    zone = st.settings.zone
    for f in items:
        table.add_row(
            str(f.id),
            f.due_at.astimezone(zone).strftime("%a %Y-%m-%d %H:%M"),
            f"{shown(f.client_name)} ({shown(f.client_id)})",
            shown(f.title),
            shown(", ".join(f.event_types) or f.reason),
            shown(f"{f.channel}, {f.personal_label}"),
            shown(f.assignee_name or "unassigned"),
        )
    return table


def followups(
    ctx: typer.Context,
    assignee: AssigneeOption = None,
    due_before: Annotated[
        str | None, typer.Option(metavar="ISO", help="Only those due before this instant.")
    ] = None,
    status: Annotated[str, typer.Option(help="open, done or closed.")] = "open",
    performer: Annotated[
        str,
        typer.Option(
            help="person (people's follow-ups), machine (the touches goodwill sends) or all."
        ),
    ] = "person",
    as_json: JsonOption = False,
) -> None:
    """List follow-ups, soonest due first: people's by default, or the automated touches
    goodwill sends itself (--performer machine).

    Example: goodwill followups --assignee sam@shop.example --due-before 2026-12-01 --json
    """
    from goodwill.store.followups import list_followups

    st = state(ctx)
    before = _instant(st, due_before, "--due-before") if due_before else None
    with st.store() as session:
        items = list_followups(
            session,
            assignee=assignee,
            due_before=before,
            status=status,
            performer=None if performer == "all" else performer,
        )
    if as_json:
        out.print_json(json.dumps([f.as_dict() for f in items]))
    else:
        out.print(_table(items, st, f"{len(items)} {shown(status)} follow-ups"))


def today(ctx: typer.Context, assignee: AssigneeOption = None, as_json: JsonOption = False) -> None:
    """What to do today: overdue, due today, and the coming week.

    Example: goodwill today --assignee sam@shop.example
    """
    from goodwill.store.followups import today_list

    st = state(ctx)
    with st.store() as session:
        groups = today_list(session, now=st.now(), zone=st.settings.zone, assignee=assignee)
    if as_json:
        out.print_json(json.dumps(groups.as_dict()))
        return
    for title, items in (
        ("Overdue", groups.overdue),
        ("Today", groups.today),
        ("Upcoming", groups.upcoming),
    ):
        if items:
            out.print(_table(items, st, f"{title} ({len(items)})"))
    if not (groups.overdue or groups.today or groups.upcoming):
        out.print("Nothing to do: no open follow-ups in the coming week.")


@app.command("done")
def done(
    ctx: typer.Context,
    followup_id: IdArgument,
    outcome: Annotated[str, typer.Option(help="What happened (kept as history).")],
) -> None:
    """Mark a follow-up done, saying what happened.

    Example: goodwill followup done 42 --outcome "Called; she switched to monthly invoicing"
    """
    from goodwill.store.followups import complete

    st = state(ctx)
    with st.store.begin() as session:
        complete(session, followup_id, outcome=outcome, now=st.now(), actor=Actor.cli())
    out.print(f"follow-up {followup_id} done")


@app.command("snooze")
def snooze_command(
    ctx: typer.Context,
    followup_id: IdArgument,
    until: Annotated[str, typer.Option(metavar="ISO", help="The new due time.")],
) -> None:
    """Move a follow-up's due time later.

    Example: goodwill followup snooze 42 --until 2026-12-01T09:00+01:00
    """
    from goodwill.store.followups import snooze

    st = state(ctx)
    when = _instant(st, until, "--until")
    with st.store.begin() as session:
        snooze(session, followup_id, until=when, now=st.now(), actor=Actor.cli())
    out.print(f"follow-up {followup_id} due {when.astimezone(st.settings.zone).isoformat()}")


@app.command("reassign")
def reassign_command(
    ctx: typer.Context,
    followup_id: IdArgument,
    to: Annotated[str, typer.Option(metavar="EMAIL", help="The staff user who takes it over.")],
) -> None:
    """Give a follow-up to someone else.

    Example: goodwill followup reassign 42 --to sam@shop.example
    """
    from goodwill.store.followups import reassign

    st = state(ctx)
    with st.store.begin() as session:
        reassign(session, followup_id, to=to, now=st.now(), actor=Actor.cli())
    out.print(f"follow-up {followup_id} now with {shown(to)}")
