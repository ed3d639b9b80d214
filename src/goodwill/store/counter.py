"""A sale or a payment typed in by a person, written through the same path as an import.

Both go through :class:`goodwill.store.ingest.Ingest`, so the engine sees them as it sees an
imported order or payment (``order.placed`` deriving ``purchase.first``/``purchase.repeat``,
``payment.received`` deriving ``payment.on_time``/``payment.late``); their events name where
they were typed (web, api, cli) and who typed them. A request key makes a resent sale or
payment write nothing twice: the order's (or invoice's) id is ``counter/<key>``.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from goodwill.domain.audit import Actor
from goodwill.domain.counter_sales import parse_money, sale_lines
from goodwill.domain.facts import parse_day
from goodwill.domain.money import format_money
from goodwill.domain.records import ClientRef, PaymentRow, PurchaseRow, RowError
from goodwill.errors import Conflict, InvalidInput
from goodwill.settings import Settings
from goodwill.store import audit
from goodwill.store.ingest import Ingest, LineRow, line_key
from goodwill.store.memory import CLOCK_SKEW, Author, check_key
from goodwill.store.models import Client, Invoice, Order, StaffUser
from goodwill.store.queries import figures_currency

log = logging.getLogger(__name__)
#: The longest invoice number (the column's width, less the ``counter/`` prefix).
INVOICE_MAX = 190


@dataclass(frozen=True)
class Written:
    """What a sale or payment wrote: the order's or invoice's id, its own id, and whether new."""

    id: int
    external_id: str
    created: bool
    amount: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "external_id": self.external_id,
            "created": self.created,
            "amount": self.amount,
        }


def _ref(client: Client) -> ClientRef:
    return ClientRef(client_id=client.external_id, email=client.email, name=client.name)


def _served_by(session: Session, email: str | None, author: Author) -> tuple[int | None, str]:
    if email is None or not email.strip():
        return author.id, author.name
    user = session.execute(
        select(StaffUser).where(StaffUser.email == email.strip().lower())
    ).scalar_one_or_none()
    if user is None:
        raise InvalidInput(
            f"served_by: no staff user has the email {email.strip()!r}", field="served_by"
        )
    return user.id, user.name


def record_sale(
    session: Session,
    settings: Settings,
    client: Client,
    *,
    amount: str | None,
    items: Sequence[str] = (),
    at: datetime | None = None,
    served_by: str | None = None,
    author: Author,
    actor: Actor,
    source: str,
    now: datetime,
    key: str | None = None,
) -> Written:
    """A counter sale: the amount, the items (optional), when (default now) and who served
    (an email; default the author)."""
    currency = figures_currency(session, settings)
    lines = sale_lines(amount, items, currency)
    key = check_key(key)
    when = at or now
    if when.tzinfo is None:
        raise InvalidInput("at: give the time zone or offset", field="at")
    if when > now + CLOCK_SKEW:
        raise InvalidInput("at: a sale is typed in once it happened", field="at")
    served_id, served_name = _served_by(session, served_by, author)
    external_id = f"counter/{key or uuid.uuid4().hex}"
    stored = session.execute(
        select(Order).where(Order.external_id == external_id)
    ).scalar_one_or_none()
    if stored is not None:
        if stored.client_id != client.id:
            raise Conflict(
                "request_key: this key was already used for another write", field="request_key"
            )
        return Written(
            stored.id,
            external_id,
            False,
            format_money(stored.amount_minor, stored.currency),
        )
    ref = _ref(client)
    rows = []
    for n, line in enumerate(lines):
        row = PurchaseRow(
            ref=ref,
            order_id=external_id,
            occurred_at=when,
            amount_minor=line.amount_minor,
            currency=currency,
            product=line.product,
            category=None,
            channel=None,
            quantity=1,
        )
        rows.append(LineRow(row, line_key(row, n)))
    ingest = Ingest(
        session,
        now=now,
        zone=settings.zone,
        source=source,
        extra={**author.payload(), "served_by": served_name},
        served_by_id=served_id,
    )
    ingest.pin(ref, client.id)
    for outcome in ingest.purchases(rows):
        if isinstance(outcome, RowError):
            raise Conflict(str(outcome), field="request_key")
    order = session.execute(select(Order).where(Order.external_id == external_id)).scalar_one()
    total = format_money(order.amount_minor, currency)
    audit.record(
        session,
        actor,
        "order.added",
        at=now,
        object_type="order",
        object_id=order.id,
        client_id=client.id,
        after={
            "order_id": external_id,
            "amount": total,
            "items": [line.product for line in lines if line.product],
            "occurred_at": when.isoformat(),
            "served_by": served_name,
        },
    )
    log.info("counter sale %s for client %s (%s)", order.id, client.id, source)
    return Written(order.id, external_id, True, total)


def record_payment(
    session: Session,
    settings: Settings,
    client: Client,
    *,
    amount: str | None,
    invoice: str | None = None,
    paid_on: str | date | None = None,
    due_on: str | date | None = None,
    author: Author,
    actor: Actor,
    source: str,
    now: datetime,
    key: str | None = None,
) -> Written:
    """A payment received: against the client's invoice ``invoice`` (its amount, if given,
    must match), or, with no invoice, a receipt issued and paid on ``paid_on`` (default
    today)."""
    currency = figures_currency(session, settings)
    key = check_key(key)
    today = now.astimezone(settings.zone).date()
    paid = parse_day(paid_on, field="paid_on") or today
    if paid > today:
        raise InvalidInput("paid_on: a payment is typed in once it came", field="paid_on")
    due = parse_day(due_on, field="due_on")
    number = (invoice or "").strip()
    if len(number) > INVOICE_MAX:
        raise InvalidInput(f"invoice: at most {INVOICE_MAX} characters", field="invoice")
    minor = parse_money(amount, currency, field="amount")
    stored = None
    if number:
        stored = session.execute(
            select(Invoice).where(Invoice.external_id == number)
        ).scalar_one_or_none()
    if stored is not None:
        if stored.client_id != client.id:
            raise InvalidInput(f"invoice: invoice {number} is another client's", field="invoice")
        if stored.paid_on is not None or stored.settled:
            if key is not None and stored.paid_on == paid:
                return Written(
                    stored.id, number, False, format_money(stored.amount_minor, currency)
                )
            raise Conflict(f"invoice: invoice {number} is already paid", field="invoice")
        if minor is not None and minor != stored.amount_minor:
            raise InvalidInput(
                f"amount: invoice {number} is for "
                f"{format_money(stored.amount_minor, stored.currency)}",
                field="amount",
            )
        minor, issued = stored.amount_minor, stored.issued_on
    else:
        if minor is None:
            raise InvalidInput("amount: say how much was paid", field="amount")
        issued = paid
        number = number or f"counter/{key or uuid.uuid4().hex}"
        again = session.execute(
            select(Invoice).where(Invoice.external_id == number)
        ).scalar_one_or_none()
        if again is not None:
            return Written(again.id, number, False, format_money(again.amount_minor, currency))
    ref = _ref(client)
    ingest = Ingest(session, now=now, zone=settings.zone, source=source, extra=author.payload())
    ingest.pin(ref, client.id)
    row = PaymentRow(
        ref=ref,
        invoice_id=number,
        amount_minor=minor,
        currency=stored.currency if stored else currency,
        issued_at=issued,
        due_date=stored.due_on if stored else due,
        paid_at=paid,
    )
    for outcome in ingest.payments([row]):
        if isinstance(outcome, RowError):
            raise InvalidInput(str(outcome), field="invoice")
    written = session.execute(select(Invoice).where(Invoice.external_id == number)).scalar_one()
    total = format_money(written.amount_minor, written.currency)
    audit.record(
        session,
        actor,
        "payment.added",
        at=now,
        object_type="invoice",
        object_id=written.id,
        client_id=client.id,
        before={"paid_on": None} if stored is not None else None,
        after={"invoice_id": number, "amount": total, "paid_on": paid.isoformat()},
    )
    log.info("payment on invoice %s for client %s (%s)", written.id, client.id, source)
    return Written(written.id, number, True, total)
