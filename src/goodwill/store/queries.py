"""Reads for the adapters: the client list with derived figures, one client's profile and timeline.

Figures are aggregated in SQL (one query per page), never by loading every order into Python.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any, Literal

from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.orm import Session

from goodwill.domain.clients import Figures, Kind, kind_of, tenure_label, tenure_years, tier_of
from goodwill.domain.money import from_minor
from goodwill.domain.touchpoints import RESTATING, TOUCH_POINTS, describe
from goodwill.errors import NotFound
from goodwill.settings import Settings
from goodwill.store.models import (
    Client,
    ClientFact,
    ClientIdentity,
    Contact,
    Event,
    Invoice,
    Order,
    OrderLine,
    Partner,
    StaffUser,
)

Sort = Literal["name", "since", "last_purchase", "spend"]


@dataclass(frozen=True)
class ClientOverview:
    id: int
    external_id: str | None
    name: str
    email: str | None
    kind: Kind
    figures: Figures
    currency: str
    tier: str | None
    tenure: str
    tenure_years: float

    def as_dict(self) -> dict[str, Any]:
        f = self.figures
        return {
            "id": self.external_id or f"#{self.id}",
            "name": self.name,
            "email": self.email,
            "kind": self.kind.value,
            "tier": self.tier,
            "client_since": f.since.isoformat() if f.since else None,
            "tenure_years": round(self.tenure_years, 2),
            "first_purchase": f.first_purchase.isoformat() if f.first_purchase else None,
            "last_purchase": f.last_purchase.isoformat() if f.last_purchase else None,
            "purchase_count": f.purchase_count,
            "total_spend": str(from_minor(f.total_spend_minor, self.currency)),
            "currency": self.currency,
            "late_payment_count": f.late_payment_count,
        }


@dataclass(frozen=True)
class TimelineEntry:
    occurred_at: datetime
    type: str
    title: str
    detail: str
    payload: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "occurred_at": self.occurred_at.isoformat(),
            "type": self.type,
            "title": self.title,
            "detail": self.detail,
            "payload": self.payload,
        }


@dataclass(frozen=True)
class Profile:
    overview: ClientOverview
    phone: str | None
    timezone: str | None
    hometown: str | None
    birthday: str | None
    owner: str | None
    facts: dict[str, list[str]]
    contacts: list[dict[str, Any]]
    channels: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.overview.as_dict(),
            "phone": self.phone,
            "timezone": self.timezone,
            "hometown": self.hometown,
            "birthday": self.birthday,
            "owner": self.owner,
            "facts": self.facts,
            "contacts": self.contacts,
            "channels": self.channels,
        }


def figures_currency(session: Session, settings: Settings) -> str:
    """The currency figures are counted in: the setting, else the one most orders are in."""
    if settings.currency:
        return settings.currency
    found = session.execute(
        select(Order.currency)
        .group_by(Order.currency)
        .order_by(func.count(Order.id).desc(), Order.currency)
        .limit(1)
    ).scalar_one_or_none()
    return found or "USD"


def _figures_query(currency: str, today: date) -> Select[Any]:
    orders = (
        select(
            Order.client_id.label("client_id"),
            func.min(Order.occurred_at).label("first_purchase"),
            func.max(Order.occurred_at).label("last_purchase"),
            func.count(Order.id).label("purchase_count"),
            func.coalesce(
                func.sum(case((Order.currency == currency, Order.amount_minor), else_=0)), 0
            ).label("spend"),
        )
        .group_by(Order.client_id)
        .subquery("o")
    )
    late = case(
        (Invoice.paid_on > Invoice.due_on, 1),
        ((Invoice.paid_on.is_(None)) & Invoice.settled.is_(False) & (Invoice.due_on < today), 1),
        else_=0,
    )
    invoices = (
        select(Invoice.client_id.label("client_id"), func.sum(late).label("late"))
        .group_by(Invoice.client_id)
        .subquery("i")
    )
    return (
        select(
            Client,
            orders.c.first_purchase,
            orders.c.last_purchase,
            func.coalesce(orders.c.purchase_count, 0).label("purchase_count"),
            func.coalesce(orders.c.spend, 0).label("spend"),
            func.coalesce(invoices.c.late, 0).label("late"),
        )
        .outerjoin(orders, orders.c.client_id == Client.id)
        .outerjoin(invoices, invoices.c.client_id == Client.id)
    )


def _overview(row: Sequence[Any], settings: Settings, currency: str, today: date) -> ClientOverview:
    client, first, last, count, spend, late = row
    figures = Figures(
        first_purchase=_aware(first),
        last_purchase=_aware(last),
        purchase_count=int(count),
        total_spend_minor=int(spend),
        late_payment_count=int(late),
        client_since=client.client_since,
    )
    kind = kind_of(figures, today=today, former_after_days=settings.former_after_days)
    return ClientOverview(
        id=client.id,
        external_id=client.external_id,
        name=client.name,
        email=client.email,
        kind=kind,
        figures=figures,
        currency=currency,
        tier=tier_of(
            float(from_minor(figures.total_spend_minor, currency)),
            settings.tiers,
            is_lead=kind is Kind.LEAD,
        ),
        tenure=tenure_label(figures.since, today=today),
        tenure_years=tenure_years(figures.since, today=today),
    )


def _aware(value: datetime | str | None) -> datetime | None:
    """Aggregates bypass the column type on SQLite, so min/max come back as naive or text."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def list_clients(
    session: Session,
    settings: Settings,
    *,
    today: date,
    search: str | None = None,
    sort: Sort = "name",
    offset: int = 0,
    limit: int = 50,
    archived: bool = False,
) -> tuple[list[ClientOverview], int]:
    """One page of clients with their figures, and the total number matching ``search``.

    Archived clients are left out, or, with ``archived``, listed alone."""
    currency = figures_currency(session, settings)
    query = _figures_query(currency, today)
    count = select(func.count(Client.id))
    shown = Client.archived_at.is_not(None) if archived else Client.archived_at.is_(None)
    query, count = query.where(shown), count.where(shown)
    if search and search.strip():
        term = search.strip().lower()
        like = f"%{term}%"
        condition = or_(
            Client.name_key.like(like),
            Client.email.like(like),
            Client.external_id == search.strip(),
            Client.id.in_(select(ClientIdentity.client_id).where(ClientIdentity.value.like(like))),
        )
        query = query.where(condition)
        count = count.where(condition)
    columns = query.selected_columns
    orders: dict[str, list[Any]] = {
        "name": [Client.name_key, Client.id],
        "since": [
            func.coalesce(Client.client_since, func.date(columns.first_purchase))
            .asc()
            .nulls_last(),
            Client.id,
        ],
        "last_purchase": [columns.last_purchase.desc().nulls_last(), Client.id],
        "spend": [columns.spend.desc(), Client.id],
    }
    order = orders[sort]
    rows = session.execute(query.order_by(*order).offset(offset).limit(limit)).all()
    total = session.execute(count).scalar_one()
    return [_overview(row, settings, currency, today) for row in rows], int(total)


def overviews_for(
    session: Session, settings: Settings, client_ids: Iterable[int], *, today: date
) -> dict[int, ClientOverview]:
    """Figures for a set of clients in one query (the engine asks for a batch at a time)."""
    ids = set(client_ids)
    if not ids:
        return {}
    currency = figures_currency(session, settings)
    rows = session.execute(_figures_query(currency, today).where(Client.id.in_(ids))).all()
    return {row[0].id: _overview(row, settings, currency, today) for row in rows}


def find_client(session: Session, ref: str) -> Client:
    """A client by the id used in imported files, by email, by phone (``+...``), or by
    ``#internal-id``; also by the other ids, emails and phones a client holds (a merged
    record's identifiers find the client kept)."""
    ref = ref.strip()
    client = session.execute(select(Client).where(Client.external_id == ref)).scalar_one_or_none()
    kind = "external_id"
    if client is None and "@" in ref:
        kind = "email"
        client = session.execute(
            select(Client).where(Client.email == ref.lower()).order_by(Client.id).limit(1)
        ).scalar_one_or_none()
    if client is None and ref.startswith("#") and ref[1:].isdigit():
        client = session.get(Client, int(ref[1:]))
    if client is None and ref.startswith("+") and ref[1:].replace(" ", "").isdigit():
        kind = "phone"
        ref = "+" + ref[1:].replace(" ", "")
        client = session.execute(
            select(Client).where(Client.phone == ref).order_by(Client.id).limit(1)
        ).scalar_one_or_none()
    if client is None and ref:
        value = ref.lower() if kind == "email" else ref
        client_id = session.execute(
            select(ClientIdentity.client_id).where(
                ClientIdentity.kind == kind, ClientIdentity.value == value
            )
        ).scalar_one_or_none()
        client = session.get(Client, client_id) if client_id is not None else None
    if client is None:
        raise NotFound(f"no client with id {ref!r}", client=ref)
    return client


def client_profile(session: Session, settings: Settings, client: Client, *, today: date) -> Profile:
    currency = figures_currency(session, settings)
    row = session.execute(_figures_query(currency, today).where(Client.id == client.id)).one()
    facts: dict[str, list[str]] = {}
    for fact in session.execute(
        select(ClientFact).where(ClientFact.client_id == client.id).order_by(ClientFact.id)
    ).scalars():
        facts.setdefault(fact.kind, []).append(fact.text)
    contacts = [
        {"id": c.id, "name": c.name, "email": c.email, "phone": c.phone, "role": c.role}
        for c in session.execute(
            select(Contact).where(Contact.client_id == client.id).order_by(Contact.id)
        ).scalars()
    ]
    channels = list(
        session.execute(
            select(Partner.name)
            .join(Order, Order.partner_id == Partner.id)
            .where(Order.client_id == client.id)
            .group_by(Partner.name)
            .order_by(Partner.name)
        ).scalars()
    )
    owner = session.get(StaffUser, client.owner_id) if client.owner_id else None
    birthday = None
    if client.birthday_day and client.birthday_month:
        birthday = date(2000, client.birthday_month, client.birthday_day).strftime("%d %B")
        if client.birthday_year:
            birthday += f" {client.birthday_year}"
    return Profile(
        overview=_overview(row, settings, currency, today),
        phone=client.phone,
        timezone=client.timezone,
        hometown=client.hometown,
        birthday=birthday,
        owner=owner.name if owner else None,
        facts=facts,
        contacts=contacts,
        channels=channels,
    )


def timeline(
    session: Session, settings: Settings, client: Client, *, limit: int | None = None
) -> list[TimelineEntry]:
    """The client's whole history, newest first, read from the event log and enriched with the
    current state of each order and invoice (a refund or a late payment shows as it is now)."""
    query = (
        select(Event)
        .where(Event.client_id == client.id, Event.type.not_in(RESTATING))
        .order_by(Event.occurred_at.desc(), Event.id.desc())
    )
    if limit is not None:
        query = query.limit(limit)
    events = list(session.execute(query).scalars())
    orders = {
        o.external_id: o
        for o in session.execute(select(Order).where(Order.client_id == client.id)).scalars()
    }
    lines: dict[int, list[OrderLine]] = {}
    for line in session.execute(
        select(OrderLine).join(Order).where(Order.client_id == client.id).order_by(OrderLine.id)
    ).scalars():
        lines.setdefault(line.order_id, []).append(line)
    partners = {row[0]: row[1] for row in session.execute(select(Partner.id, Partner.name))}
    invoices = {
        i.external_id: i
        for i in session.execute(select(Invoice).where(Invoice.client_id == client.id)).scalars()
    }
    return [_entry(e, orders, lines, partners, invoices) for e in events]


def _entry(
    event: Event,
    orders: dict[str, Order],
    lines: dict[int, list[OrderLine]],
    partners: dict[int, str],
    invoices: dict[str, Invoice],
) -> TimelineEntry:
    payload = dict(event.payload or {})
    title, detail = event.type, ""
    if event.type == "order.placed" and (order := orders.get(payload.get("order_id", ""))):
        items = lines.get(order.id, [])
        names = ", ".join(
            (f"{line.quantity} × " if line.quantity != 1 else "") + (line.product or "item")
            for line in items
        )
        channel = partners.get(order.partner_id) if order.partner_id else None
        title = f"Purchase {order.external_id}: {_money(order.amount_minor, order.currency)}"
        detail = names + (f" — via {channel}" if channel else "")
        payload.update(
            amount=str(from_minor(order.amount_minor, order.currency)),
            currency=order.currency,
            channel=channel,
            items=[
                {
                    "product": i.product,
                    "category": i.category,
                    "quantity": i.quantity,
                    "amount": str(from_minor(i.amount_minor, order.currency)),
                }
                for i in items
            ],
        )
    elif event.type == "invoice.issued" and (inv := invoices.get(payload.get("invoice_id", ""))):
        title = f"Invoice {inv.external_id}: {_money(inv.amount_minor, inv.currency)}"
        detail = f"due {inv.due_on.isoformat()}" if inv.due_on else "no due date"
        if inv.paid_on:
            detail += f", paid {inv.paid_on.isoformat()}"
        elif inv.settled:
            detail += ", paid"
        elif inv.due_on:
            detail += ", unpaid"
    elif event.type == "order.refunded":
        amount = f"{payload.get('amount')} {payload.get('currency')}"
        title = f"Refund on {payload.get('order_id')}: {amount}"
        detail = "money given back; the purchase counts for less"
    elif event.type == "payment.received":
        days_late = int(payload.get("days_late", 0))
        title = f"Payment for invoice {payload.get('invoice_id')}"
        detail = f"{days_late} days late" if days_late > 0 else "on time"
    elif event.type in TOUCH_POINTS:
        title, detail = describe(event.type, payload)
    return TimelineEntry(
        occurred_at=event.occurred_at, type=event.type, title=title, detail=detail, payload=payload
    )


def _money(minor: int, currency: str) -> str:
    value = from_minor(minor, currency)
    return f"{value:,.2f} {currency}" if value.as_tuple().exponent == -2 else f"{value} {currency}"


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)
