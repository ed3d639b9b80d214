"""`goodwill client fact|note|log|sale|payment`: what the team learns, from a terminal.

Each command writes one thing as the command-line actor and prints the id it wrote (``--json``:
the whole of it). ``--by EMAIL`` names the staff member who learned it (the author the timeline
shows); ``--key`` makes a resent command write nothing twice.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from goodwill.cli.context import out, state

fact_app = typer.Typer(help="A client's facts: add, edit, remove.", no_args_is_help=True)

ClientId = Annotated[
    str, typer.Argument(metavar="ID", help="The client id from your files, an email, or #N.")
]
By = Annotated[str | None, typer.Option("--by", metavar="EMAIL", help="Who wrote it (the author).")]
Key = Annotated[
    str | None, typer.Option("--key", help="A unique key: the same command again writes nothing.")
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]
SOURCE = "cli"


def register(client_app: typer.Typer) -> None:
    client_app.add_typer(fact_app, name="fact")
    client_app.command("note")(note)
    client_app.command("log")(log_interaction)
    client_app.command("sale")(sale)
    client_app.command("payment")(payment)


def _print(as_json: bool, what: str, written: dict[str, Any], created: bool) -> None:
    if as_json:
        out.print_json(json.dumps({**written, "created": created}))
        return
    out.print(f"{what} {written['id']}" + ("" if created else " (already kept)"), highlight=False)


@fact_app.command("add")
def fact_add(
    ctx: typer.Context,
    client_id: ClientId,
    kind: Annotated[
        str,
        typer.Option(
            help="birthday, anniversary, family, event, hometown, "
            "school, interest, value, sensitivity or note."
        ),
    ],
    text: Annotated[str, typer.Option(help="What was learned.")],
    on: Annotated[
        str | None, typer.Option("--on", metavar="DATE", help="The day it is about.")
    ] = None,
    by: By = None,
    as_json: AsJson = False,
) -> None:
    """Keep a fact about a client; a dated one becomes a touch point on its day.

    Example: goodwill client fact add C-1042 --kind family --text "Daughter's wedding in Lisbon" --on 2027-06-12
    """  # noqa: E501
    from goodwill.domain.audit import Actor
    from goodwill.domain.facts import check_fact
    from goodwill.store.memory import Author, add_fact
    from goodwill.store.queries import find_client

    st = state(ctx)
    fact = check_fact(kind, text, on)
    actor = Actor.cli()
    with st.store.begin() as session:
        client = find_client(session, client_id)
        kept, created = add_fact(
            session, client, fact, author=Author.of(session, actor, by=by), actor=actor,
            source=SOURCE, now=st.now(),
        )  # fmt: skip
    _print(as_json, "fact", kept.as_dict(), created)


@fact_app.command("edit")
def fact_edit(
    ctx: typer.Context,
    client_id: ClientId,
    fact_id: Annotated[int, typer.Argument(metavar="FACT", min=1, help="The fact's id.")],
    version: Annotated[int, typer.Option(min=1, help="The version you are changing.")],
    kind: Annotated[str | None, typer.Option(help="A new kind.")] = None,
    text: Annotated[str | None, typer.Option(help="A new text.")] = None,
    on: Annotated[str | None, typer.Option("--on", metavar="DATE", help="A new day.")] = None,
    no_date: Annotated[bool, typer.Option("--no-date", help="Remove the day.")] = False,
    as_json: AsJson = False,
) -> None:
    """Change a fact; refused (exit 4) when someone changed it after your version.

    Example: goodwill client fact edit C-1042 7 --version 1 --text "Wedding moved to Porto"
    """
    from goodwill.domain.audit import Actor
    from goodwill.store.memory import edit_fact
    from goodwill.store.queries import find_client

    st = state(ctx)
    with st.store.begin() as session:
        client = find_client(session, client_id)
        fact = edit_fact(
            session, client, fact_id, version=version, kind=kind, text=text, on_date=on,
            clear_date=no_date, actor=Actor.cli(), now=st.now(),
        )  # fmt: skip
    _print(as_json, "fact", fact.as_dict(), True)


@fact_app.command("remove")
def fact_remove(
    ctx: typer.Context,
    client_id: ClientId,
    fact_id: Annotated[int, typer.Argument(metavar="FACT", min=1, help="The fact's id.")],
    version: Annotated[
        int | None, typer.Option(min=1, help="Only if it is still this version.")
    ] = None,
) -> None:
    """Remove a fact.

    Example: goodwill client fact remove C-1042 7 --version 2
    """
    from goodwill.domain.audit import Actor
    from goodwill.store.memory import remove_fact
    from goodwill.store.queries import find_client

    st = state(ctx)
    with st.store.begin() as session:
        client = find_client(session, client_id)
        remove_fact(session, client, fact_id, version=version, actor=Actor.cli(), now=st.now())
    out.print(f"fact {fact_id} removed", highlight=False)


def note(
    ctx: typer.Context,
    client_id: ClientId,
    text: Annotated[str, typer.Option(help="The note.")],
    pin: Annotated[bool, typer.Option("--pin", help="Pin it to the top of the page.")] = False,
    by: By = None,
    key: Key = None,
    as_json: AsJson = False,
) -> None:
    """Keep a free note about a client.

    Example: goodwill client note C-1042 --text "Prefers the Leeds shop" --pin
    """
    from goodwill.domain.audit import Actor
    from goodwill.store.memory import Author, add_note
    from goodwill.store.queries import find_client

    st = state(ctx)
    actor = Actor.cli()
    with st.store.begin() as session:
        client = find_client(session, client_id)
        kept, created = add_note(
            session, client, text, pinned=pin, author=Author.of(session, actor, by=by),
            actor=actor, source=SOURCE, now=st.now(), key=key,
        )  # fmt: skip
    _print(as_json, "note", kept.as_dict(), created)


def log_interaction(
    ctx: typer.Context,
    client_id: ClientId,
    kind: Annotated[str, typer.Option(help="call, visit, service or meeting.")],
    text: Annotated[str, typer.Option(help="What was said or done.")],
    outcome: Annotated[str | None, typer.Option(help="How it ended.")] = None,
    at: Annotated[str | None, typer.Option(metavar="WHEN", help="When (default: now).")] = None,
    by: By = None,
    key: Key = None,
    as_json: AsJson = False,
) -> None:
    """Log a call, visit, service or meeting (a service.interaction touch point).

    Example: goodwill client log C-1042 --kind call --text "Asked about resoling" --outcome "Friday"
    """
    from goodwill.domain.audit import Actor
    from goodwill.domain.facts import check_interaction
    from goodwill.store.memory import Author, log_interaction
    from goodwill.store.queries import find_client

    st = state(ctx)
    checked = check_interaction(kind, text, outcome)
    when = _instant(st, at, "at")
    actor = Actor.cli()
    with st.store.begin() as session:
        client = find_client(session, client_id)
        logged, created = log_interaction(
            session, client, checked, occurred_at=when, author=Author.of(session, actor, by=by),
            actor=actor, source=SOURCE, now=st.now(), key=key,
        )  # fmt: skip
    _print(as_json, "interaction", logged.as_dict(), created)


def sale(
    ctx: typer.Context,
    client_id: ClientId,
    amount: Annotated[str | None, typer.Option(help="The total, e.g. 120.00.")] = None,
    item: Annotated[
        list[str] | None, typer.Option("--item", help='"Boots" or "Boots = 89.90"; repeat.')
    ] = None,
    at: Annotated[str | None, typer.Option(metavar="WHEN", help="When (default: now).")] = None,
    served_by: Annotated[
        str | None, typer.Option("--served-by", metavar="EMAIL", help="Who served.")
    ] = None,
    by: By = None,
    key: Key = None,
    as_json: AsJson = False,
) -> None:
    """Type in a counter sale; it counts as a purchase like an imported one.

    Example: goodwill client sale C-1042 --amount 120 --item "Walking boots = 89.90" --item Laces
    """
    from goodwill.domain.audit import Actor
    from goodwill.store.counter import record_sale
    from goodwill.store.memory import Author
    from goodwill.store.queries import find_client

    st = state(ctx)
    when = _instant(st, at, "at")
    actor = Actor.cli()
    with st.store.begin() as session:
        client = find_client(session, client_id)
        written = record_sale(
            session, st.settings, client, amount=amount, items=item or [], at=when,
            served_by=served_by, author=Author.of(session, actor, by=by), actor=actor,
            source=SOURCE, now=st.now(), key=key,
        )  # fmt: skip
    _print(as_json, "order", written.as_dict(), written.created)


def payment(
    ctx: typer.Context,
    client_id: ClientId,
    amount: Annotated[str | None, typer.Option(help="What was paid.")] = None,
    invoice: Annotated[str | None, typer.Option(help="The invoice paid (optional).")] = None,
    paid_on: Annotated[
        str | None, typer.Option("--paid-on", metavar="DATE", help="Default: today.")
    ] = None,
    by: By = None,
    key: Key = None,
    as_json: AsJson = False,
) -> None:
    """Type in a payment received, against an invoice or as a receipt.

    Example: goodwill client payment C-1042 --invoice INV-204 --paid-on 2026-11-20
    """
    from goodwill.domain.audit import Actor
    from goodwill.store.counter import record_payment
    from goodwill.store.memory import Author
    from goodwill.store.queries import find_client

    st = state(ctx)
    actor = Actor.cli()
    with st.store.begin() as session:
        client = find_client(session, client_id)
        written = record_payment(
            session, st.settings, client, amount=amount, invoice=invoice, paid_on=paid_on,
            author=Author.of(session, actor, by=by), actor=actor, source=SOURCE, now=st.now(),
            key=key,
        )  # fmt: skip
    _print(as_json, "invoice", written.as_dict(), written.created)


def _instant(st: Any, text: str | None, field: str) -> Any:
    """An instant typed on the command line (a date alone: its start, in the business's zone)."""
    if text is None:
        return None
    from goodwill.domain.dates import DateError, parse_instant
    from goodwill.errors import InvalidInput

    try:
        return parse_instant(text, zone=st.settings.zone)
    except DateError as exc:
        raise InvalidInput(
            f"{field}: {text[:40]!r} is not a date and time ({exc})", field=field
        ) from None
