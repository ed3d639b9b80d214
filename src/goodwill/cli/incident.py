"""`goodwill incident`: weigh a mistake's stakes for one client, store it, and see its recovery
through (listen, restate, own, offer, resolve, follow up)."""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from goodwill.cli.context import State, out, state
from goodwill.cli.terminal import shown
from goodwill.domain.audit import Actor
from goodwill.domain.stakes import Assessment, IncidentContext, assess
from goodwill.errors import InvalidInput

if TYPE_CHECKING:
    from goodwill.store.incidents import IncidentView

log = logging.getLogger(__name__)

app = typer.Typer(
    help="Incidents: what a mistake means to this client, and how to make it right.",
    no_args_is_help=True,
)

__all__ = ["app", "incident_context"]


def _message(path: Path | None) -> str | None:
    if path is None:
        return None
    if str(path) == "-":
        return sys.stdin.read()
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        message = f"--message-file: cannot read {path} ({exc.strerror})"
        raise InvalidInput(message, option="--message-file") from exc


def incident_context(
    st: State,
    client_ref: str,
    *,
    what: str,
    message: str | None,
    message_time: str | None,
    deadline: str | None,
    cost: str | None,
    partner: str | None,
    stranded: bool | None,
) -> tuple[IncidentContext, str]:
    """The incident as the domain sees it (see ``read_context``), and the client's reference."""
    from goodwill.actions.incidents import read_context
    from goodwill.store.queries import find_client

    with st.store() as session:
        client = find_client(session, client_ref)
        context = read_context(
            session,
            st.settings,
            client,
            what=what,
            message=message,
            message_time=message_time,
            deadline=deadline,
            cost=cost,
            partner=partner,
            stranded=stranded,
            now=st.now(),
        )
        return context, client.external_id or f"#{client.id}"


def _cost(cost: Decimal | None, currency: str) -> str:
    if cost is None:
        return "what the client paid"
    return "free" if cost == 0 else f"{cost:,.2f} {shown(currency)}"


ClientOption = Annotated[str, typer.Option(metavar="ID", help="The client id, as imported.")]
WhatOption = Annotated[str, typer.Option(metavar="TEXT", help="What went wrong, in a sentence.")]
MessageFileOption = Annotated[
    Path | None,
    typer.Option(metavar="FILE", help="The client's own words (- reads standard input)."),
]
MessageTimeOption = Annotated[
    str | None, typer.Option(metavar="ISO", help="When the client wrote (default: now).")
]
DeadlineOption = Annotated[
    str | None,
    typer.Option(metavar="ISO", help="The client's deadline (default: from their words)."),
]
CostOption = Annotated[
    str | None, typer.Option(metavar="AMOUNT", help="What the mistake cost the client.")
]
PartnerOption = Annotated[
    str | None,
    typer.Option(metavar="NAME", help="The partner acting for us who made the mistake."),
]
StrandedOption = Annotated[
    bool | None,
    typer.Option(
        "--stranded/--not-stranded",
        help="Whether the client is stranded or blocked now (default: from the words).",
    ),
]
WeightsOption = Annotated[
    Path | None,
    typer.Option(metavar="FILE", help="Weights TOML (default: the recovery setting, or built in)."),
]
CatalogOption = Annotated[
    Path | None,
    typer.Option(
        metavar="FILE", help="Options catalog TOML (default: the recovery setting, or shipped)."
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
ByOption = Annotated[str, typer.Option(metavar="EMAIL", help="Who acts: a staff member's email.")]
IdArgument = Annotated[int, typer.Argument(metavar="ID", help="The incident's id.")]


@app.command("assess")
def assess_command(
    ctx: typer.Context,
    client: ClientOption,
    what: WhatOption,
    message_file: MessageFileOption = None,
    message_time: MessageTimeOption = None,
    deadline: DeadlineOption = None,
    cost: CostOption = None,
    partner: PartnerOption = None,
    stranded: StrandedOption = None,
    weights: WeightsOption = None,
    catalog: CatalogOption = None,
    as_json: JsonOption = False,
) -> None:
    """Print the tier, the score, the reasons in plain words and the options; stores nothing.

    Example: goodwill incident assess --client C-1042 --what "our room was given away" \\
        --message-file mail.txt --cost 154
    """
    from goodwill.actions.incidents import recovery_files

    st = state(ctx)
    chosen_weights, chosen_catalog = recovery_files(st.settings, weights=weights, catalog=catalog)
    context, client_id = incident_context(
        st,
        client,
        what=what,
        message=_message(message_file),
        message_time=message_time,
        deadline=deadline,
        cost=cost,
        partner=partner,
        stranded=stranded,
    )
    result = assess(context, chosen_weights, chosen_catalog)
    if as_json:
        body = {
            "client": client_id,
            "deadline": context.deadline.isoformat() if context.deadline else None,
            **result.as_dict(),
        }
        out.print_json(json.dumps(body))
        return
    _print(result, context)


def _print(result: Assessment, context: IncidentContext) -> None:
    out.print(
        f"[bold]Tier {result.tier}[/bold]: {shown(result.tier_name)} (score {result.score:g})",
        highlight=False,
    )
    why = Table("points", "why", title="What drove it")
    for factor in result.factors:
        why.add_row(f"{factor.points:g}", shown(factor.text))
    out.print(why)
    options = Table("option", "cost", "who", "fits", title="Options")
    for offer in result.options:
        options.add_row(
            shown(offer.name),
            _cost(offer.cost, context.currency),
            shown(offer.option.authority),
            shown(", ".join(offer.fits)),
        )
    out.print(options)


@app.command("open")
def open_command(
    ctx: typer.Context,
    client: ClientOption,
    what: WhatOption,
    cause: Annotated[
        str, typer.Option(metavar="TEXT", help='The cause, a short label (e.g. "wrong address").')
    ],
    by: ByOption,
    message_file: MessageFileOption = None,
    message_time: MessageTimeOption = None,
    deadline: DeadlineOption = None,
    cost: CostOption = None,
    partner: PartnerOption = None,
    stranded: StrandedOption = None,
    weights: WeightsOption = None,
    catalog: CatalogOption = None,
    as_json: JsonOption = False,
) -> None:
    """Assess an incident as `assess` does and store it; print its id, tier and options.

    Example: goodwill incident open --client C-1042 --what "wrong pick-up address" \\
        --message-file mail.txt --partner TripDesk --cause "wrong address" --by sam@example.com
    """
    from goodwill.actions.incidents import open_incident, recovery_files

    st = state(ctx)
    chosen_weights, chosen_catalog = recovery_files(st.settings, weights=weights, catalog=catalog)
    with st.store.begin() as session:
        incident_id = open_incident(
            session,
            st.settings,
            client_ref=client,
            what=what,
            message=_message(message_file),
            message_time=message_time,
            deadline=deadline,
            cost=cost,
            partner=partner,
            stranded=stranded,
            cause=cause,
            by=by,
            actor=Actor.cli(),
            now=st.now(),
            weights=chosen_weights,
            catalog=chosen_catalog,
        )
    view = _view(st, incident_id)
    if as_json:
        out.print_json(json.dumps(view.as_dict()))
        return
    i = view.incident
    out.print(
        f"Incident [bold]{i.id}[/bold] opened for {shown(view.client)}: tier {i.tier} "
        f"(score {i.score:g})",
        highlight=False,
    )
    _print_options(i.options, i.currency)


def _view(st: State, incident_id: int) -> IncidentView:
    from goodwill.store.incidents import get_incident

    with st.store() as session:
        view = get_incident(session, incident_id)
        session.expunge_all()
        return view


def _print_options(options: list[dict[str, Any]], currency: str) -> None:
    table = Table("option", "cost", "who", "fits", title="Options")
    for o in options:
        cost = None if o.get("cost") is None else Decimal(str(o["cost"]))
        table.add_row(
            shown(o["name"]),
            _cost(cost, currency),
            shown(o.get("authority", "")),
            shown(", ".join(o.get("fits", []))),
        )
    out.print(table)


@app.command("list")
def list_command(
    ctx: typer.Context,
    status: Annotated[
        str | None, typer.Option(metavar="STATUS", help="open, resolved or closed.")
    ] = None,
    client: Annotated[
        str | None, typer.Option(metavar="ID", help="Only this client's incidents.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """List incidents, newest first, with the steps still missing.

    Example: goodwill incident list --status open
    """
    from goodwill.store.incidents import list_incidents
    from goodwill.store.queries import find_client

    st = state(ctx)
    with st.store() as session:
        client_id = find_client(session, client).id if client is not None else None
        views = list_incidents(session, status=status, client_id=client_id)
        rows = [v.as_dict() for v in views]
    if as_json:
        out.print_json(json.dumps(rows))
        return
    table = Table("id", "opened", "client", "tier", "cause", "status", "missing")
    for r in rows:
        table.add_row(
            str(r["id"]),
            _local(st, r["opened_at"]),
            shown(r["client"]),
            str(r["tier"]),
            shown(r["cause"]),
            shown(r["status"]),
            shown(", ".join(r["missing"])),
        )
    out.print(table)


def _local(st: State, iso: str | None) -> str:
    if iso is None:
        return ""
    return datetime.fromisoformat(iso).astimezone(st.settings.zone).strftime("%Y-%m-%d %H:%M")


@app.command("show")
def show_command(ctx: typer.Context, incident_id: IdArgument, as_json: JsonOption = False) -> None:
    """Show an incident: the assessment, the steps done and the steps missing.

    Example: goodwill incident show 12 --json
    """
    from goodwill.store.incidents import STEPS

    st = state(ctx)
    view = _view(st, incident_id)
    body = view.as_dict()
    if as_json:
        out.print_json(json.dumps(body))
        return
    i = view.incident
    out.print(
        f"[bold]Incident {i.id}[/bold] ({shown(i.status)}) — {shown(view.client)}, "
        f"tier {i.tier} (score {i.score:g}), cause: {shown(i.cause)}",
        highlight=False,
    )
    out.print(f"What: {shown(i.what)}", highlight=False)
    if i.restatement:
        confirmed = "confirmed" if i.confirmed_at else "not yet confirmed by the client"
        out.print(f"Restated: {shown(i.restatement)} ({confirmed})", highlight=False)
    if i.outcome:
        chosen = f" — {shown(i.chosen_option)}" if i.chosen_option else ""
        out.print(f"Outcome: {shown(i.outcome)}{chosen}", highlight=False)
    steps = Table("step", "done", "by", "note", title="Steps")
    done = {s.step: s for s in view.steps}
    for step in STEPS:
        s = done.get(step)
        if s is None or step in view.missing:
            steps.add_row(step, "missing", "", "")
        else:
            steps.add_row(step, _local(st, s.done_at.isoformat()), shown(s.by), shown(s.note or ""))
    out.print(steps)
    if i.close_reason:
        out.print(f"Closed with steps missing because: {shown(i.close_reason)}", highlight=False)


@app.command("step")
def step_command(
    ctx: typer.Context,
    incident_id: IdArgument,
    step: Annotated[
        str, typer.Argument(metavar="STEP", help="listen, restate, own, offer or follow_up.")
    ],
    by: ByOption,
    note: Annotated[
        str | None,
        typer.Option(metavar="TEXT", help="What was done; for restate, the restatement itself."),
    ] = None,
) -> None:
    """Mark a recovery step done (restate needs --note: the problem in our own words).

    Example: goodwill incident step 12 restate --note "you have no car and fly at 3pm" \\
        --by sam@example.com
    """
    from goodwill.actions.incidents import record_step

    st = state(ctx)
    with st.store.begin() as session:
        record_step(session, incident_id, step, by=by, actor=Actor.cli(), note=note, now=st.now())
    out.print(f"Incident {incident_id}: {shown(step)} done.", highlight=False)


@app.command("confirm")
def confirm_command(ctx: typer.Context, incident_id: IdArgument, by: ByOption) -> None:
    """Record that the client confirmed our restatement of the problem.

    Example: goodwill incident confirm 12 --by sam@example.com
    """
    from goodwill.actions.incidents import confirm_restatement

    st = state(ctx)
    with st.store.begin() as session:
        confirm_restatement(session, incident_id, by=by, actor=Actor.cli(), now=st.now())
    out.print(f"Incident {incident_id}: the client confirmed the restatement.", highlight=False)


@app.command("resolve")
def resolve_command(
    ctx: typer.Context,
    incident_id: IdArgument,
    outcome: Annotated[str, typer.Option(metavar="TEXT", help="How it ended, in a sentence.")],
    by: ByOption,
    option: Annotated[
        str | None, typer.Option(metavar="NAME", help="The option granted, as offered.")
    ] = None,
) -> None:
    """Resolve an incident; the engine then creates the follow-up with the client.

    Example: goodwill incident resolve 12 --outcome "drove her to the airport" \\
        --option "find the client a car" --by sam@example.com
    """
    from goodwill.actions.incidents import resolve

    st = state(ctx)
    with st.store.begin() as session:
        resolve(
            session,
            st.settings,
            incident_id,
            outcome=outcome,
            chosen_option=option,
            by=by,
            actor=Actor.cli(),
            now=st.now(),
        )
    out.print(f"Incident {incident_id} resolved; a follow-up comes next.", highlight=False)


@app.command("close")
def close_command(
    ctx: typer.Context,
    incident_id: IdArgument,
    by: ByOption,
    reason: Annotated[
        str | None,
        typer.Option(metavar="TEXT", help="Why it closes with a step missing (needed then)."),
    ] = None,
) -> None:
    """Close an incident; refused while a step is missing, unless --reason says why.

    Example: goodwill incident close 12 --by sam@example.com
    """
    from goodwill.actions.incidents import close

    st = state(ctx)
    with st.store.begin() as session:
        close(session, incident_id, reason=reason, by=by, actor=Actor.cli(), now=st.now())
    out.print(f"Incident {incident_id} closed.", highlight=False)
