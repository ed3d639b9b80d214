"""The engine's periodic scans: touch points that come from the calendar, not from an event.

Birthdays this month, the day of a dated fact a person wrote down (a wedding, a launch),
anniversaries of the first purchase in the last week, invoices past due
and purchases a client's rhythm says are missed. Each returns (client, instant, touch point)
items with stable keys, so a scan that runs every minute derives each one once.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import String, and_, func, literal_column, select
from sqlalchemy.orm import Session

from goodwill.domain.facts import CATCH_UP_DAYS, DATED_KINDS, RECURRING_KINDS, occurrence
from goodwill.domain.touchpoints import Derived, latest_anniversary
from goodwill.settings import Settings
from goodwill.store.at_risk import at_risk_page
from goodwill.store.base import as_utc
from goodwill.store.models import Client, ClientFact, Event, Invoice, Order

#: A touch point found by a scan: the client (if any), when it happened, what it is.
Found = tuple[int | None, datetime, Derived]


def birthdays(session: Session, settings: Settings, *, today: date) -> list[Found]:
    rows = session.execute(
        select(Client.id, Client.birthday_day, Client.birthday_month).where(
            Client.birthday_month == today.month
        )
    ).all()
    start = datetime.combine(today.replace(day=1), datetime.min.time())
    when = start.replace(tzinfo=settings.zone).astimezone(UTC)
    return [
        (
            cid,
            when,
            Derived(
                "client.birthday_month",
                f"scan:birthday/{cid}/{today.year}",
                {"birthday": f"{day} {today.strftime('%B')}", "day": day, "month": month},
            ),
        )
        for cid, day, month in rows
    ]


def anniversaries(session: Session, settings: Settings, *, today: date) -> list[Found]:
    first = (
        select(Order.client_id, func.min(Order.occurred_at).label("first"))
        .group_by(Order.client_id)
        .subquery()
    )
    rows = session.execute(
        select(Client.id, Client.client_since, first.c.first).outerjoin(
            first, first.c.client_id == Client.id
        )
    ).all()
    out: list[Found] = []
    for cid, since, first_purchase in rows:
        starts = [d for d in (since, _as_date(first_purchase, settings)) if d]
        if not starts:
            continue
        found = latest_anniversary(min(starts), today=today)
        if found is None or (today - found[1]).days > 7:
            continue
        years, when = found
        at = datetime.combine(when, datetime.min.time()).replace(tzinfo=settings.zone)
        out.append(
            (
                cid,
                at.astimezone(UTC),
                Derived(
                    "client.anniversary",
                    f"scan:anniversary/{cid}/{years}",
                    {"years": years, "since": min(starts).isoformat()},
                ),
            )
        )
    return out


def overdue_invoices(
    session: Session, settings: Settings, *, today: date, only_new: bool = True
) -> list[Found]:
    """One invoice.overdue per unpaid invoice past its due date, numbered by the client's late
    payments so far (paid late, then overdue in due-date order).

    ``only_new`` reads only the clients with an overdue invoice whose touch point is not stored
    yet (found on the due-date and key indexes), not every overdue invoice ever: the touch
    points it gives that are not stored are exactly those the full scan gives.
    """
    unpaid = and_(
        Invoice.paid_on.is_(None),
        Invoice.settled.is_(False),
        Invoice.due_on < today,
    )
    query = select(Invoice).where(unpaid)
    late_query = select(Invoice.client_id, func.count(Invoice.id)).where(
        Invoice.paid_on > Invoice.due_on
    )
    if only_new:
        key = literal_column("'scan:overdue/'", String) + Invoice.external_id
        stored = select(Event.id).where(Event.idempotency_key == key)
        waiting = select(Invoice.client_id).where(unpaid, ~stored.exists())
        query = query.where(Invoice.client_id.in_(waiting))
        late_query = late_query.where(Invoice.client_id.in_(waiting))
    overdue = list(session.execute(query).scalars())
    if not overdue:
        return []
    late_paid = dict(session.execute(late_query.group_by(Invoice.client_id)).all())
    out: list[Found] = []
    for invoice in sorted(overdue, key=lambda i: (i.client_id, i.due_on or date.min, i.id)):
        late_paid[invoice.client_id] = late_paid.get(invoice.client_id, 0) + 1
        due = invoice.due_on or today
        at = datetime.combine(due + timedelta(days=1), datetime.min.time())
        out.append(
            (
                invoice.client_id,
                at.replace(tzinfo=settings.zone).astimezone(UTC),
                Derived(
                    "invoice.overdue",
                    f"scan:overdue/{invoice.external_id}",
                    {
                        "invoice_id": invoice.external_id,
                        "due_date": due.isoformat(),
                        "n": late_paid[invoice.client_id],
                    },
                ),
            )
        )
    return out


def missed_purchases(session: Session, settings: Settings, *, today: date) -> list[Found]:
    """One purchase.missed per client (and category) per missed cycle of their rhythm.

    The rows are the At risk list's (store/at_risk.py): the rhythms the refit kept, read by due
    day, and the clients who bought since learned again, so the scan and the list agree and a
    daily pass reads no one's history but theirs."""
    out: list[Found] = []
    for miss in at_risk_page(session, settings, as_of=today).rows:
        began = datetime.combine(miss.became_overdue, datetime.min.time())
        what = miss.category or "*"
        out.append(
            (
                miss.client,
                began.replace(tzinfo=settings.zone).astimezone(UTC),
                Derived(
                    "purchase.missed",
                    f"scan:missed/{miss.client}/{what}/{miss.last_purchase}/{miss.cycle}",
                    {
                        "expected_at": miss.expected_at.isoformat(),
                        "days_overdue": miss.days_overdue,
                        "usual_interval_days": round(miss.usual_interval_days, 1),
                        "category": miss.category,
                        "cycle": miss.cycle,
                        "last_purchase": miss.last_purchase.isoformat(),
                        "revenue_at_risk": None
                        if miss.revenue_at_risk is None
                        else round(miss.revenue_at_risk, 2),
                    },
                ),
            )
        )
    return out


def _as_date(value: datetime | str | None, settings: Settings) -> date | None:
    if value is None:
        return None
    return as_utc(value).astimezone(settings.zone).date()


def life_events(session: Session, settings: Settings, *, today: date) -> list[Found]:
    """``client.life_event`` on the day of a dated fact (yearly for birthdays and anniversaries),
    caught up for a few days when the engine did not run on the day itself."""
    window = today - timedelta(days=CATCH_UP_DAYS)
    rows = session.execute(
        select(ClientFact).where(
            ClientFact.on_date.is_not(None),
            ClientFact.kind.in_(DATED_KINDS),
            (ClientFact.kind.in_(RECURRING_KINDS))
            | ((ClientFact.on_date >= window) & (ClientFact.on_date <= today)),
        )
    ).scalars()
    out: list[Found] = []
    for fact in rows:
        day = occurrence(fact.kind, fact.on_date, today=today)
        if day is None:
            continue
        at = datetime.combine(day, datetime.min.time()).replace(tzinfo=settings.zone)
        out.append(
            (
                fact.client_id,
                at.astimezone(UTC),
                Derived(
                    "client.life_event",
                    f"scan:life-event/{fact.id}/{day.isoformat()}",
                    {
                        "fact_id": fact.id,
                        "kind": fact.kind,
                        "text": fact.text,
                        "on_date": day.isoformat(),
                        "what": fact.text[:80],
                    },
                ),
            )
        )
    return out
