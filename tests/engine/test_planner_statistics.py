"""After a big import or a first pass, PostgreSQL's planner knows the rows just written (it
plans joins over them as hashes, not as nested loops over a table it thinks is empty), without
waiting for autovacuum; small writes and SQLite are left alone."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from goodwill.domain.records import FileKind
from goodwill.store.models import Client, Event
from goodwill.store.statistics import GROWN, refresh_statistics, stale_tables
from tests.engine.conftest import World

NOW = datetime.fromisoformat("2026-11-30T12:00:00+00:00")
CLIENTS = "client_id,name,email\n"
PURCHASES = "order_id,client_id,occurred_at,amount,product\n"


def _known(world: World, table: str) -> float | None:
    """The rows PostgreSQL's statistics hold for ``table`` (-1: never analysed); None on SQLite."""
    with world.store() as session:
        if session.get_bind().dialect.name != "postgresql":
            return None
        return float(
            session.execute(
                text("SELECT reltuples FROM pg_class WHERE relname = :t"), {"t": table}
            ).scalar_one()
        )


def _count(world: World, column) -> int:
    with world.store() as session:
        return int(session.execute(select(func.count(column))).scalar_one())


def test_tables_are_stale_from_a_thousand_rows_and_a_tenth_of_what_is_known() -> None:
    written = {"clients": GROWN, "orders": GROWN - 1, "events": 5_000, "payments": 20_000}
    known = {"clients": -1.0, "orders": -1.0, "events": 60_000.0, "payments": 150_000.0}
    assert stale_tables(known, written) == ["clients", "payments"]
    assert stale_tables({}, {"invoices": GROWN}) == ["invoices"]  # never seen: stale


def test_a_big_import_and_the_first_pass_leave_the_planner_knowing_their_rows(
    world: World,
) -> None:
    clients = GROWN + 200
    world.load(
        FileKind.CLIENTS,
        CLIENTS + "".join(f"C{i},Client {i},c{i}@example.com\n" for i in range(clients)),
        NOW,
    )
    # A small import after it: a few rows never cost an ANALYZE.
    world.load(FileKind.CLIENTS, CLIENTS + "X1,Late Comer,late@example.com\n", NOW)
    assert _count(world, Client.id) == clients + 1
    assert _known(world, "clients") in (None, clients)  # the late comer is not counted
    start = NOW - timedelta(days=400)
    orders = "".join(
        f"O{i},C{i % clients},{(start + timedelta(hours=7 * i)).isoformat()},25.00,Beans\n"
        for i in range(clients)
    )
    world.load(FileKind.PURCHASES, PURCHASES + orders, NOW)
    if _known(world, "events") is None:  # SQLite: nothing to refresh, and nothing breaks
        assert world.run(NOW).derived >= clients
        return
    imported_events = _count(world, Event.id)
    assert _known(world, "events") == imported_events

    report = world.run(NOW)
    assert report.derived >= clients  # a first purchase each, at least
    assert _count(world, Event.id) > imported_events
    # Analysed after the derive step: its touch points are known (a scan adds a few after).
    assert imported_events + clients <= (_known(world, "events") or 0) <= _count(world, Event.id)
    assert _known(world, "client_figures") == clients


def test_statistics_that_must_wait_are_left_to_autovacuum_and_the_work_goes_on(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """A maintenance job holding the table (as VACUUM does) makes the ANALYZE give up after
    LOCK_WAIT, logged, instead of holding the import or the pass behind it."""
    if _known(world, "clients") is None:
        assert refresh_statistics(world.store, {"clients": GROWN * 10}) == []  # SQLite: nothing
        return
    world.load(
        FileKind.CLIENTS,
        CLIENTS + "".join(f"C{i},Client {i},c{i}@example.com\n" for i in range(50)),
        NOW,
    )
    with world.store() as holder:
        holder.execute(text("LOCK TABLE clients IN SHARE UPDATE EXCLUSIVE MODE"))
        with caplog.at_level(logging.WARNING, logger="goodwill.store.statistics"):
            assert refresh_statistics(world.store, {"clients": GROWN * 10}) == []
        holder.rollback()
    assert "left to autovacuum" in caplog.text and "lock timeout" in caplog.text
    assert refresh_statistics(world.store, {"clients": GROWN * 10}) == ["clients"]
    assert _known(world, "clients") == 50
