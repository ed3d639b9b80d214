"""The missed-purchase scan reads the rhythms the refit keeps (the At risk list's rows), not every
client's history, and finds the misses the whole history gives (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from goodwill.engine.scans import missed_purchases
from goodwill.settings import Settings
from goodwill.store.at_risk import at_risk_page
from goodwill.store.cadence import OverdueClient, overdue_clients
from goodwill.store.rhythm_models import OVERALL, RhythmRow, RhythmSnapshot
from tests.conftest import NOW
from tests.web.rhythms import more_stopped, rhythm_business
from tests.web.touchpoints import run_engine

TODAY = NOW.date()


def _key(miss: OverdueClient) -> str:
    what = miss.category or "*"
    return f"scan:missed/{miss.client}/{what}/{miss.last_purchase}/{miss.cycle}"


def _business(store: sessionmaker[Session], settings: Settings) -> None:
    with store.begin() as session:
        rhythm_business(session, now=NOW)
        more_stopped(session, now=NOW)
    run_engine(store, settings, now=NOW)  # refits, and keeps every client's rhythm


def test_the_scan_finds_on_any_later_day_the_misses_the_whole_history_gives(
    store: sessionmaker[Session], settings: Settings
) -> None:
    _business(store, settings)
    with store() as session:
        assert session.get(RhythmSnapshot, 1) is not None
        for shift in (0, 10, 45):
            day = TODAY + timedelta(days=shift)
            found = missed_purchases(session, settings, today=day)
            full = overdue_clients(session, settings, as_of=day)
            assert [d.key for _, _, d in found] == [_key(m) for m in full]
            assert all(d.type == "purchase.missed" for _, _, d in found)
            assert len(found) >= 10 if shift == 0 else found


def test_the_scan_follows_the_kept_rhythms(
    store: sessionmaker[Session], settings: Settings
) -> None:
    """Moving one kept rhythm's due day moves the scan's finding with it: the scan reads the
    kept rows (and so agrees with the At risk list the team sees)."""
    _business(store, settings)
    with store() as session:
        before = {d.key for _, _, d in missed_purchases(session, settings, today=TODAY)}
        listed = at_risk_page(session, settings, as_of=TODAY).rows
    first = next(m for m in listed if m.category is None)
    with store.begin() as session:
        session.execute(
            update(RhythmRow)
            .where(RhythmRow.client_id == first.client, RhythmRow.category == OVERALL)
            .values(  # as a refit would write it: its open due day moves with it
                due_by_day=RhythmRow.due_by_day + 10_000,
                open_due_day=RhythmRow.due_by_day + 10_000,
            )
        )
    with store() as session:
        after = {d.key for _, _, d in missed_purchases(session, settings, today=TODAY)}
        kept = session.execute(select(RhythmRow.id)).all()
    assert kept and _key(first) in before
    assert _key(first) not in after
    assert before - after == {_key(first)}
