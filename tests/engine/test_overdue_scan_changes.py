"""The overdue-invoice scan reads only clients with an invoice not yet flagged, and flags
exactly what a scan of every overdue invoice would."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from goodwill.engine.scans import Found, overdue_invoices
from goodwill.settings import Settings
from goodwill.store.ingest import insert_new
from goodwill.store.models import Client, Event, Invoice, Payment
from tests.web.sample import add_client, add_invoice

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TODAY = NOW.date()

#: An invoice: (client 0-3, due this many days from today, paid this many days after due or
#: None for unpaid, settled by a credit note).
invoices = st.lists(
    st.tuples(
        st.integers(0, 3),
        st.integers(-40, 10),
        st.one_of(st.none(), st.integers(-5, 20)),
        st.booleans(),
    ),
    max_size=12,
)


def _new(session: Session, found: list[Found]) -> dict[str, tuple[int | None, datetime, dict]]:
    keys = [d.key for _, _, d in found]
    stored = set(
        session.execute(select(Event.idempotency_key).where(Event.idempotency_key.in_(keys)))
        .scalars()
        .all()
    )
    return {d.key: (c, at, d.payload) for c, at, d in found if d.key not in stored}


def _record(session: Session, found: list[Found], *, now: datetime) -> None:
    rows = [
        {
            "type": d.type,
            "client_id": c,
            "occurred_at": at,
            "recorded_at": now,
            "source": "engine",
            "external_id": d.key,
            "idempotency_key": d.key,
            "payload": d.payload,
        }
        for c, at, d in found
    ]
    insert_new(session, Event, rows, ["idempotency_key"])


@hypothesis_settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(first=invoices, later=invoices, days=st.integers(1, 20), paying=st.sets(st.integers(0, 11)))
def test_the_scan_of_what_changed_flags_what_a_full_scan_flags(
    store: sessionmaker[Session],
    settings: Settings,
    first: list[tuple[int, int, int | None, bool]],
    later: list[tuple[int, int, int | None, bool]],
    days: int,
    paying: set[int],
) -> None:
    with store.begin() as session:
        for table in (Event, Payment, Invoice, Client):
            session.execute(delete(table))
        clients = [
            add_client(session, external_id=f"C{k}", name=f"Client {k}", now=NOW) for k in range(4)
        ]

    def add(session: Session, rows: list[tuple[int, int, int | None, bool]], tag: str) -> None:
        for i, (who, due_in, paid_after, settled) in enumerate(rows):
            due = TODAY + timedelta(days=due_in)
            paid = None if paid_after is None else min(due + timedelta(days=paid_after), TODAY)
            invoice = add_invoice(
                session,
                clients[who],
                invoice_id=f"{tag}{i}",
                amount_minor=1000,
                issued=due - timedelta(days=30),
                due=due,
                paid=paid,
            )
            invoice.settled = settled and paid is None

    def scan(today: date, now: datetime) -> None:
        with store.begin() as session:
            full = overdue_invoices(session, settings, today=today, only_new=False)
            changed = overdue_invoices(session, settings, today=today)
            assert _new(session, changed) == _new(session, full)
            _record(session, changed, now=now)
            assert _new(session, full) == {}

    with store.begin() as session:
        add(session, first, "A")
    scan(TODAY, NOW)
    with store.begin() as session:
        add(session, later, "B")
        unpaid = session.execute(
            select(Invoice).where(Invoice.paid_on.is_(None)).order_by(Invoice.id)
        ).scalars()
        for n, invoice in enumerate(unpaid):
            if n in paying:
                invoice.paid_on = TODAY + timedelta(days=days // 2)
    scan(TODAY + timedelta(days=days), NOW + timedelta(days=days))


def test_an_invoice_already_flagged_is_not_read_again(
    store: sessionmaker[Session], settings: Settings
) -> None:
    with store.begin() as session:
        client = add_client(session, external_id="C1", name="Client", now=NOW)
        add_invoice(
            session,
            client,
            invoice_id="INV-1",
            amount_minor=5000,
            issued=TODAY - timedelta(days=40),
            due=TODAY - timedelta(days=10),
            paid=None,
        )
        found = overdue_invoices(session, settings, today=TODAY)
        assert [d.key for _, _, d in found] == ["scan:overdue/INV-1"]
        _record(session, found, now=NOW)
        assert overdue_invoices(session, settings, today=TODAY) == []
        assert len(overdue_invoices(session, settings, today=TODAY, only_new=False)) == 1
