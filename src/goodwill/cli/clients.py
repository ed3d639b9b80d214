"""`goodwill clients` and `goodwill client show`: client memory in a terminal."""

from __future__ import annotations

import json
from typing import Annotated, Literal

import typer
from rich.table import Table

from goodwill.cli import client_merge, client_record, memory, privacy
from goodwill.cli.context import out, state
from goodwill.cli.terminal import shown
from goodwill.domain.money import format_money

client_app = typer.Typer(help="One client: their whole history.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("clients")(clients)
    app.add_typer(client_app, name="client")


def clients(
    ctx: typer.Context,
    search: Annotated[
        str | None, typer.Option("--search", "-s", help="Part of a name or email, or an id.")
    ] = None,
    sort: Annotated[str, typer.Option(help="name, since, last_purchase or spend.")] = "name",
    limit: Annotated[int, typer.Option(min=1, max=10000, help="How many to show.")] = 50,
    offset: Annotated[int, typer.Option(min=0, help="How many to skip (paging).")] = 0,
    archived: Annotated[
        bool, typer.Option("--archived", help="List the archived clients instead.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List clients with tenure, last purchase and value.

    Example: goodwill clients --search anna --sort spend
    """
    from goodwill.store.queries import list_clients

    if sort not in ("name", "since", "last_purchase", "spend"):
        raise typer.BadParameter("must be name, since, last_purchase or spend", param_hint="--sort")
    st = state(ctx)
    order: Literal["name", "since", "last_purchase", "spend"] = sort  # type: ignore[assignment]
    with st.store() as session:
        rows, total = list_clients(
            session,
            st.settings,
            today=st.today(),
            search=search,
            sort=order,
            offset=offset,
            limit=limit,
            archived=archived,
        )
    if as_json:
        out.print_json(json.dumps({"total": total, "clients": [r.as_dict() for r in rows]}))
        return
    table = Table(
        "id",
        "name",
        "kind",
        "tier",
        "client for",
        "last purchase",
        "purchases",
        "total spend",
        "late",
        title=f"{total} clients" + (f" matching {shown(repr(search))}" if search else ""),
    )
    for row in rows:
        f = row.figures
        table.add_row(
            shown(row.external_id or f"#{row.id}"),
            shown(row.name),
            row.kind.value,
            shown(row.tier or "—"),
            row.tenure,
            f.last_purchase.date().isoformat() if f.last_purchase else "—",
            str(f.purchase_count),
            shown(format_money(f.total_spend_minor, row.currency)),
            str(f.late_payment_count) if f.late_payment_count else "",
        )
    out.print(table)
    if total > offset + len(rows):
        out.print(
            f"showing {offset + 1}–{offset + len(rows)} of {total}; "
            f"use --offset {offset + len(rows)} for more"
        )


@client_app.command("show")
def show(
    ctx: typer.Context,
    client_id: Annotated[
        str, typer.Argument(metavar="ID", help="The client id from your files, or an email.")
    ],
    kind: Annotated[
        str,
        typer.Option(
            help="Only entries of one kind: all, purchases, conversations, notes, facts, "
            "incidents or followups."
        ),
    ] = "all",
    limit: Annotated[
        int, typer.Option(min=1, max=500, help="How many timeline entries, newest first.")
    ] = 50,
    before: Annotated[
        str | None,
        typer.Option(help="Only entries older than this cursor (printed under the table)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show a client: who they are, since when, and their timeline, newest first.

    Example: goodwill client show C-1042 --kind conversations --limit 20
    """
    from goodwill.store.client_record import client_ref, record_of
    from goodwill.store.queries import client_profile, find_client
    from goodwill.store.timeline import timeline

    st = state(ctx)
    with st.store() as session:
        client = find_client(session, client_id)
        profile = client_profile(session, st.settings, client, today=st.today())
        page = timeline(session, client, kind=kind, before=before, limit=limit)
        record = {"id": client_ref(client), **record_of(session, client)}
    if as_json:
        out.print_json(
            json.dumps(
                {
                    **profile.as_dict(),
                    "record": record,
                    "timeline": [e.as_dict() for e in page.entries],
                    "timeline_kind": page.kind,
                    "timeline_older": page.older,
                }
            )
        )
        return
    o = profile.overview
    f = o.figures
    out.print(
        f"[bold]{shown(o.name)}[/bold] ({shown(o.external_id or '#' + str(o.id))}) — "
        f"{o.kind.value}" + (f", tier {shown(o.tier)}" if o.tier else "")
    )
    if f.since:
        words = o.tenure_words[:1].upper() + o.tenure_words[1:]
        out.print(f"{words}, since {f.since.isoformat()}")
    out.print(
        f"{f.purchase_count} purchases, {shown(format_money(f.total_spend_minor, o.currency))}"
        f" in total; {f.late_payment_count} late payments"
    )
    facts = [
        ("email", o.email),
        ("phone", profile.phone),
        ("birthday", profile.birthday),
        ("hometown", profile.hometown),
        ("timezone", profile.timezone),
        ("channels", ", ".join(profile.channels) or None),
    ]
    facts += [(name, "; ".join(texts)) for name, texts in profile.facts.items()]
    for label, value in facts:
        if value:
            out.print(f"  {shown(label)}: {shown(value)}", highlight=False)
    title = "Timeline (newest first)" if page.kind == "all" else f"Timeline: {page.kind}"
    table = Table("when", "what", "detail", "by", title=title)
    for entry in page.entries:
        link = f" → {entry.link.kind} {entry.link.id}" if entry.link else ""
        table.add_row(
            entry.occurred_at.astimezone(st.settings.zone).strftime("%Y-%m-%d"),
            shown(entry.title),
            shown(entry.detail + link),
            shown(entry.by or ""),
        )
    out.print(table)
    if page.older:
        out.print(f"older entries: --before {page.older}", highlight=False)


# The client group's commands from the modules beside this one, added once as it is loaded (the
# command line may be built more than once in a process: the whole of it, or one command's part).
client_merge.register(client_app)
client_record.register(client_app)
memory.register(client_app)
privacy.register_client(client_app)
