"""`goodwill audit`: who did what to which client, newest first."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from goodwill.cli.context import out, state


def register(app: typer.Typer) -> None:
    app.command("audit")(audit)


def _plain(text: str | None) -> str:
    """Safe for a terminal: Rich markup escaped, control characters (escape sequences) dropped."""
    if not text:
        return ""
    return escape("".join(ch if ch.isprintable() or ch == " " else "?" for ch in text))


def audit(
    ctx: typer.Context,
    client: Annotated[
        str | None, typer.Option("--client", metavar="ID", help="Only entries about this client.")
    ] = None,
    user: Annotated[
        str | None, typer.Option("--user", metavar="EMAIL", help="Only what this staff user did.")
    ] = None,
    action: Annotated[
        str | None,
        typer.Option("--action", metavar="PREFIX", help="An action, or a prefix such as client."),
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", metavar="DATE", help="From this day or instant.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="How many to show.")] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show the audit log, newest first, filtered.

    Example: goodwill audit --client C-1042 --since 2026-11-01
    """
    from goodwill.store.audit_view import AuditFilter, read_entries

    st = state(ctx)
    with st.store() as session:
        filters = AuditFilter.parse(
            session, st.settings, client=client, user=user, action=action, since=since
        )
        rows = read_entries(session, filters, limit=limit)
    if as_json:
        out.print_json(json.dumps([r.as_dict() for r in rows]))
        return
    table = Table("when", "who", "what", "object", "client", "from", "detail", title="Audit log")
    for row in rows:
        table.add_row(
            row.at.astimezone(st.settings.zone).strftime("%Y-%m-%d %H:%M"),
            _plain(row.actor),
            _plain(row.action),
            _plain(f"{row.object_type or ''} {row.object_id or ''}".strip()),
            f"#{row.client_id}" if row.client_id is not None else "",
            _plain(row.address),
            _plain(row.detail),
        )
    out.print(table)
    if not rows:
        out.print("no entries")
