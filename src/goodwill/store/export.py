"""Everything goodwill holds about one client, as one zip archive (GDPR articles 15 and 20).

What belongs to a client is found by walking the foreign keys of the schema: the client's row,
every row of a table that references ``clients``, every row of a table that references one of
those (order lines through orders, messages through conversations, attachments through messages),
and so on; plus the raw mail their messages were parsed from and the audit entries about them
(``audit_log.client_id`` is a plain number on purpose, so an entry outlives an erasure). A table
added later that references any of these is exported without a change here.

The archive holds ``client.json`` (one document: every table's rows), bytes columns as files under
``files/`` (raw mail as ``.eml``, attachments under their own names), and ``summary.txt``.
"""

from __future__ import annotations

import io
import json
import logging
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from goodwill.domain.audit import Actor
from goodwill.domain.money import format_money
from goodwill.errors import NotFound
from goodwill.store.audit import record
from goodwill.store.erasure import unfiled_mail_about
from goodwill.store.models import AuditEntry, Base, Client, InboundMail, Message

log = logging.getLogger(__name__)

#: The archive's format, in ``client.json``; raised when the layout changes.
FORMAT = 1
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def client_tables() -> list[Table]:
    """Every table whose rows can belong to a client, found by walking foreign keys from
    ``clients`` (breadth first, so a table comes after the tables it is reached through)."""
    tables = Base.metadata.tables
    reached: list[Table] = [tables["clients"]]
    names = {"clients"}
    changed = True
    while changed:
        changed = False
        for table in Base.metadata.sorted_tables:
            if table.name in names:
                continue
            if any(fk.column.table.name in names for fk in table.foreign_keys):
                reached.append(table)
                names.add(table.name)
                changed = True
    return reached


@dataclass
class ClientExport:
    """The rows held about one client, by table, and the files (path in the archive, bytes)."""

    client_id: int
    exported_at: datetime
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)

    def ids(self, table: str) -> set[Any]:
        return {row.get("id") for row in self.tables.get(table, [])}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _rows_of(
    session: Session, table: Table, owned: dict[str, set[Any]]
) -> Iterable[dict[str, Any]]:
    """The rows of ``table`` whose foreign keys point at rows already found to be the client's."""
    seen: set[Any] = set()
    pk = list(table.primary_key.columns)
    for fk in table.foreign_keys:
        keys = owned.get(fk.column.table.name)
        if not keys:
            continue
        column = fk.parent
        wanted = sorted(keys, key=str)
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            for row in session.execute(select(table).where(column.in_(chunk))).mappings():
                key = tuple(row[c.name] for c in pk)
                if key not in seen:
                    seen.add(key)
                    yield dict(row)


def collect(session: Session, client_id: int, *, now: datetime) -> ClientExport:
    """Gather everything held about client ``client_id``; raises NotFound for an unknown id."""
    client = session.get(Client, client_id)
    if client is None:
        raise NotFound(f"no client #{client_id}", client=client_id)
    export = ClientExport(client_id=client_id, exported_at=now)
    owned: dict[str, set[Any]] = {}
    for table in client_tables():
        if table.name == "clients":
            rows = [
                dict(session.execute(select(table).where(table.c.id == client_id)).mappings().one())
            ]
        else:
            rows = list(_rows_of(session, table, owned))
        export.tables[table.name] = rows
        owned[table.name] = {row["id"] for row in rows if "id" in row}
    inbound = {
        row["inbound_id"]
        for row in export.tables.get(Message.__tablename__, [])
        if row["inbound_id"]
    }
    addresses = {
        str(row["email"]).lower()
        for table in ("clients", "contacts")
        for row in export.tables.get(table, [])
        if row.get("email")
    }
    inbound |= set(unfiled_mail_about(session, addresses))
    export.tables[InboundMail.__tablename__] = [
        dict(row)
        for row in session.execute(
            select(InboundMail.__table__).where(InboundMail.id.in_(sorted(inbound)))
        ).mappings()
    ]
    export.tables[AuditEntry.__tablename__] = [
        dict(row)
        for row in session.execute(
            select(AuditEntry.__table__)
            .where(AuditEntry.client_id == client_id)
            .order_by(AuditEntry.id)
        ).mappings()
    ]
    _files_out(export)
    log.info("collected client %s: %d tables", client_id, len(export.tables))
    return export


def _files_out(export: ClientExport) -> None:
    """Bytes columns become files in the archive; the row names the file instead."""
    for table, rows in export.tables.items():
        for row in rows:
            for name, value in list(row.items()):
                if isinstance(value, bytes):
                    path = _file_path(table, name, row)
                    export.files[path] = value
                    row[name] = {"file": path, "size": len(value)}
                else:
                    row[name] = _plain(value)


def _file_path(table: str, column: str, row: dict[str, Any]) -> str:
    if table == "attachments":
        safe = _SAFE_NAME.sub("_", str(row.get("filename") or "attachment")).strip("._") or "file"
        return f"files/attachments/{row['id']}-{safe[:100]}"
    if table in ("inbound_mail", "outbox"):
        return f"files/{table}/{row['id']}.eml"
    return f"files/{table}/{row['id']}-{column}.bin"


def summary_text(export: ClientExport) -> str:
    """A readable account of the archive, for the person it is about."""
    client = export.tables["clients"][0]
    lines = [
        f"Everything held about client #{export.client_id}",
        f"Exported {export.exported_at.isoformat()}",
        "",
        f"Name: {client.get('name')}",
    ]
    for label, key in (("Email", "email"), ("Phone", "phone"), ("Hometown", "hometown")):
        if client.get(key):
            lines.append(f"{label}: {client[key]}")
    if client.get("birthday_day") and client.get("birthday_month"):
        year = client.get("birthday_year")
        lines.append(
            f"Birthday: {client['birthday_day']}/{client['birthday_month']}"
            + (f"/{year}" if year else "")
        )
    lines.append("")
    for contact in export.tables.get("contacts", []):
        lines.append(f"Contact: {contact['name']} {contact.get('email') or ''}".rstrip())
    for fact in export.tables.get("client_facts", []):
        lines.append(f"Fact ({fact['kind']}): {fact['text']}")
    orders = export.tables.get("orders", [])
    if orders:
        lines.append("")
        lines.append(f"Orders: {len(orders)}")
        for order in orders:
            amount = format_money(int(order["amount_minor"]), order["currency"])
            lines.append(f"  {order['occurred_at'][:10]}  {order['external_id']}  {amount}")
    invoices = export.tables.get("invoices", [])
    if invoices:
        lines.append(f"Invoices: {len(invoices)}")
        for invoice in invoices:
            amount = format_money(int(invoice["amount_minor"]), invoice["currency"])
            paid = f", paid {invoice['paid_on']}" if invoice.get("paid_on") else ""
            lines.append(f"  {invoice['issued_on']}  {invoice['external_id']}  {amount}{paid}")
    messages = export.tables.get("messages", [])
    if messages:
        lines.append("")
        lines.append(f"Messages: {len(messages)}")
        for message in messages:
            arrow = "from" if message["direction"] == "in" else "to"
            lines.append(f"  {message['sent_at'][:16]} {arrow} them: {message['subject']}")
    for followup in export.tables.get("followups", []):
        outcome = f" — {followup['outcome']}" if followup.get("outcome") else ""
        lines.append(f"Follow-up {followup['due_at'][:10]}: {followup['title']}{outcome}")
    for incident in export.tables.get("incidents", []):
        lines.append(f"Incident {incident['opened_at'][:10]}: {incident['what']}")
    for answer in export.tables.get("feedback_answers", []):
        lines.append(f"Asked: {answer['question_text']}")
        lines.append(f"  Answered: {answer['answer']}")
    lines.append("")
    lines.append("Rows by kind (client.json holds them all):")
    for table, rows in export.tables.items():
        lines.append(f"  {table}: {len(rows)}")
    if export.files:
        lines.append(f"Files: {len(export.files)} (under files/)")
    return "\n".join(lines) + "\n"


def archive(export: ClientExport) -> bytes:
    """The zip archive: client.json, summary.txt and the files."""
    document = {
        "format": FORMAT,
        "client_id": export.client_id,
        "exported_at": export.exported_at.isoformat(),
        "tables": export.tables,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("client.json", json.dumps(document, indent=2, ensure_ascii=False, default=str))
        zf.writestr("summary.txt", summary_text(export))
        for path, content in sorted(export.files.items()):
            zf.writestr(path, content)
    return buffer.getvalue()


def export_client(session: Session, client_id: int, *, now: datetime) -> bytes:
    """The archive for one client (see :func:`archive`); the caller records the audit entry."""
    return archive(collect(session, client_id, now=now))


def export_audited(session: Session, client_id: int, *, actor: Actor, now: datetime) -> bytes:
    """The archive, with a ``client.exported`` audit entry in the caller's transaction."""
    data = export_client(session, client_id, now=now)
    record(
        session,
        actor,
        "client.exported",
        at=now,
        object_type="client",
        object_id=client_id,
        client_id=client_id,
    )
    return data
