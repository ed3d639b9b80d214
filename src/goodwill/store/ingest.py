"""Writing parsed import rows into client memory, idempotently.

Every write is keyed by the source's own ids (client id or email, order id + line key, invoice id),
so re-running an import, or importing an overlapping file, finds what is stored and adds nothing
twice. The caller owns the transaction: one chunk of rows is written and committed as a whole.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any, Literal, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from goodwill.domain.records import ClientRef, ClientRow, PaymentRow, PurchaseRow, RowError
from goodwill.store.models import (
    Base,
    Client,
    ClientFact,
    Event,
    Invoice,
    Order,
    OrderLine,
    Partner,
    Payment,
    StaffUser,
)

Outcome = Literal["imported", "duplicate", "updated"] | RowError
SOURCE = "import"


@dataclass(frozen=True)
class LineRow:
    """A purchase row with the key that tells its line apart from the order's other lines."""

    row: PurchaseRow
    line_key: str


def line_key(row: PurchaseRow, occurrence: int) -> str:
    basis = "|".join(
        str(part)
        for part in (
            row.product,
            row.category,
            row.quantity,
            row.amount_minor,
            row.currency,
            occurrence,
        )
    )
    return hashlib.sha256(basis.encode()).hexdigest()[:32]


def table(model: type[Base]) -> Table:
    return cast(Table, model.__table__)


def insert_new(
    session: Session, model: type[Base], rows: Sequence[dict[str, Any]], keys: Sequence[str]
) -> int:
    """INSERT … ON CONFLICT DO NOTHING on the unique ``keys``: the idempotent write.

    Returns how many rows were new. The statement carries RETURNING, which also lets
    SQLAlchemy send the rows in multi-row statements instead of one round trip per row.
    """
    if not rows:
        return 0
    dialect: Any = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table(model)).on_conflict_do_nothing(index_elements=list(keys))
    returned = session.execute(stmt.returning(*table(model).primary_key.columns), list(rows))
    return len(returned.all())


def _event(
    kind: str,
    client_id: int,
    occurred_at: datetime,
    external_id: str,
    now: datetime,
    payload: dict[str, Any],
) -> dict[str, Any]:
    return {
        "type": kind,
        "client_id": client_id,
        "occurred_at": occurred_at,
        "recorded_at": now,
        "source": SOURCE,
        "external_id": external_id,
        "idempotency_key": f"{SOURCE}:{external_id}",
        "payload": payload,
    }


class Ingest:
    """Writes one chunk of rows at a time within the caller's transaction."""

    def __init__(self, session: Session, *, now: datetime, zone: ZoneInfo) -> None:
        self.session = session
        self.now = now
        self.zone = zone
        self._partners: dict[str, int] = {}
        self._created: set[int] = set()

    # -- clients -----------------------------------------------------------------------------

    def resolve(self, refs: Iterable[ClientRef]) -> dict[ClientRef, int]:
        """Client ids for the refs, creating the clients not yet known.

        Matching: the source's client id first; else the email (a client created from an email
        alone adopts the client id when a later file brings it). Different client ids are
        different clients even when they share an email.
        """
        refs = list(dict.fromkeys(refs))
        ids = {r.client_id for r in refs if r.client_id}
        emails = {r.email for r in refs if r.email}
        by_id: dict[str, Client] = {}
        by_email: dict[str, Client] = {}
        if ids:
            for c in self.session.execute(
                select(Client).where(Client.external_id.in_(ids))
            ).scalars():
                by_id[c.external_id or ""] = c
        if emails:
            for c in self.session.execute(
                select(Client).where(Client.email.in_(emails)).order_by(Client.id)
            ).scalars():
                by_email.setdefault(c.email or "", c)
        out: dict[ClientRef, int] = {}
        unknown: dict[str, ClientRef] = {}  # by client id, or by email when there is none
        for ref in refs:
            client = by_id.get(ref.client_id) if ref.client_id else None
            if client is None and ref.email:
                candidate = by_email.get(ref.email)
                if candidate is not None and (
                    candidate.external_id in (None, ref.client_id) or ref.client_id is None
                ):
                    client = candidate
                    if ref.client_id and candidate.external_id is None:
                        candidate.external_id = ref.client_id
                        by_id[ref.client_id] = candidate
            if client is None:
                unknown.setdefault(ref.client_id or f"@{ref.email}", ref)
            else:
                if ref.name and client.name == (client.email or "").split("@")[0]:
                    client.name, client.name_key = ref.name, ref.name.lower()
                out[ref] = client.id
        if unknown:
            self.session.flush()
            created = self._create(list(unknown.values()))
            self._created.update(created.values())
            for ref in refs:
                if ref not in out:
                    key = ref.client_id or f"@{ref.email}"
                    out[ref] = created[key]
        return out

    def _create(self, refs: list[ClientRef]) -> dict[str, int]:
        """Insert new clients in one statement; their ids keyed like ``resolve`` keys them."""
        rows = []
        for ref in refs:
            name = ref.name or (ref.email.split("@")[0] if ref.email else ref.client_id) or "?"
            rows.append(
                {
                    "external_id": ref.client_id,
                    "name": name,
                    "name_key": name.lower(),
                    "email": ref.email,
                    "created_at": self.now,
                    "updated_at": self.now,
                }
            )
        self.session.execute(insert(table(Client)), rows)
        ids = [r.client_id for r in refs if r.client_id]
        emails = [r.email for r in refs if not r.client_id and r.email]
        out: dict[str, int] = {}
        if ids:
            for cid, external in self.session.execute(
                select(Client.id, Client.external_id).where(Client.external_id.in_(ids))
            ):
                out[str(external)] = cid
        if emails:
            for cid, email in self.session.execute(
                select(Client.id, Client.email)
                .where(Client.email.in_(emails), Client.external_id.is_(None))
                .order_by(Client.id.desc())
            ):
                out[f"@{email}"] = cid
        return out

    def clients(self, rows: Sequence[ClientRow]) -> list[Outcome]:
        owners = {row.owner for row in rows if row.owner}
        staff = (
            {
                u.email: u.id
                for u in self.session.execute(
                    select(StaffUser).where(StaffUser.email.in_(owners))
                ).scalars()
            }
            if owners
            else {}
        )
        ids = self.resolve(row.ref for row in rows if not row.owner or row.owner in staff)
        clients = {
            c.id: c
            for c in self.session.execute(
                select(Client).where(Client.id.in_(set(ids.values())))
            ).scalars()
        }
        existing = {
            (f.client_id, f.kind, f.text)
            for f in self.session.execute(
                select(ClientFact).where(ClientFact.client_id.in_(set(ids.values())))
            ).scalars()
        }
        outcomes: list[Outcome] = []
        facts: list[dict[str, Any]] = []
        for row in rows:
            if row.owner and row.owner not in staff:
                outcomes.append(RowError("owner", f"no staff user with email {row.owner!r}"))
                continue
            client = clients[ids[row.ref]]
            fresh = client.id in self._created
            self._created.discard(client.id)
            changed = self._apply(client, row, staff.get(row.owner or ""))
            for kind, text in [
                ("note", row.notes),
                ("value", row.values),
                *(("interest", i) for i in row.interests),
            ]:
                if text and (client.id, kind, text) not in existing:
                    existing.add((client.id, kind, text))
                    facts.append(
                        {
                            "client_id": client.id,
                            "kind": kind,
                            "text": text,
                            "recorded_at": self.now,
                            "source": SOURCE,
                        }
                    )
                    changed = True
            outcomes.append("imported" if fresh else "updated" if changed else "duplicate")
        insert_new(self.session, ClientFact, facts, ["client_id", "kind", "text"])
        return outcomes

    def _apply(self, client: Client, row: ClientRow, owner_id: int | None) -> bool:
        values: dict[str, Any] = {
            "owner_id": owner_id,
            "contact_window": row.contact_window,
            "tags": sorted(set(client.tags or []) | set(row.tags)) if row.tags else None,
            "name": row.ref.name,
            "email": row.ref.email,
            "phone": row.phone,
            "timezone": row.timezone,
            "hometown": row.hometown,
            "client_since": row.client_since,
        }
        if row.birthday:
            values.update(
                birthday_day=row.birthday[0],
                birthday_month=row.birthday[1],
                birthday_year=row.birthday[2],
            )
        changed = False
        for key, value in values.items():
            if value is not None and getattr(client, key) != value:
                setattr(client, key, value)
                changed = True
        if changed:
            client.name_key = client.name.lower()
            client.updated_at = self.now
        return changed

    # -- purchases ---------------------------------------------------------------------------

    def _partner(self, name: str | None) -> int | None:
        if not name:
            return None
        if name not in self._partners:
            insert_new(self.session, Partner, [{"name": name, "created_at": self.now}], ["name"])
            self._partners[name] = self.session.execute(
                select(Partner.id).where(Partner.name == name)
            ).scalar_one()
        return self._partners[name]

    def purchases(self, rows: Sequence[LineRow]) -> list[Outcome]:
        clients = self.resolve(r.row.ref for r in rows)
        order_ids = {r.row.order_id for r in rows}
        orders = {
            o.external_id: (o.id, o.client_id)
            for o in self.session.execute(
                select(Order).where(Order.external_id.in_(order_ids))
            ).scalars()
        }
        new_orders: dict[str, dict[str, Any]] = {}
        for r in rows:
            oid = r.row.order_id
            if oid not in orders and oid not in new_orders:
                client_id = clients[r.row.ref]
                new_orders[oid] = {
                    "external_id": oid,
                    "client_id": client_id,
                    "occurred_at": r.row.occurred_at,
                    "currency": r.row.currency,
                    "amount_minor": 0,
                    "partner_id": self._partner(r.row.channel),
                }
        if new_orders:
            self.session.execute(insert(table(Order)), list(new_orders.values()))
            for order_id, external_id, client_id in self.session.execute(
                select(Order.id, Order.external_id, Order.client_id).where(
                    Order.external_id.in_(list(new_orders))
                )
            ):
                orders[external_id] = (order_id, client_id)
            self.session.execute(
                insert(table(Event)),
                [
                    _event(
                        "order.placed",
                        values["client_id"],
                        values["occurred_at"],
                        f"order/{values['external_id']}",
                        self.now,
                        {"order_id": values["external_id"]},
                    )
                    for values in new_orders.values()
                ],
            )
        stored = {
            (row[0], row[1])
            for row in self.session.execute(
                select(OrderLine.order_id, OrderLine.line_key).where(
                    OrderLine.order_id.in_({orders[o][0] for o in order_ids})
                )
            )
        }
        outcomes: list[Outcome] = []
        lines: list[dict[str, Any]] = []
        for r in rows:
            order_id, client_id = orders[r.row.order_id]
            if client_id != clients[r.row.ref]:
                outcomes.append(
                    RowError("order_id", f"order {r.row.order_id} belongs to another client")
                )
            elif (order_id, r.line_key) in stored:
                outcomes.append("duplicate")
            else:
                stored.add((order_id, r.line_key))
                lines.append(
                    {
                        "order_id": order_id,
                        "line_key": r.line_key,
                        "product": r.row.product,
                        "category": r.row.category,
                        "quantity": r.row.quantity,
                        "amount_minor": r.row.amount_minor,
                    }
                )
                outcomes.append("imported")
        if lines:
            self.session.execute(insert(table(OrderLine)), lines)
            touched = {line["order_id"] for line in lines}
            total = (
                select(func.coalesce(func.sum(OrderLine.amount_minor), 0))
                .where(OrderLine.order_id == Order.id)
                .scalar_subquery()
            )
            self.session.execute(
                update(Order).where(Order.id.in_(touched)).values(amount_minor=total)
            )
        return outcomes

    # -- invoices and payments ---------------------------------------------------------------

    def _instant(self, day: date) -> datetime:
        return datetime.combine(day, time(), tzinfo=self.zone).astimezone(UTC)

    def payments(self, rows: Sequence[PaymentRow]) -> list[Outcome]:
        clients = self.resolve(row.ref for row in rows)
        invoices = {
            i.external_id: i
            for i in self.session.execute(
                select(Invoice).where(Invoice.external_id.in_({r.invoice_id for r in rows}))
            ).scalars()
        }
        outcomes: list[Outcome] = []
        events: list[dict[str, Any]] = []
        payments: list[dict[str, Any]] = []
        for row in rows:
            invoice = invoices.get(row.invoice_id)
            client_id = clients[row.ref]
            if invoice is None:
                invoice = Invoice(
                    external_id=row.invoice_id,
                    client_id=client_id,
                    currency=row.currency,
                    amount_minor=row.amount_minor,
                    issued_on=row.issued_at,
                    due_on=row.due_date,
                    paid_on=None,
                )
                self.session.add(invoice)
                invoices[row.invoice_id] = invoice
                events.append(
                    _event(
                        "invoice.issued",
                        client_id,
                        self._instant(row.issued_at),
                        f"invoice/{row.invoice_id}",
                        self.now,
                        {"invoice_id": row.invoice_id},
                    )
                )
                outcome: Outcome = "imported"
            elif invoice.client_id != client_id:
                outcomes.append(
                    RowError("invoice_id", f"invoice {row.invoice_id} belongs to another client")
                )
                continue
            else:
                outcome = "duplicate"
                if row.due_date is not None and invoice.due_on is None:
                    invoice.due_on, outcome = row.due_date, "updated"
            if row.paid_at is not None and invoice.paid_on is None:
                invoice.paid_on = row.paid_at
                days_late = (row.paid_at - invoice.due_on).days if invoice.due_on else 0
                payments.append(
                    {
                        "invoice": invoice,
                        "amount_minor": invoice.amount_minor,
                        "currency": invoice.currency,
                        "paid_on": row.paid_at,
                    }
                )
                events.append(
                    _event(
                        "payment.received",
                        client_id,
                        self._instant(row.paid_at),
                        f"payment/{row.invoice_id}/{row.paid_at.isoformat()}",
                        self.now,
                        {
                            "invoice_id": row.invoice_id,
                            "days_late": max(days_late, 0),
                            "due_date": invoice.due_on.isoformat() if invoice.due_on else None,
                        },
                    )
                )
                if outcome == "duplicate":
                    outcome = "updated"
            outcomes.append(outcome)
        self.session.flush()
        insert_new(
            self.session,
            Payment,
            [
                {
                    "invoice_id": p["invoice"].id,
                    "amount_minor": p["amount_minor"],
                    "currency": p["currency"],
                    "paid_on": p["paid_on"],
                }
                for p in payments
            ],
            ["invoice_id", "paid_on"],
        )
        insert_new(self.session, Event, events, ["idempotency_key"])
        return outcomes
