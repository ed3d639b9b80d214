"""The insights page's answer is remembered until its data changes: every kind of change that
can move a series moves :func:`data_version`, and reading it takes no scan of a large table."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from goodwill.settings import Settings
from goodwill.store.insights import data_version
from goodwill.store.insights_cache import cached_insights
from goodwill.store.mail_models import Conversation
from goodwill.store.models import FollowUp, ImportRun, Incident, Invoice
from tests.store.insights_data import AS_OF, ZONE, seed, utc
from tests.store.plans import plan_of, recorded

LATER = utc(2026, 11, 25, 13)


def _started(session: Session) -> None:
    """The hand-worked business, its invoice I2 (due 20 Nov, unpaid) stored without its due
    date, and an import of invoices under way."""
    seed(session)
    session.execute(update(Invoice).where(Invoice.external_id == "I2").values(due_on=None))
    _run(session)


def _run(session: Session, **values: Any) -> ImportRun:
    run = ImportRun(
        kind="payments",
        file_name="invoices.csv",
        sha256="0" * 64,
        started_at=LATER,
        counts={},
        status="running",
        **values,
    )
    session.add(run)
    return run


def _followup_done(session: Session) -> None:
    session.execute(
        update(FollowUp)
        .where(FollowUp.status == "open")
        .values(status="done", open_reason=None, closed_at=LATER, updated_at=LATER)
    )


def _import_finished(session: Session) -> None:
    """The import filled in I2's due date and finished: no new row anywhere but the run's."""
    run = session.scalars(select(ImportRun)).one()
    due = date(2026, 11, 20)
    session.execute(update(Invoice).where(Invoice.external_id == "I2").values(due_on=due))
    run.finished_at, run.status = LATER, "done"


def _import_undone(session: Session) -> None:
    run = session.scalars(select(ImportRun)).one()
    run.undone_at, run.status = LATER, "undone"


def _incident_closed(session: Session) -> None:
    session.execute(update(Incident).where(Incident.status == "open").values(closed_at=LATER))


def _conversation_answered(session: Session) -> None:
    conversation = session.scalars(select(Conversation).order_by(Conversation.id)).first()
    assert conversation is not None
    conversation.last_message_at = LATER


CHANGES: list[Callable[[Session], None]] = [
    _followup_done,
    _import_finished,
    _import_undone,
    _incident_closed,
    _conversation_answered,
]


def test_each_kind_of_change_moves_the_version(store: sessionmaker[Session]) -> None:
    with store.begin() as session:
        _started(session)
    with store() as session:
        seen = [data_version(session)]
    for change in CHANGES:
        with store.begin() as session:
            change(session)
        with store() as session:
            version = data_version(session)
        assert version not in seen, change.__name__
        seen.append(version)


def test_an_invoice_changed_by_an_import_shows_once_the_import_finishes(
    store: sessionmaker[Session], settings: Settings
) -> None:
    amsterdam = dataclasses.replace(settings, timezone=ZONE)
    with store.begin() as session:
        _started(session)
    with store() as session:
        before = cached_insights(session, amsterdam, as_of=AS_OF, weeks=4)
    assert list(before.series["late_payments"]) == [1, 0, 0, 0]
    with store.begin() as session:
        _import_finished(session)  # I2, unpaid, is late from 21 Nov (week 2)
    with store() as session:
        after = cached_insights(session, amsterdam, as_of=AS_OF, weeks=4)
    assert list(after.series["late_payments"]) == [1, 0, 1, 0]


@pytest.mark.postgres
def test_the_version_reads_no_large_table_whole(postgres_url: str) -> None:
    """With sequential scans priced out, a table read whole means an index is missing."""
    from goodwill.store.database import open_store

    store = open_store(postgres_url)
    with store.begin() as session:
        seed(session)
        with recorded(session) as seen:
            data_version(session)
        plan = plan_of(session, *seen[-1])
    for table in ("events", "orders", "invoices", "payments", "followups", "conversations"):
        assert f"Seq Scan on {table}" not in plan, plan
