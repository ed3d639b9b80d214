"""The store's writes of client memory: versions, request keys, audit entries and the import
path for sales and payments; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from goodwill.domain.audit import Actor
from goodwill.domain.facts import check_fact, check_interaction
from goodwill.errors import Conflict, InvalidInput
from goodwill.settings import Settings
from goodwill.store import counter, memory
from goodwill.store.models import AuditEntry, Event, Invoice, Order, Payment
from goodwill.store.queries import find_client
from tests.conftest import NOW
from tests.web.sample import LONG_CLIENT, sample_business, staff_user

CLI = Actor.cli("tests")


@pytest.fixture
def seeded(store: sessionmaker[Session]) -> sessionmaker[Session]:
    with store.begin() as session:
        staff_user(session, now=NOW)
        staff_user(session, email="anna@example.com", role="staff", name="Anna Staff", now=NOW)
        sample_business(session, now=NOW, clients=3)
    return store


def test_a_stale_fact_edit_is_refused_with_what_changed_and_nothing_moves(
    seeded: sessionmaker[Session],
) -> None:
    with seeded.begin() as session:
        client = find_client(session, LONG_CLIENT)
        anna = memory.Author.of(session, CLI, by="anna@example.com")
        assert anna.name == "Anna Staff"
        fact, created = memory.add_fact(
            session, client, check_fact("value", "On time"), author=anna, actor=CLI,
            source="cli", now=NOW,
        )  # fmt: skip
        assert created and fact.version == 1 and fact.author == "Anna Staff"
        again, created = memory.add_fact(
            session, client, check_fact("value", "On time"), author=anna, actor=CLI,
            source="cli", now=NOW,
        )  # fmt: skip
        assert not created and again.id == fact.id
        memory.edit_fact(
            session, client, fact.id, version=1, text="On time, always", actor=CLI, now=NOW
        )
    with seeded.begin() as session:
        client = find_client(session, LONG_CLIENT)
        with pytest.raises(Conflict) as stale:
            memory.edit_fact(session, client, fact.id, version=1, text="Cheap", actor=CLI, now=NOW)
        assert stale.value.fields["version"] == 2
        [change] = stale.value.fields["changes"]  # type: ignore[misc]
        assert change["field"] == "text" and change["before"] == "On time"
        assert change["after"] == "On time, always" and change["who"] == "command line (tests)"
    with seeded() as session:
        entries = (
            session.execute(
                select(AuditEntry).where(AuditEntry.object_type == "fact").order_by(AuditEntry.id)
            )
            .scalars()
            .all()
        )
        assert [e.action for e in entries] == ["fact.added", "fact.edited"]
        assert entries[1].before == {"text": "On time", "version": 1}
        assert (
            session.execute(
                select(func.count()).select_from(Event).where(Event.type == "fact.added")
            ).scalar_one()
            == 1
        )


def test_an_unknown_author_is_named_and_a_note_or_a_call_is_written_once_per_key(
    seeded: sessionmaker[Session],
) -> None:
    with seeded.begin() as session:
        with pytest.raises(InvalidInput) as unknown:
            memory.Author.of(session, CLI, by="nobody@example.com")
        assert unknown.value.fields["field"] == "by"
        assert memory.Author.of(session, CLI).name == "command line (tests)"
        client = find_client(session, LONG_CLIENT)
        author = memory.Author(None, "Till")
        for _ in range(2):
            memory.add_note(
                session, client, "Pays by transfer", author=author, actor=CLI, source="cli",
                now=NOW, key="note-1",
            )  # fmt: skip
            memory.log_interaction(
                session, client, check_interaction("visit", "Came in", None), author=author,
                actor=CLI, source="cli", now=NOW, key="visit-1",
            )  # fmt: skip
        with pytest.raises(Conflict):
            memory.add_note(
                session, client, "Other", author=author, actor=CLI, source="cli", now=NOW,
                key="visit-1",
            )  # fmt: skip
        with pytest.raises(InvalidInput) as future:
            memory.log_interaction(
                session, client, check_interaction("call", "Will call", None),
                occurred_at=NOW + timedelta(days=1), author=author, actor=CLI, source="cli",
                now=NOW,
            )  # fmt: skip
        assert future.value.fields["field"] == "occurred_at"
    with seeded() as session:
        types = session.execute(
            select(Event.type, func.count()).where(Event.source == "cli").group_by(Event.type)
        ).all()
        assert dict(types) == {"note.added": 1, "service.interaction": 1}


def test_a_sale_and_a_payment_are_written_through_the_import_path_once(
    seeded: sessionmaker[Session], settings: Settings
) -> None:
    with seeded.begin() as session:
        client = find_client(session, LONG_CLIENT)
        author = memory.Author(None, "Till")
        first = counter.record_sale(
            session, settings, client, amount="20", items=["Socks = 20"], author=author,
            actor=CLI, source="cli", now=NOW, key="s1", served_by="anna@example.com",
        )  # fmt: skip
        again = counter.record_sale(
            session, settings, client, amount="20", author=author, actor=CLI, source="cli",
            now=NOW, key="s1",
        )  # fmt: skip
        assert first.created and not again.created and first.id == again.id
        with pytest.raises(InvalidInput) as nobody:
            counter.record_sale(
                session, settings, client, amount="5", served_by="ghost@example.com",
                author=author, actor=CLI, source="cli", now=NOW,
            )  # fmt: skip
        assert nobody.value.fields["field"] == "served_by"
        session.add(
            Invoice(
                external_id="INV-9", client_id=client.id, currency="EUR", amount_minor=4000,
                issued_on=NOW.date() - timedelta(days=40), due_on=NOW.date() - timedelta(days=10),
            )
        )  # fmt: skip
        session.flush()
        with pytest.raises(InvalidInput) as wrong:
            counter.record_payment(
                session, settings, client, amount="39", invoice="INV-9", author=author,
                actor=CLI, source="cli", now=NOW,
            )  # fmt: skip
        assert wrong.value.fields["field"] == "amount"
        paid = counter.record_payment(
            session, settings, client, amount=None, invoice="INV-9", author=author, actor=CLI,
            source="cli", now=NOW,
        )  # fmt: skip
        assert paid.created
        with pytest.raises(Conflict):
            counter.record_payment(
                session, settings, client, amount=None, invoice="INV-9", author=author,
                actor=CLI, source="cli", now=NOW,
            )  # fmt: skip
    with seeded() as session:
        order = session.execute(select(Order).where(Order.external_id == "counter/s1")).scalar_one()
        assert order.served_by_id is not None
        invoice = session.execute(
            select(Invoice).where(Invoice.external_id == "INV-9")
        ).scalar_one()
        assert invoice.paid_on == NOW.date()
        assert (
            session.execute(
                select(func.count()).select_from(Payment).where(Payment.invoice_id == invoice.id)
            ).scalar_one()
            == 1
        )
        received = session.execute(
            select(Event).where(Event.type == "payment.received", Event.source == "cli")
        ).scalar_one()
        assert received.payload["days_late"] == 10 and received.payload["by"] == "Till"
