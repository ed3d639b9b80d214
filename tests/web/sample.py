"""A small business's history written straight into the store, shared by the web and browser tests.

Rows go in through the ORM models, the way an import would leave them: a client, their orders with
lines and channel, invoices and payments, personal facts, and one event per fact of the timeline.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from goodwill.store.client_figures import mark_orders_stale
from goodwill.store.models import (
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
from goodwill.store.staff import add_user

PASSWORD = "correct horse battery"
LONG_CLIENT = "C-0001"
LONG_CLIENT_NAME = "Margaret Holloway"
LONG_CLIENT_SINCE = date(2006, 3, 1)


def staff_user(
    session: Session,
    *,
    email: str = "owner@example.com",
    role: str = "owner",
    name: str = "Olive Owner",
    now: datetime,
) -> StaffUser:
    return add_user(session, email=email, name=name, role=role, password=PASSWORD, now=now)


def add_client(
    session: Session,
    *,
    external_id: str,
    name: str,
    now: datetime,
    email: str | None = None,
    since: date | None = None,
    phone: str | None = None,
    hometown: str | None = None,
    timezone: str | None = None,
    birthday: tuple[int, int, int | None] | None = None,
) -> Client:
    day, month, year = birthday or (None, None, None)
    client = Client(
        external_id=external_id,
        name=name,
        name_key=name.lower(),
        email=email,
        phone=phone,
        hometown=hometown,
        timezone=timezone,
        birthday_day=day,
        birthday_month=month,
        birthday_year=year,
        client_since=since,
        created_at=now,
        updated_at=now,
    )
    session.add(client)
    session.flush()
    return client


def _event(
    session: Session,
    client: Client,
    kind: str,
    external_id: str,
    at: datetime,
    payload: dict[str, object],
) -> None:
    session.add(
        Event(
            type=kind,
            client_id=client.id,
            occurred_at=at,
            recorded_at=at,
            source="sample",
            external_id=external_id,
            idempotency_key=f"sample:{kind}:{external_id}",
            payload=payload,
        )
    )


def partner(session: Session, name: str, *, now: datetime) -> Partner:
    found = session.execute(select(Partner).where(Partner.name == name)).scalar_one_or_none()
    if found is None:
        found = Partner(name=name, created_at=now)
        session.add(found)
        session.flush()
    return found


def add_purchase(
    session: Session,
    client: Client,
    *,
    order_id: str,
    at: datetime,
    amount_minor: int,
    product: str,
    currency: str = "USD",
    channel: str | None = None,
    quantity: int = 1,
    category: str | None = None,
) -> Order:
    via = partner(session, channel, now=at) if channel else None
    order = Order(
        external_id=order_id,
        client_id=client.id,
        occurred_at=at,
        currency=currency,
        amount_minor=amount_minor,
        partner_id=via.id if via else None,
    )
    session.add(order)
    session.flush()
    session.add(
        OrderLine(
            order_id=order.id,
            line_key="1",
            product=product,
            category=category,
            quantity=quantity,
            amount_minor=amount_minor,
        )
    )
    _event(session, client, "order.placed", order_id, at, {"order_id": order_id})
    mark_orders_stale(session, [order.id])  # as the import does: the client's figures refresh
    return order


def add_invoice(
    session: Session,
    client: Client,
    *,
    invoice_id: str,
    amount_minor: int,
    issued: date,
    due: date,
    paid: date | None,
    currency: str = "USD",
) -> Invoice:
    invoice = Invoice(
        external_id=invoice_id,
        client_id=client.id,
        currency=currency,
        amount_minor=amount_minor,
        issued_on=issued,
        due_on=due,
        paid_on=paid,
    )
    session.add(invoice)
    session.flush()
    _event(session, client, "invoice.issued", invoice_id, _noon(issued), {"invoice_id": invoice_id})
    if paid is not None:
        session.add(
            Payment(
                invoice_id=invoice.id, amount_minor=amount_minor, currency=currency, paid_on=paid
            )
        )
        _event(
            session,
            client,
            "payment.received",
            f"{invoice_id}/paid",
            _noon(paid),
            {"invoice_id": invoice_id, "days_late": max(0, (paid - due).days)},
        )
    return invoice


def add_fact(session: Session, client: Client, kind: str, text: str, *, now: datetime) -> None:
    session.add(
        ClientFact(client_id=client.id, kind=kind, text=text, recorded_at=now, source="sample")
    )


def _noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=UTC)


def long_standing_client(session: Session, *, now: datetime) -> Client:
    """Margaret: a client since March 2006 who buys every two months, through three channels."""
    client = add_client(
        session,
        external_id=LONG_CLIENT,
        name=LONG_CLIENT_NAME,
        now=now,
        email="margaret@holloway.example",
        since=LONG_CLIENT_SINCE,
        phone="+44 20 7946 0018",
        hometown="Leeds",
        timezone="Europe/London",
        birthday=(17, 5, 1961),
    )
    channels = [None, "Harbour Travel", "Web shop"]
    products = ["Linen shirt", "Wool coat", "Leather gloves", "Cashmere scarf", "Walking boots"]
    day = datetime(2006, 3, 1, 10, 30, tzinfo=UTC)
    number = 0
    while day < now - timedelta(days=20):
        number += 1
        add_purchase(
            session,
            client,
            order_id=f"O-1{number:04d}",
            at=day,
            amount_minor=8_000 + (number * 1_375) % 30_000,
            product=products[number % len(products)],
            channel=channels[number % len(channels)],
        )
        day += timedelta(days=61)
    add_invoice(
        session,
        client,
        invoice_id="INV-9001",
        amount_minor=42_000,
        issued=date(2025, 3, 1),
        due=date(2025, 3, 31),
        paid=date(2025, 4, 18),
    )
    add_invoice(
        session,
        client,
        invoice_id="INV-9002",
        amount_minor=38_500,
        issued=date(2026, 6, 1),
        due=date(2026, 7, 1),
        paid=date(2026, 7, 20),
    )
    add_invoice(
        session,
        client,
        invoice_id="INV-9003",
        amount_minor=12_000,
        issued=date(2026, 9, 1),
        due=date(2026, 10, 1),
        paid=date(2026, 9, 28),
    )
    add_fact(session, client, "interest", "sailing", now=now)
    add_fact(session, client, "interest", "birdwatching", now=now)
    add_fact(
        session,
        client,
        "value",
        "Being on time matters: it moves six figures of our daily cash flow.",
        now=now,
    )
    add_fact(session, client, "family", "Daughter Ellen graduated in June 2025.", now=now)
    add_fact(session, client, "note", "Prefers a call before 10 am UK time.", now=now)
    return client


FIRST = [
    "Aiko",
    "Bram",
    "Carmen",
    "Dev",
    "Elena",
    "Farid",
    "Greta",
    "Hugo",
    "Ines",
    "Jonas",
    "Kamala",
    "Luis",
    "Mei",
    "Nils",
    "Olga",
    "Pavel",
    "Quinn",
    "Rosa",
    "Samir",
    "Tove",
    "Ugo",
    "Vera",
    "Wen",
    "Ximena",
    "Yusuf",
    "Zora",
    "Anton",
    "Beatriz",
    "Colm",
    "Dagny",
    "Emeka",
    "Fleur",
    "Goran",
    "Hana",
    "Ivo",
]
LAST = [
    "Tanaka",
    "de Vries",
    "Ortega",
    "Patel",
    "Rossi",
    "Haddad",
    "Lindqvist",
    "Moreau",
    "Silva",
    "Becker",
    "Harris",
    "Navarro",
    "Chen",
    "Karlsson",
    "Ivanova",
    "Novak",
    "Byrne",
    "Romero",
    "Aziz",
    "Berg",
    "Conti",
    "Fischer",
    "Li",
    "Cruz",
    "Demir",
    "Horvat",
    "Weber",
    "Costa",
    "Walsh",
    "Aas",
    "Okafor",
    "Dubois",
    "Petrov",
    "Sato",
    "Kovac",
]


def sample_business(session: Session, *, now: datetime, clients: int = 35) -> Client:
    """Margaret plus ``clients`` others (regulars, leads, former clients); returns Margaret."""
    rng = random.Random(20061)
    margaret = long_standing_client(session, now=now)
    for i in range(clients):
        first, last = FIRST[i % len(FIRST)], LAST[(i * 8) % len(LAST)]
        name = f"{first} {last}"
        email = f"{first}.{last}".lower().replace(" ", "") + "@example.com"
        client = add_client(
            session,
            external_id=f"C-{i + 2:04d}",
            name=name,
            now=now,
            email=email,
            hometown=rng.choice([None, "Porto", "Lyon", "Graz"]),
        )
        if i % 9 == 4:
            continue  # a lead: no purchase yet
        end = now - timedelta(days=rng.randint(3, 150))
        if i % 8 == 7:
            end = now - timedelta(days=rng.randint(800, 1_500))  # stopped buying long ago
        start = end - timedelta(days=rng.randint(120, 4_200))
        count = rng.randint(2, 14)
        step = (end - start) / (count - 1)
        for n in range(count):
            add_purchase(
                session,
                client,
                order_id=f"O-{i + 2:03d}-{n:02d}",
                at=start + n * step,
                amount_minor=rng.randint(15, 600) * 100,
                product=rng.choice(["Linen shirt", "Rain jacket", "Gift card", "Boots"]),
                channel=rng.choice([None, None, "Web shop", "Harbour Travel"]),
            )
        if i % 5 == 0:
            issued = (now - timedelta(days=80)).date()
            add_invoice(
                session,
                client,
                invoice_id=f"INV-{i + 2:04d}",
                amount_minor=15_000,
                issued=issued,
                due=issued + timedelta(days=30),
                paid=issued + timedelta(days=45 if i % 10 == 0 else 20),
            )
    return margaret
