"""The At risk list read from the rhythms the refit keeps equals the list computed from the whole
history: the same rows in the same order, page by page, with the same counts (SQLite and
PostgreSQL)."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session, sessionmaker

from goodwill.settings import Settings
from goodwill.store import at_risk
from goodwill.store.at_risk import at_risk_page, keep_rhythms
from goodwill.store.cadence import overdue_clients
from goodwill.store.models import Client
from goodwill.store.rhythm_models import RhythmRow, RhythmSnapshot
from goodwill.store.week_grid import epoch_sql
from tests.conftest import NOW
from tests.store.plans import plan_of, recorded
from tests.web.rhythms import STOPPED, more_stopped, rhythm_business
from tests.web.sample import add_purchase
from tests.web.touchpoints import run_engine

TODAY = NOW.date()


def _business(store: sessionmaker[Session], settings: Settings, *, engine: bool = True) -> None:
    with store.begin() as session:
        rhythm_business(session, now=NOW)
        more_stopped(session, now=NOW)
    if engine:
        run_engine(store, settings, now=NOW)


def _same(
    session: Session, settings: Settings, *, day: object, lapsed: bool, kept: bool = True
) -> int:
    """Assert the page equals the computed list on ``day``; the number of rows."""
    full = overdue_clients(session, settings, as_of=day, include_lapsed=lapsed)  # type: ignore[arg-type]
    found = at_risk_page(session, settings, as_of=day, include_lapsed=lapsed)  # type: ignore[arg-type]
    assert (found.kept_on == TODAY) is kept
    assert [r.as_dict() for r in found.rows] == [r.as_dict() for r in full]
    overall = [r for r in full if r.category is None]
    known = [r.revenue_at_risk for r in overall if r.revenue_at_risk is not None]
    assert found.count == len(full) and found.clients == len(overall)
    assert found.total == (pytest.approx(sum(known)) if known else None)
    return len(full)


def test_the_kept_rhythms_list_the_rows_the_history_gives_on_any_day(
    store: sessionmaker[Session], settings: Settings
) -> None:
    _business(store, settings)
    with store() as session:
        sizes = [
            _same(session, settings, day=TODAY + timedelta(days=shift), lapsed=lapsed)
            for shift in (-90, 0, 45)
            for lapsed in (False, True)
        ]
    assert sizes[2] >= 10 and sizes[3] > sizes[2]  # today: the stopped regulars, more lapsed


def test_pages_of_the_list_join_up_to_the_whole_list(
    store: sessionmaker[Session], settings: Settings
) -> None:
    _business(store, settings)
    with store() as session:
        full = overdue_clients(session, settings, as_of=TODAY, include_lapsed=True)
        pages = [
            at_risk_page(session, settings, as_of=TODAY, include_lapsed=True, limit=4, offset=at)
            for at in range(0, len(full) + 4, 4)
        ]
    assert [len(p.rows) for p in pages][-1] == 0
    assert [r.as_dict() for p in pages for r in p.rows] == [r.as_dict() for r in full]
    assert {p.count for p in pages} == {len(full)}


def test_before_the_first_refit_the_list_is_computed_from_the_history(
    store: sessionmaker[Session], settings: Settings
) -> None:
    _business(store, settings, engine=False)
    with store() as session:
        assert _same(session, settings, day=TODAY, lapsed=False, kept=False) >= 10


def test_rhythms_kept_under_other_settings_are_not_used(
    store: sessionmaker[Session], settings: Settings
) -> None:
    _business(store, settings)
    stricter = dataclasses.replace(settings, cadence={**settings.cadence, "level": 0.99})
    with store() as session:
        _same(session, stricter, day=TODAY, lapsed=False, kept=False)


def test_a_purchase_since_the_refit_takes_the_client_off_the_list_at_once(
    store: sessionmaker[Session], settings: Settings
) -> None:
    _business(store, settings)
    with store() as session:
        before = at_risk_page(session, settings, as_of=TODAY)
    assert before.rows[0].client_id == STOPPED
    with store.begin() as session:
        nora = session.query(Client).filter_by(external_id=STOPPED).one()
        add_purchase(
            session,
            nora,
            order_id="back-again",
            at=NOW - timedelta(hours=2),
            amount_minor=24_000,
            product="Beans",
            currency="EUR",
        )
    with store() as session:
        after = at_risk_page(session, settings, as_of=TODAY)
        computed = overdue_clients(session, settings, as_of=TODAY)
    assert after.kept_on == TODAY
    assert STOPPED not in {r.client_id for r in after.rows}
    assert [r.client_id for r in after.rows] == [r.client_id for r in computed]
    assert after.count == before.count - 1 and after.clients == before.clients - 1


def test_rhythms_kept_before_any_purchase_are_not_used(
    store: sessionmaker[Session], settings: Settings
) -> None:
    with store.begin() as session:
        assert keep_rhythms(session, settings, today=TODAY, now=NOW) == 0
    _business(store, settings, engine=False)
    with store() as session:
        assert _same(session, settings, day=TODAY, lapsed=False, kept=False) >= 10


def test_without_a_refit_the_rhythms_of_the_clients_who_bought_since_are_kept_again(
    store: sessionmaker[Session], settings: Settings
) -> None:
    """The engine keeps what a read would learn again, so the list reads kept rows alone."""
    _business(store, settings)
    with store.begin() as session:
        assert keep_rhythms(session, settings, today=TODAY, now=NOW, refitted=False) == 0
        nora = session.query(Client).filter_by(external_id=STOPPED).one()
        add_purchase(
            session,
            nora,
            order_id="back-again",
            at=NOW - timedelta(hours=2),
            amount_minor=24_000,
            product="Beans",
            currency="EUR",
        )
    with store() as session:
        read = at_risk_page(session, settings, as_of=TODAY)  # Nora learned again on the read
        kept_rows = session.scalar(select(func.count(RhythmRow.id)))
    with store.begin() as session:
        written = keep_rhythms(session, settings, today=TODAY, now=NOW, refitted=False)
        snapshot = session.get(RhythmSnapshot, 1)
        assert snapshot is not None and at_risk._changed_since(session, snapshot) == []
        assert session.scalar(select(func.count(RhythmRow.id))) == kept_rows
    assert written >= 1
    with store() as session:
        after = at_risk_page(session, settings, as_of=TODAY)
    assert STOPPED not in {r.client_id for r in after.rows}
    assert [r.as_dict() for r in after.rows] == [r.as_dict() for r in read.rows]
    assert (after.count, after.clients, after.total) == (read.count, read.clients, read.total)


def _flags(session: Session) -> tuple[int, object, object]:
    snapshot = session.get(RhythmSnapshot, 1)
    assert snapshot is not None
    flagged = session.scalar(
        select(func.count(RhythmRow.id)).where(RhythmRow.open_due_day.is_(None))
    )
    return int(flagged or 0), snapshot.lapsed_on, snapshot.lapsed_cycles


def test_the_rows_lapsed_by_the_engines_day_are_flagged_and_the_list_still_agrees(
    store: sessionmaker[Session], settings: Settings
) -> None:
    """The flags only narrow what a page reads: on the day they are set, on later days, and on
    earlier days (where they are not used) the list equals the one computed from the history."""
    _business(store, settings)
    later = TODAY + timedelta(days=45)
    with store() as session:
        flagged, on, cycles = _flags(session)
    assert flagged >= 1 and on == TODAY and cycles == settings.cadence["max_cycles"]
    run_engine(store, settings, now=NOW + timedelta(days=45))  # the engine's day moves on
    with store() as session:
        more, on, _ = _flags(session)
        assert more > flagged and on == later
        for day in (later, later + timedelta(days=30), TODAY):
            for lapsed in (False, True):
                _same(session, settings, day=day, lapsed=lapsed, kept=False)


def test_flags_set_under_another_max_cycles_are_not_used_and_are_set_again(
    store: sessionmaker[Session], settings: Settings
) -> None:
    _business(store, settings)
    patient = dataclasses.replace(settings, cadence={**settings.cadence, "max_cycles": 6})
    with store() as session:
        before, _, _ = _flags(session)
        stopped = _same(session, patient, day=TODAY, lapsed=False)  # the flags are not used
    with store.begin() as session:
        at_risk.keep_lapsed(session, patient, today=TODAY)
    with store() as session:
        after, on, cycles = _flags(session)
        assert (on, cycles) == (TODAY, 6) and after < before
        assert _same(session, patient, day=TODAY, lapsed=False) == stopped
    with store.begin() as session:  # an engine pass for an earlier day leaves the flags be
        assert at_risk.keep_lapsed(session, patient, today=TODAY - timedelta(days=1)) == 0
        assert _flags(session) == (after, TODAY, 6)


def test_the_list_reads_the_rows_not_flagged_down_their_index(
    store: sessionmaker[Session], settings: Settings
) -> None:
    _business(store, settings)
    with store.begin() as session:  # a long history: many rows due long ago, long lapsed
        clients = list(session.scalars(select(Client.id)))
        old = [
            {
                "client_id": clients[i % len(clients)],
                "category": f"gone {i}",
                "last_day": 18_000,
                "expected_day": 18_030,
                "due_by_day": 18_040,
                "usual_interval": 30.0,
                "mean_value": 10.0,
                "year_value": 121.75,
                "open_due_day": None,
            }
            for i in range(20_000)
        ]
        session.execute(insert(RhythmRow), old)
        session.execute(text("ANALYZE rhythm_rows"))
    with store() as session:
        with recorded(session) as seen:
            at_risk_page(session, settings, as_of=TODAY, limit=20)
        plans = [plan_of(session, s, p) for s, p in seen if "FROM rhythm_rows" in s]
    assert len(plans) == 2  # the page and its counts
    for plan in plans:
        assert "ix_rhythm_rows_open_due" in plan, plan


def test_an_engine_pass_that_refits_reads_the_whole_purchase_history_once(
    store: sessionmaker[Session], settings: Settings
) -> None:
    """The models and the rhythms learn from the same orders in one transaction: a million
    clients' ten million orders are read once, not once for each."""
    _business(store, settings, engine=False)
    with store() as session:
        postgres = session.get_bind().dialect.name == "postgresql"
        whole = epoch_sql("orders.occurred_at", postgres=postgres)
        for now in (NOW, NOW + timedelta(days=8)):  # the first fit; a week-old fit is refitted
            with recorded(session) as seen:
                run_engine(store, settings, now=now)
            reads = [s for s, _ in seen if whole in s and "order_lines" not in s]
            snapshot = session.get(RhythmSnapshot, 1)
            assert snapshot is not None and snapshot.as_of == now.date()  # rhythms kept
            assert len([s for s in reads if "WHERE" not in s]) == 1
            session.expire_all()
