"""Several engine workers share one pass on PostgreSQL, by partition of the clients, and still
create each follow-up once; SQLite keeps one cursor per step and one writer."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.orm import Session, sessionmaker

from goodwill.engine import claims, worker
from goodwill.engine.configuration import calendar_for, playbook_for, run_pass
from goodwill.engine.passes import EnginePass, _scope
from goodwill.settings import load_settings
from goodwill.store.database import open_store
from goodwill.store.models import EngineCursor, Event
from tests.engine.test_workers import build, state
from tests.pgserver import PostgresServer

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)

#: A worker that stops for good in the middle of its first batch of the apply step, holding the
#: partition's lock with the batch's follow-ups written but not committed.
STALLED_WORKER = """
import sys, time
from datetime import datetime
from goodwill.engine.configuration import calendar_for, playbook_for
from goodwill.engine.passes import EnginePass, _scope
from goodwill.settings import load_settings
from goodwill.store.database import open_store

url = sys.argv[1]
settings = load_settings(database_url=url, environ={})

class Stalled(EnginePass):
    def _apply(self, session, events):
        super()._apply(session, events)
        session.flush()
        print("mid-batch", flush=True)
        time.sleep(600)

Stalled(open_store(url), settings, now=datetime.fromisoformat(sys.argv[2]),
        playbook=playbook_for(settings), calendar=calendar_for(settings)).run()
"""


def twin(server: PostgresServer, tmp: Path, name: str) -> str:
    """Another database with the same business and events."""
    url = server.create_database(f"{name}_{uuid.uuid4().hex[:8]}")
    (tmp / name).mkdir()
    build(url, tmp / name)
    return url


def one_worker(url: str) -> tuple[int, int, int, int]:
    run_pass(open_store(url), load_settings(database_url=url, environ={}), now=NOW)
    return state(url)


def together(url: str, workers: int) -> list[int]:
    """``workers`` passes started at the same instant on their own connections, each run as
    `goodwill worker` runs it (a step that fails, say on SQLite's write lock held past its
    busy timeout by the other worker's batch, is tried again); what each created."""
    start = threading.Barrier(workers)
    created: list[int] = []
    errors: list[BaseException] = []

    def work() -> None:
        store = open_store(url)
        settings = load_settings(database_url=url, environ={})
        engine = EnginePass(
            store,
            settings,
            now=NOW,
            playbook=playbook_for(settings),
            calendar=calendar_for(settings),
        )
        start.wait()
        try:
            outcome = worker.run_pass(
                store,
                engine.steps(),
                as_of=NOW,
                clock=lambda: NOW,
                sleep=time.sleep,
                backoff=worker.Backoff(first=0.2, cap=1.0, attempts=8),
            )
            assert not outcome.gave_up, outcome.gave_up
            created.append(engine.report.created)
        except BaseException as exc:  # reported by the test below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors, errors
    assert len(created) == workers
    return created


def last_event(url: str) -> int:
    with open_store(url)() as session:
        return int(
            session.execute(select(Event.id).order_by(Event.id.desc()).limit(1)).scalar_one()
        )


def cursors(url: str) -> dict[str, int]:
    with open_store(url)() as session:
        rows = session.execute(select(EngineCursor.name, EngineCursor.position)).all()
        return {str(name): int(position) for name, position in rows}


@pytest.mark.postgres
@pytest.mark.parametrize("workers", [2, 4])
def test_workers_sharing_a_pass_on_postgresql_create_each_follow_up_once(
    postgres_server: PostgresServer, tmp_path: Path, workers: int
) -> None:
    expected = one_worker(twin(postgres_server, tmp_path, "reference"))
    assert expected[0] == expected[1] > 0
    url = twin(postgres_server, tmp_path, "shared")
    created = together(url, workers)
    assert sum(created) == expected[0]
    assert state(url) == expected
    # every partition's cursor stands at or past the last event of its clients
    positions = cursors(url)
    applied = [positions[f"apply@{k}/{claims.PARTITIONS}"] for k in range(claims.PARTITIONS)]
    assert max(applied) == last_event(url) and min(applied) > 0


@pytest.mark.postgres
def test_a_worker_that_dies_mid_batch_leaves_the_batch_to_the_next(
    postgres_server: PostgresServer, tmp_path: Path
) -> None:
    expected = one_worker(twin(postgres_server, tmp_path, "reference"))
    url = twin(postgres_server, tmp_path, "shared")
    stalled = subprocess.Popen(
        [sys.executable, "-c", STALLED_WORKER, url, NOW.isoformat()],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    try:
        assert stalled.stdout is not None
        assert stalled.stdout.readline().strip() == "mid-batch"
        # it holds one apply partition: the others skip that row, and see none of its writes
        with open_store(url).begin() as session:
            free = claims.claim(
                session, "apply", range(claims.PARTITIONS), claims.PARTITIONS, now=NOW, wait=False
            )
            assert free is not None
        assert state(url)[0] < expected[0]
    finally:
        stalled.send_signal(signal.SIGKILL)
        stalled.wait(timeout=30)
    # its connection gone, its transaction is rolled back and the next pass does the batch
    one_worker(url)
    assert state(url) == expected


@pytest.mark.postgres
def test_a_held_partition_is_skipped_and_a_free_one_claimed(postgres_url: str) -> None:
    store = open_store(postgres_url)
    parts = claims.PARTITIONS
    with store.begin() as session:
        claims.ensure_cursors(session, "apply", parts, now=NOW)
    with store.begin() as holder:
        held = claims.claim(holder, "apply", [3, 5], parts, now=NOW, wait=False)
        assert held is not None and held[0] in (3, 5)
        with store.begin() as other:
            got = claims.claim(other, "apply", [3, 5], parts, now=NOW, wait=False)
            assert got is not None and got[0] == ({3, 5} - {held[0]}).pop()
            with store.begin() as third:
                assert claims.claim(third, "apply", [3, 5], parts, now=NOW, wait=False) is None


@pytest.mark.postgres
def test_free_partitions_are_claimed_several_at_once_and_held_ones_skipped(
    postgres_url: str,
) -> None:
    store = open_store(postgres_url)
    parts = claims.PARTITIONS
    with store.begin() as session:
        claims.ensure_cursors(session, "apply", parts, now=NOW)
    todo = [1, 2, 3, 4, 5]
    with store.begin() as holder:
        (held,) = claims.claim_several(holder, "apply", [2], parts, now=NOW, most=4)
        assert held == (2, 0)
        with store.begin() as other:
            got = claims.claim_several(other, "apply", todo, parts, now=NOW, most=3)
            assert len(got) == 3 and 2 not in {p for p, _ in got}
            with store.begin() as third:
                rest = claims.claim_several(third, "apply", todo, parts, now=NOW, most=9)
                assert {p for p, _ in rest} == set(todo) - {2} - {p for p, _ in got}
                with store.begin() as fourth:
                    assert claims.claim_several(fourth, "apply", todo, parts, now=NOW, most=9) == []


def test_the_next_claim_takes_as_many_partitions_as_fill_a_batch() -> None:
    assert claims.share_after(1, 2000, 2000, 16) == 1  # a full batch: one at a time
    assert claims.share_after(1, 250, 2000, 16) == 8  # an eighth of a batch each: eight
    assert claims.share_after(8, 250, 2000, 16) == 16  # lighter still: all, never more
    assert claims.share_after(4, 0, 2000, 16) == 16  # nothing new: all at once
    assert claims.share_after(2, 9000, 2000, 16) == 1  # never none


def test_a_group_of_partitions_reads_each_after_its_own_cursor(db_url: str, tmp_path: Path) -> None:
    """Partitions claimed together may stand at different events: each reads only what lies
    after its own cursor (on either store: the condition is plain SQL)."""
    build(db_url, tmp_path)
    with open_store(db_url)() as session:
        rows = session.execute(select(Event.id, Event.client_id)).all()
        ids = sorted(i for i, _ in rows)
        starts = {3: 0, 5: ids[len(ids) // 3], 7: ids[len(ids) // 3], 11: ids[len(ids) // 2]}
        read = session.execute(select(Event.id).where(_scope(starts, 16))).scalars().all()
    expected = {
        i for i, client in rows if (client or 0) % 16 in starts and i > starts[(client or 0) % 16]
    }
    assert expected and set(read) == expected


@pytest.mark.postgres
def test_a_lone_worker_reads_light_partitions_in_few_batches_and_each_event_once(
    postgres_server: PostgresServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = one_worker(twin(postgres_server, tmp_path, "reference"))
    url = twin(postgres_server, tmp_path, "grouped")
    claimed: list[tuple[str, int]] = []
    real = claims.claim_several

    def counted(session: Session, step: str, *args: Any, **kw: Any) -> list[tuple[int, int]]:
        got = real(session, step, *args, **kw)
        claimed.append((step, len(got)))
        return got

    monkeypatch.setattr(claims, "claim_several", counted)
    assert one_worker(url) == expected
    applied = [size for step, size in claimed if step == "apply"]
    # a partition at a time would be 16 batches and 16 more to move past the pass's own events
    assert max(applied) > 1 and len(applied) < claims.PARTITIONS
    positions = cursors(url)
    assert {positions[f"apply@{k}/{claims.PARTITIONS}"] for k in range(16)} == {last_event(url)}


@pytest.mark.postgres
def test_partition_cursors_start_where_the_single_cursor_stood(postgres_url: str) -> None:
    """A store that ran with one cursor per step does not read its whole log again."""
    store = open_store(postgres_url)
    with store.begin() as session:
        session.add(EngineCursor(name="apply", position=1234, updated_at=NOW))
    with store.begin() as session:
        claims.ensure_cursors(session, "apply", 4, now=NOW)
    assert cursors(postgres_url) == {
        "apply": 1234,
        **{f"apply@{k}/4": 1234 for k in range(4)},
    }


def test_sqlite_keeps_one_cursor_per_step(sqlite_url: str, tmp_path: Path) -> None:
    build(sqlite_url, tmp_path)
    one_worker(sqlite_url)
    names = set(cursors(sqlite_url))
    assert {"derive", "apply", "scan", "fits"} <= names
    assert not any("@" in name for name in names)


def test_two_workers_on_sqlite_take_turns_and_create_each_follow_up_once(
    sqlite_url: str, tmp_path: Path
) -> None:
    reference = f"sqlite:///{tmp_path / 'reference.db'}"
    (tmp_path / "ref").mkdir()
    build(reference, tmp_path / "ref")
    expected = one_worker(reference)
    build(sqlite_url, tmp_path)
    assert sum(together(sqlite_url, 2)) == expected[0]
    assert state(sqlite_url) == expected


def test_a_partition_is_read_from_the_index_of_the_log_by_partition(
    store: sessionmaker[Session],
) -> None:
    """Each worker's batch of one partition reads that partition's events from an index, not
    the whole log past its cursor: the index exists on PostgreSQL, and the condition the batches
    use is the very expression it is built on, with nothing bound in its place."""
    condition = claims.in_partition(3, claims.PARTITIONS)
    with store() as session:
        bind = session.get_bind()
        if bind.dialect.name != "postgresql":
            assert claims.partitions_for(session) == 1  # one cursor: no partitions to index
            assert "ix_events_partition" not in {
                i["name"] for i in inspect(bind).get_indexes("events")
            }
            return
        definition = session.execute(
            text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_events_partition'")
        ).scalar_one()
        batch = select(Event.id).where(condition, Event.id > 0).order_by(Event.id).limit(10)
        compiled = batch.compile(bind)
        cursor = session.connection().connection.cursor()
        cursor.execute(f"EXPLAIN {compiled}", compiled.params)  # the driver binds, as a batch
        plan = "\n".join(row[0] for row in cursor.fetchall())
        # A statement the driver prepares (from its sixth run) may be planned once for any
        # values: that generic plan, too, must read the index.
        sql, values = str(compiled), list(compiled.params.values())
        for number, name in enumerate(compiled.params, start=1):
            sql = sql.replace(f"%({name})s", f"${number}")
        sql = sql.replace("%%", "%")  # the driver's escape of a literal %
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        cursor.execute(f"PREPARE partition_batch AS {sql}")
        cursor.execute(f"EXPLAIN EXECUTE partition_batch({', '.join(map(repr, values))})")
        generic = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("DEALLOCATE partition_batch")
    assert f"((COALESCE(client_id, 0) % {claims.PARTITIONS})), id)" in definition
    assert "ix_events_partition" in plan, plan
    assert "$" in sql and "ix_events_partition" in generic, generic
