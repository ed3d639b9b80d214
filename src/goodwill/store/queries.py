"""Reads for the adapters: the client list with derived figures and one client's profile.

Figures are aggregated in SQL (one query per page), never by loading every order into Python.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, case, func, select
from sqlalchemy.orm import Session, sessionmaker

from goodwill.domain.clients import Figures, Kind, kind_of, month_year, tenure_of, tier_of
from goodwill.domain.money import from_minor
from goodwill.errors import NotFound
from goodwill.settings import Settings
from goodwill.store.among import among
from goodwill.store.base import as_utc
from goodwill.store.capped_count import count_up_to as capped
from goodwill.store.client_search import matching
from goodwill.store.client_sort import kept_page, sort_keys
from goodwill.store.models import (
    Client,
    ClientFact,
    ClientIdentity,
    Contact,
    Invoice,
    Order,
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
    #: A former client's last purchase, where their tenure ends; None for everyone else.
    tenure_until: date | None = None
    #: The whole phrase: "client for 20 years", "a client for 21 years, until April 2024".
    tenure_words: str = ""

    @property
    def until_words(self) -> str | None:
        """'April 2024' for a former client; None while they are one."""
        return month_year(self.tenure_until) if self.tenure_until else None

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
            "tenure": self.tenure_words,
            "client_until": self.tenure_until.isoformat() if self.tenure_until else None,
            "first_purchase": f.first_purchase.isoformat() if f.first_purchase else None,
            "last_purchase": f.last_purchase.isoformat() if f.last_purchase else None,
            "purchase_count": f.purchase_count,
            "total_spend": str(from_minor(f.total_spend_minor, self.currency)),
            "currency": self.currency,
            "late_payment_count": f.late_payment_count,
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
    return most_orders_currency(session) or "USD"


def business_currency(store: sessionmaker[Session], settings: Settings) -> tuple[str, str]:
    """The currency a row that names none is read in, and why, for the preview to say: the
    setting, else the one most orders are in (so a file does not drop out of spend), else USD."""
    if settings.currency:
        return settings.currency, "the business's currency"
    with store() as session:
        found = most_orders_currency(session)
    if found is None:
        return "USD", "as the business's currency is not set (set it in the settings)"
    return found, (
        "the currency most orders are in (set the business's currency in the settings to be sure)"
    )


#: How many of the latest orders say which currency most orders are in.
CURRENCY_WINDOW = 10_000


def most_orders_currency(session: Session) -> str | None:
    """The currency most orders are in (the first by code on a tie); None with no orders.

    Counted over the latest ``CURRENCY_WINDOW`` orders, read backwards on the primary key: a
    page or an engine batch asks, and counting ten million orders each time took seconds."""
    latest = select(Order.currency).order_by(Order.id.desc()).limit(CURRENCY_WINDOW).subquery()
    found: str | None = session.execute(
        select(latest.c.currency)
        .group_by(latest.c.currency)
        .order_by(func.count().desc(), latest.c.currency)
        .limit(1)
    ).scalar_one_or_none()
    return found


def _figures_query(
    session: Session, currency: str, today: date, ids: Sequence[int] | None = None
) -> Select[Any]:
    """Clients with their figures; ``ids``: those clients only, their orders and invoices
    alone aggregated (a condition on the outer query would not reach into the grouped
    subqueries, and every order would be grouped for one batch of clients)."""
    orders = select(
        Order.client_id.label("client_id"),
        func.min(Order.occurred_at).label("first_purchase"),
        func.max(Order.occurred_at).label("last_purchase"),
        func.count(Order.id).label("purchase_count"),
        func.coalesce(
            func.sum(case((Order.currency == currency, Order.amount_minor), else_=0)), 0
        ).label("spend"),
    ).group_by(Order.client_id)
    invoices = select(
        Invoice.client_id.label("client_id"), func.sum(_late(today)).label("late")
    ).group_by(Invoice.client_id)
    if ids is not None:
        orders = orders.where(among(session, Order.client_id, ids))
        invoices = invoices.where(among(session, Invoice.client_id, ids))
    o, i = orders.subquery("o"), invoices.subquery("i")
    query = (
        select(
            Client,
            o.c.first_purchase,
            o.c.last_purchase,
            func.coalesce(o.c.purchase_count, 0).label("purchase_count"),
            func.coalesce(o.c.spend, 0).label("spend"),
            func.coalesce(i.c.late, 0).label("late"),
        )
        .outerjoin(o, o.c.client_id == Client.id)
        .outerjoin(i, i.c.client_id == Client.id)
    )
    return query if ids is None else query.where(among(session, Client.id, ids))


def _late(today: date) -> Any:
    """1 for an invoice paid after its due date, or still open past it; else 0."""
    return case(
        (Invoice.paid_on > Invoice.due_on, 1),
        ((Invoice.paid_on.is_(None)) & Invoice.settled.is_(False) & (Invoice.due_on < today), 1),
        else_=0,
    )


def _overview(row: Sequence[Any], settings: Settings, currency: str, today: date) -> ClientOverview:
    client, first, last, count, spend, late = row
    figures = Figures(
        first_purchase=as_utc(first) if first is not None else None,
        last_purchase=as_utc(last) if last is not None else None,
        purchase_count=int(count),
        total_spend_minor=int(spend),
        late_payment_count=int(late),
        client_since=client.client_since,
    )
    kind = kind_of(figures, today=today, former_after_days=settings.former_after_days)
    tenure = tenure_of(figures, kind, today=today)
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
        tenure=tenure.label,
        tenure_years=tenure.years,
        tenure_until=tenure.until,
        tenure_words=tenure.words,
    )


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
    count_up_to: int | None = None,
) -> tuple[list[ClientOverview], int]:
    """One page of clients with their figures, and the total number matching ``search``.

    Archived clients are left out, or, with ``archived``, listed alone. ``count_up_to``:
    count no further than that (a total above it reads ``count_up_to + 1``, "more"), since
    counting a million clients takes the database longer than the whole page."""
    # client_figures reads the figures currency from here: imported when asked for.
    from goodwill.store.client_figures import kept_currency

    currency = kept_currency(session, settings)
    count = select(func.count(Client.id))
    shown = Client.archived_at.is_not(None) if archived else Client.archived_at.is_(None)
    count = count.where(shown)
    conditions: list[ColumnElement[bool]] = [shown]
    if search and search.strip():
        condition = matching(session, search)
        count = count.where(condition)
        conditions.append(condition)
    if count_up_to is not None:
        count = capped(select(Client.id).where(*conditions), count_up_to)
    total = int(session.execute(count).scalar_one())
    # The page's clients first, in the order asked, then the figures of those alone.
    ids = kept_page(
        session,
        sort,
        conditions,
        zone=settings.timezone,
        currency=currency,
        offset=offset,
        limit=limit,
    )
    if ids is None:
        ids = _page(session, sort, conditions, currency=currency, offset=offset, limit=limit)
    rows = session.execute(_figures_query(session, currency, today, ids)).all() if ids else []
    by_id = {row[0].id: row for row in rows}
    return [_overview(by_id[i], settings, currency, today) for i in ids], total


def _page(
    session: Session,
    sort: Sort,
    conditions: Sequence[ColumnElement[bool]],
    *,
    currency: str,
    offset: int,
    limit: int,
) -> list[int]:
    """One page of client ids in the order asked, every client's key computed."""
    page = select(Client.id).where(*conditions)
    if sort == "name":
        page = page.order_by(Client.name_key, Client.id)
    else:
        keys = sort_keys(session, currency)
        by = {
            "since": func.coalesce(Client.client_since, func.date(keys.c.first_purchase))
            .asc()
            .nulls_last(),
            "last_purchase": keys.c.last_purchase.desc().nulls_last(),
            "spend": func.coalesce(keys.c.spend, 0).desc(),
        }[sort]
        page = page.outerjoin(keys, keys.c.client_id == Client.id).order_by(by, Client.id)
    return list(session.execute(page.offset(offset).limit(limit)).scalars())


def overviews_for(
    session: Session,
    settings: Settings,
    client_ids: Iterable[int],
    *,
    today: date,
    currency: str | None = None,
) -> dict[int, ClientOverview]:
    """Figures for a set of clients in one query (the engine asks for a batch at a time);
    ``currency``: the figures' currency when the caller knows it (the engine, once a pass)."""
    ids = set(client_ids)
    if not ids:
        return {}
    currency = currency or figures_currency(session, settings)
    rows = session.execute(_figures_query(session, currency, today, sorted(ids))).all()
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
    """One client's record and figures: the figures from the client's kept row (the engine
    keeps it as orders arrive), aggregated from their orders before it has."""
    # client_figures reads the figures currency from here: imported when asked for.
    from goodwill.store.client_figures import figures_for, kept_currency

    currency = kept_currency(session, settings)
    kept = figures_for(session, settings, client.id)
    row: Sequence[Any]
    if kept is None:
        row = session.execute(_figures_query(session, currency, today, [client.id])).one()
    else:
        late = session.execute(
            select(func.coalesce(func.sum(_late(today)), 0)).where(Invoice.client_id == client.id)
        ).scalar_one()
        f = kept.figures
        row = (
            (client, None, None, 0, 0, late)
            if f is None
            else (client, f.first_at, f.last_at, f.orders, f.spend_minor, late)
        )
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


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)
