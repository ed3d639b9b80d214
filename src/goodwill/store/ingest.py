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
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.orm import Session

from goodwill.domain.consent import import_how
from goodwill.domain.money import from_minor
from goodwill.domain.records import ClientRef, ClientRow, PaymentRow, PurchaseRow, RowError
from goodwill.store.among import among
from goodwill.store.client_figures import mark_orders_stale
from goodwill.store.consent import take_from_import
from goodwill.store.idempotent_insert import insert_new as insert_new  # most writers import it here
from goodwill.store.idempotent_insert import insert_rows, table
from goodwill.store.import_ledger import Ledger
from goodwill.store.invoice_writes import shown_invoice, write_invoices, write_payments
from goodwill.store.models import (
    Client,
    ClientFact,
    ClientIdentity,
    Event,
    ImportItem,
    ImportRun,
    Invoice,
    Order,
    OrderLine,
    Partner,
    Payment,
    Refund,
    StaffUser,
)

#: What an invoices import reads of each stored invoice the file names.
INVOICE_COLUMNS = tuple(
    table(Invoice).c[name]
    for name in [
        "id",
        "external_id",
        "client_id",
        "currency",
        "amount_minor",
        "issued_on",
        "due_on",
        "paid_on",
        "settled",
    ]
)

Outcome = Literal["imported", "duplicate", "updated"] | RowError
SOURCE = "import"
CONSENT_HOW = import_how("clients")


@dataclass(frozen=True)
class LineRow:
    """A purchase row with the key that tells its line apart from the order's other lines."""

    row: PurchaseRow
    line_key: str


@dataclass(frozen=True)
class RefundRow:
    """Money given back on an order. ``cumulative``: ``amount_minor`` is the order's refunded
    total so far (an export's refunded-amount column); the refund stored is what is new."""

    ref: ClientRef
    order_id: str
    key: str
    amount_minor: int
    occurred_at: datetime
    currency: str
    cumulative: bool = False


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


def _event(
    kind: str,
    client_id: int,
    occurred_at: datetime,
    external_id: str,
    now: datetime,
    payload: dict[str, Any],
    source: str = SOURCE,
) -> dict[str, Any]:
    return {
        "type": kind,
        "client_id": client_id,
        "occurred_at": occurred_at,
        "recorded_at": now,
        "source": source,
        "external_id": external_id,
        "idempotency_key": f"{source}:{external_id}",
        "payload": payload,
    }


def _key(ref: ClientRef) -> str:
    if ref.client_id:
        return ref.client_id
    if ref.email:
        return f"@{ref.email}"
    return f"~{(ref.name or '').lower()}"


def recompute_orders(session: Session, order_ids: Iterable[int]) -> None:
    """An order's amount: its lines less its refunds (its client's kept figures go stale)."""
    ids = sorted(set(order_ids))
    mark_orders_stale(session, ids)
    lines = (
        select(func.coalesce(func.sum(OrderLine.amount_minor), 0))
        .where(OrderLine.order_id == Order.id)
        .scalar_subquery()
    )
    refunds = (
        select(func.coalesce(func.sum(Refund.amount_minor), 0))
        .where(Refund.order_id == Order.id)
        .scalar_subquery()
    )
    for start in range(0, len(ids), 1000):
        session.execute(
            update(Order)
            .where(among(session, Order.id, ids[start : start + 1000]))
            .values(amount_minor=lines - refunds)
        )


def _shown(ref: ClientRef) -> str:
    """A client as an import's report names them: the name, else the email, else the id."""
    return ref.name or ref.email or ref.client_id or ""


class Ingest:
    """Writes one chunk of rows at a time within the caller's transaction."""

    def __init__(
        self,
        session: Session,
        *,
        now: datetime,
        zone: ZoneInfo,
        ledger: Ledger | None = None,
        name_scope: Sequence[str] = (),
        source: str = SOURCE,
        extra: dict[str, Any] | None = None,
        served_by_id: int | None = None,
    ) -> None:
        """``ledger`` collects what is written; ``name_scope``: the import profiles of one source,
        whose clients known only by name are matched by that name. A sale or payment typed in by
        a person names its ``source`` (web, api, cli), adds ``extra`` (who) to its events'
        payloads and ``served_by_id`` to its orders."""
        self.session = session
        self.source = source
        self.extra = dict(extra or {})
        self.served_by_id = served_by_id
        self._pinned: dict[ClientRef, int] = {}
        self.now = now
        self.zone = zone
        self.ledger = ledger if ledger is not None else Ledger()
        self.name_scope = tuple(name_scope)
        self._partners: dict[str, int] = {}
        self._created: set[int] = set()
        self._seen_invoices: set[int] = set()
        #: Clients found by an identity besides their primary ones (another address, what a
        #: merged record was known by): a row naming them does not replace their name or email.
        self._by_alias: set[ClientRef] = set()

    # -- clients -----------------------------------------------------------------------------

    def resolve(self, refs: Iterable[ClientRef]) -> dict[ClientRef, int]:
        """Client ids for the refs, creating the clients not yet known.

        Matching: the source's client id first; else the email (a client created from an email
        alone adopts the client id when a later file brings it); else, for a ref with neither,
        the exact name among the clients imports of the same source brought (``name_scope``).
        Different client ids are different clients even when they share an email. The rule
        that matched each client is recorded in the ledger.
        """
        refs = list(dict.fromkeys(refs))
        if all(r in self._pinned for r in refs):
            return {r: self._pinned[r] for r in refs}
        ids = {r.client_id for r in refs if r.client_id}
        emails = {r.email for r in refs if r.email}
        names = {r.name.lower() for r in refs if r.name and not r.client_id and not r.email}
        by_id: dict[str, Client] = {}
        by_email: dict[str, Client] = {}
        alias_values: set[str] = set()
        if ids:
            for c in self.session.execute(
                select(Client).where(among(self.session, Client.external_id, ids))
            ).scalars():
                by_id[c.external_id or ""] = c
            aliases = self._by_identity("external_id", ids - set(by_id))
            by_id.update(aliases)
            alias_values.update(aliases)
        if emails:
            for c in self.session.execute(
                select(Client).where(among(self.session, Client.email, emails)).order_by(Client.id)
            ).scalars():
                by_email.setdefault(c.email or "", c)
            aliases = self._by_identity("email", emails - set(by_email))
            by_email.update(aliases)
            alias_values.update(aliases)
        by_name = self._by_name(names) if names else {}
        out: dict[ClientRef, int] = {}
        unknown: dict[str, ClientRef] = {}  # by client id, email or name, as _key keys them
        for ref in refs:
            rule = "client_id"
            client = by_id.get(ref.client_id) if ref.client_id else None
            if client is None and ref.email:
                rule = "email"
                candidate = by_email.get(ref.email)
                if candidate is not None and (
                    candidate.external_id in (None, ref.client_id) or ref.client_id is None
                ):
                    client = candidate
                    if ref.client_id and candidate.external_id is None:
                        candidate.external_id = ref.client_id
                        by_id[ref.client_id] = candidate
            if client is None and ref.name and not ref.client_id and not ref.email:
                rule = "name"
                client = by_name.get(ref.name.lower())
            if client is None:
                unknown.setdefault(_key(ref), ref)
            else:
                if (ref.client_id if rule == "client_id" else ref.email) in alias_values:
                    self._by_alias.add(ref)
                if ref.name and client.name == (client.email or "").split("@")[0]:
                    client.name, client.name_key = ref.name, ref.name.lower()
                out[ref] = client.id
                self.ledger.add("client", client.id, created=False, rule=rule)
        if unknown:
            self.session.flush()
            created = self._create(list(unknown.values()))
            self._created.update(created.values())
            for ref in refs:
                if ref not in out:
                    out[ref] = created[_key(ref)]
        return out

    def _by_identity(self, kind: str, values: set[str]) -> dict[str, Client]:
        """Clients holding these ids or emails besides their primary ones (another address,
        what a merged record was known by), by value."""
        if not values:
            return {}
        return {
            value: client
            for value, client in self.session.execute(
                select(ClientIdentity.value, Client)
                .join(Client, Client.id == ClientIdentity.client_id)
                .where(
                    ClientIdentity.kind == kind, among(self.session, ClientIdentity.value, values)
                )
            ).all()
        }

    def pin(self, ref: ClientRef, client_id: int) -> None:
        """Rows naming ``ref`` belong to this client, found already (a sale typed on its page)."""
        self._pinned[ref] = client_id

    def _by_name(self, names: set[str]) -> dict[str, Client]:
        """Clients known only by name that an import of this source brought, by lower name."""
        if not self.name_scope:
            return {}
        brought = (
            select(ImportItem.entity_id)
            .join(ImportRun, ImportRun.id == ImportItem.import_id)
            .where(
                ImportItem.entity == "client",
                ImportRun.profile.in_(self.name_scope),
                ImportRun.status != "undone",
            )
        )
        in_hand = [i for (entity, i) in self.ledger.items if entity == "client"]  # not flushed yet
        found: dict[str, Client] = {}
        for c in self.session.execute(
            select(Client)
            .where(
                Client.name_key.in_(names),
                or_(Client.id.in_(brought), Client.id.in_(in_hand)),
            )
            .order_by(Client.id)
        ).scalars():
            found.setdefault(c.name_key, c)
        return found

    def _create(self, refs: list[ClientRef]) -> dict[str, int]:
        """Insert new clients in one statement; their ids keyed like ``_key`` keys them."""
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
        written = insert_rows(
            self.session, Client, rows, returning=("id", "external_id", "email", "name_key")
        )
        made = {tuple(identity): client_id for client_id, *identity in written}
        out: dict[str, int] = {}
        for ref, row in zip(refs, rows, strict=True):
            client_id = made[(row["external_id"], row["email"], row["name_key"])]
            out[_key(ref)] = client_id
            self.ledger.add(
                "client",
                client_id,
                created=True,
                rule="new",
                shown={
                    "client_id": ref.client_id or "",
                    "name": str(row["name"]),
                    "email": ref.email or "",
                },
            )
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
                select(Client).where(among(self.session, Client.id, set(ids.values())))
            ).scalars()
        }
        existing = {
            (f.client_id, f.kind, f.text)
            for f in self.session.execute(
                select(ClientFact).where(
                    among(self.session, ClientFact.client_id, set(ids.values()))
                )
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
            "street": row.street,
            "postcode": row.postcode,
            "city": row.city,
            "region": row.region,
            "country": row.country,
        }
        if row.birthday:
            values.update(
                birthday_day=row.birthday[0],
                birthday_month=row.birthday[1],
                birthday_year=row.birthday[2],
            )
        if row.ref in self._by_alias:
            values.update(name=None, email=None)
        changed = take_from_import(client, row.marketing_consent, how=CONSENT_HOW, now=self.now)
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
                select(Order).where(among(self.session, Order.external_id, order_ids))
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
                    "served_by_id": self.served_by_id,
                }
        for order_id, _ in orders.values():
            self.ledger.add("order", order_id, created=False)
        if new_orders:
            values = list(new_orders.values())
            for order_id, external_id in insert_rows(
                self.session, Order, values, returning=("id", "external_id")
            ):
                orders[external_id] = (order_id, new_orders[external_id]["client_id"])
            insert_rows(
                self.session,
                Event,
                [
                    _event(
                        "order.placed",
                        row["client_id"],
                        row["occurred_at"],
                        f"order/{row['external_id']}",
                        self.now,
                        {"order_id": row["external_id"], **self.extra},
                        self.source,
                    )
                    for row in values
                ],
            )
        stored = {
            (row[0], row[1]): row[2]
            for row in self.session.execute(
                select(OrderLine.order_id, OrderLine.line_key, OrderLine.id).where(
                    among(self.session, OrderLine.order_id, {orders[o][0] for o in order_ids})
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
                line_id = stored[(order_id, r.line_key)]
                if line_id:
                    self.ledger.add("line", line_id, created=False)
                outcomes.append("duplicate")
            else:
                stored[(order_id, r.line_key)] = 0
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
            for (line_id,) in insert_rows(self.session, OrderLine, lines, returning=("id",)):
                self.ledger.add("line", line_id, created=True)
            self.recompute({line["order_id"] for line in lines})
        # Each new order's amount and client as the file showed them, in one pass over the rows.
        amounts: dict[str, int] = {}
        shown_refs: dict[str, str] = {}
        for r in rows:
            oid = r.row.order_id
            if oid in new_orders:
                amounts[oid] = amounts.get(oid, 0) + r.row.amount_minor
                shown_refs.setdefault(oid, _shown(r.row.ref))
        for external_id, row in new_orders.items():
            order_id = orders[external_id][0]
            amount = amounts[external_id]
            self.ledger.add(
                "order",
                order_id,
                created=True,
                shown={
                    "order_id": external_id,
                    "client": shown_refs[external_id],
                    "occurred_at": row["occurred_at"].isoformat(),
                    "amount": f"{from_minor(amount, row['currency'])} {row['currency']}",
                },
            )
        return outcomes

    def recompute(self, order_ids: Iterable[int]) -> None:
        recompute_orders(self.session, order_ids)

    # -- refunds -----------------------------------------------------------------------------

    def refunds(self, rows: Sequence[RefundRow]) -> list[Outcome]:
        """Refunds against their orders; a refund whose order the store does not have (a credit
        memo) is set against the client's latest order on or before it."""
        clients = self.resolve(r.ref for r in rows)
        orders = {
            o.external_id: o
            for o in self.session.execute(
                select(Order).where(
                    among(self.session, Order.external_id, {r.order_id for r in rows})
                )
            ).scalars()
        }
        outcomes: list[Outcome] = []
        touched: set[int] = set()
        events: list[dict[str, Any]] = []
        for row in rows:
            client_id = clients[row.ref]
            order = orders.get(row.order_id)
            if order is None:
                order = self.session.execute(
                    select(Order)
                    .where(Order.client_id == client_id, Order.occurred_at <= row.occurred_at)
                    .order_by(Order.occurred_at.desc(), Order.id.desc())
                    .limit(1)
                ).scalar_one_or_none()
                if order is None:
                    outcomes.append(
                        RowError(
                            "order_id",
                            f"refund for {row.order_id}: the store has no such order and no "
                            "earlier order of this client to set it against",
                        )
                    )
                    continue
            elif order.client_id != client_id:
                outcomes.append(
                    RowError("order_id", f"order {row.order_id} belongs to another client")
                )
                continue
            if row.currency != order.currency:
                outcomes.append(
                    RowError(
                        "currency",
                        f"a refund in {row.currency} on order {order.external_id} "
                        f"in {order.currency}",
                    )
                )
                continue
            amount, key = row.amount_minor, f"{order.external_id}/{row.key}"
            if row.cumulative:
                key = f"{order.external_id}/refunded/{row.amount_minor}"
                so_far = self.session.execute(
                    select(func.coalesce(func.sum(Refund.amount_minor), 0)).where(
                        Refund.order_id == order.id,
                        Refund.external_id.startswith(
                            f"{order.external_id}/refunded/", autoescape=True
                        ),
                    )
                ).scalar_one()
                amount = row.amount_minor - int(so_far)
            existing = self.session.execute(
                select(Refund.id).where(Refund.external_id == key)
            ).scalar_one_or_none()
            if existing is not None:
                self.ledger.add("refund", existing, created=False)
                outcomes.append("duplicate")
                continue
            if amount <= 0:
                outcomes.append("duplicate")
                continue
            refund_id = self.session.execute(
                insert(table(Refund))
                .values(
                    external_id=key,
                    order_id=order.id,
                    amount_minor=amount,
                    occurred_at=row.occurred_at,
                )
                .returning(Refund.id)
            ).scalar_one()
            self.ledger.add(
                "refund",
                refund_id,
                created=True,
                shown={
                    "order_id": order.external_id,
                    "occurred_at": row.occurred_at.isoformat(),
                    "amount": f"{from_minor(amount, order.currency)} {order.currency}",
                },
            )
            events.append(
                _event(
                    "order.refunded",
                    client_id,
                    row.occurred_at,
                    f"refund/{key}",
                    self.now,
                    {
                        "order_id": order.external_id,
                        "amount": str(from_minor(amount, order.currency)),
                        "currency": order.currency,
                    },
                )
            )
            touched.add(order.id)
            outcomes.append("imported")
        self.recompute(touched)
        insert_new(self.session, Event, events, ["idempotency_key"])
        return outcomes

    # -- invoices and payments ---------------------------------------------------------------

    def _instant(self, day: date) -> datetime:
        return datetime.combine(day, time(), tzinfo=self.zone).astimezone(UTC)

    def payments(self, rows: Sequence[PaymentRow]) -> list[Outcome]:
        """Invoices and their payments, as plain rows: new invoices and payments each go in
        with one bulk write, and only invoices the file tells more about are updated."""
        clients = self.resolve(row.ref for row in rows)
        invoices: dict[str, dict[str, Any]] = {
            i.external_id: dict(i._mapping)
            for i in self.session.execute(
                select(*INVOICE_COLUMNS).where(
                    among(self.session, Invoice.external_id, {r.invoice_id for r in rows})
                )
            )
        }
        new: dict[str, dict[str, Any]] = {}
        changed: set[str] = set()
        outcomes: list[Outcome] = []
        events: list[dict[str, Any]] = []
        payments: list[dict[str, Any]] = []
        for row in rows:
            invoice = invoices.get(row.invoice_id)
            client_id = clients[row.ref]
            if invoice is None:
                invoice = {
                    "external_id": row.invoice_id,
                    "client_id": client_id,
                    "currency": row.currency,
                    "amount_minor": row.amount_minor,
                    "issued_on": row.issued_at,
                    "due_on": row.due_date,
                    "paid_on": None,
                    "settled": row.settled and row.paid_at is None,
                }
                invoices[row.invoice_id] = new[row.invoice_id] = invoice
                events.append(
                    _event(
                        "invoice.issued",
                        client_id,
                        self._instant(row.issued_at),
                        f"invoice/{row.invoice_id}",
                        self.now,
                        {"invoice_id": row.invoice_id, **self.extra},
                        self.source,
                    )
                )
                outcome: Outcome = "imported"
            elif invoice["client_id"] != client_id:
                outcomes.append(
                    RowError("invoice_id", f"invoice {row.invoice_id} belongs to another client")
                )
                continue
            else:
                outcome = "duplicate"
                if row.due_date is not None and invoice["due_on"] is None:
                    invoice["due_on"], outcome = row.due_date, "updated"
            if row.settled and not invoice["settled"] and invoice["paid_on"] is None:
                invoice["settled"] = True
                outcome = "updated" if outcome == "duplicate" else outcome
            if row.paid_at is not None and invoice["paid_on"] is None:
                invoice["paid_on"] = row.paid_at
                due = invoice["due_on"]
                days_late = (row.paid_at - due).days if due else 0
                payments.append({"invoice": row.invoice_id, "paid_on": row.paid_at})
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
                            "due_date": due.isoformat() if due else None,
                            **self.extra,
                        },
                        self.source,
                    )
                )
                if outcome == "duplicate":
                    outcome = "updated"
            if outcome == "updated" and row.invoice_id not in new:
                changed.add(row.invoice_id)
            outcomes.append(outcome)
        write_invoices(self.session, new, [invoices[i] for i in changed])
        for row in rows:
            invoice = invoices[row.invoice_id]
            if (
                invoice["client_id"] == clients[row.ref]
                and invoice["id"] not in self._seen_invoices
            ):
                self._seen_invoices.add(invoice["id"])
                self.ledger.add(
                    "invoice",
                    invoice["id"],
                    created=row.invoice_id in new,
                    shown=shown_invoice(invoice, row.ref),
                )
        write_payments(self.session, self.ledger, payments, invoices)
        paid = {invoices[r.invoice_id]["id"] for r in rows if r.paid_at is not None}
        if paid:
            for payment_id in self.session.scalars(
                select(Payment.id).where(among(self.session, Payment.invoice_id, paid))
            ):
                self.ledger.add("payment", payment_id, created=False)
        insert_new(self.session, Event, events, ["idempotency_key"])
        return outcomes
