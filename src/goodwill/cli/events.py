"""`goodwill event add`: record a touch point from a terminal (a call, a visit, a web form)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from goodwill.cli.context import out, state
from goodwill.domain.dates import DateError, parse_instant
from goodwill.domain.records import ClientRef
from goodwill.domain.touchpoints import TOUCH_POINTS
from goodwill.errors import InvalidInput

app = typer.Typer(help="The event log.", no_args_is_help=True)


@app.command("add")
def add(
    ctx: typer.Context,
    type: Annotated[
        str, typer.Argument(metavar="TYPE", help=f"One of: {', '.join(TOUCH_POINTS)}.")
    ],
    client: Annotated[
        str | None, typer.Option("--client", metavar="ID", help="The client id.")
    ] = None,
    email: Annotated[
        str | None, typer.Option(help="The client's email (a lead is created when unknown).")
    ] = None,
    name: Annotated[str | None, typer.Option(help="The name, for a new lead.")] = None,
    at: Annotated[
        str | None, typer.Option(metavar="ISO", help="When it happened (default: now).")
    ] = None,
    payload: Annotated[str, typer.Option(metavar="JSON", help="Details, as a JSON object.")] = "{}",
    external_id: Annotated[
        str | None, typer.Option(help="Your id for it: recording it again changes nothing.")
    ] = None,
    source: Annotated[str, typer.Option(help="Where it comes from.")] = "cli",
) -> None:
    """Record a touch point; the engine turns it into follow-ups on its next pass.

    Example: goodwill event add lead.created --email ann@example.com --payload '{"via": "call"}'
    """
    from goodwill.store.events import record_touch_point

    st = state(ctx)
    try:
        details: Any = json.loads(payload)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"--payload: not JSON ({exc})", option="--payload") from exc
    if not isinstance(details, dict):
        raise InvalidInput("--payload: expected a JSON object", option="--payload")
    if client is None and email is None:
        raise InvalidInput("name the client with --client or --email", option="--client")
    try:
        when = parse_instant(at, zone=st.settings.zone) if at else st.now()
    except DateError as exc:
        raise InvalidInput(f"--at: {exc}", option="--at") from exc
    with st.store.begin() as session:
        event_id, created = record_touch_point(
            session,
            st.settings,
            type=type,
            client=ClientRef(client_id=client, email=email.lower() if email else None, name=name),
            occurred_at=when,
            source=source,
            payload=details,
            now=st.now(),
            external_id=external_id,
        )
    out.print(f"event {event_id} {'recorded' if created else 'was already recorded'}")
