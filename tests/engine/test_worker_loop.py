"""The worker survives what used to stop it: a step that raises, a locked database, a transient
PostgreSQL error. The failure is recorded and shown (dashboard, /healthz), the other steps run,
the failed step is tried again after a back-off and catches up; a pass that died is never shown as
the last run. Steps are data, so a test hands the loop a step that fails."""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from goodwill.domain.records import FileKind
from goodwill.engine.configuration import calendar_for, playbook_for
from goodwill.engine.passes import EnginePass
from goodwill.engine.worker import Backoff, Step, Worker, mail_steps, run_pass
from goodwill.errors import ConfigError
from goodwill.store.models import EngineRun, FollowUp, WorkerFailure
from goodwill.store.worker_runs import worker_health
from goodwill.web import create_app
from tests.engine.conftest import World
from tests.web.conftest import log_in
from tests.web.sample import staff_user

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # a Monday
PURCHASES = "order_id,client_id,occurred_at,amount,product\n" + "".join(
    f"X{i},C{i},2026-11-{10 + i % 10},{20 + i},Cup\n" for i in range(12)
)


class Flaky:
    """A step's action that raises ``error`` the first ``times`` calls, then does ``then``."""

    def __init__(
        self, error: Exception, *, times: int = 1, then: Callable[[], object] | None = None
    ) -> None:
        self.error, self.times, self.then = error, times, then
        self.calls = 0

    def __call__(self) -> dict[str, int] | None:
        self.calls += 1
        if self.calls <= self.times:
            raise self.error
        done = self.then() if self.then is not None else None
        return done if isinstance(done, dict) else {"done": 1}


def flaky(step: Step, error: Exception | None = None) -> tuple[Step, Flaky]:
    action = Flaky(error or RuntimeError(f"{step.name} broke"), then=step.run)
    return dataclasses.replace(step, run=action), action


def fixed(at: datetime) -> Callable[[], datetime]:
    return lambda: at


@pytest.fixture
def web(world: World) -> Iterator[TestClient]:
    settings = dataclasses.replace(world.settings, secret_key="test-signing-key")
    with world.store.begin() as session:
        staff_user(session, now=NOW)
    app = create_app(settings, clock=fixed(NOW + timedelta(minutes=5)))
    with TestClient(app, follow_redirects=False) as client:
        yield client


def engine_steps(
    world: World, now: datetime, store: sessionmaker[Session] | None = None
) -> list[Step]:
    store = store or world.store
    engine = EnginePass(
        store,
        world.settings,
        now=now,
        playbook=playbook_for(world.settings),
        calendar=calendar_for(world.settings),
    )
    return [*engine.steps(), *mail_steps(store, world.settings, now=now)]


def open_followups(store: sessionmaker[Session]) -> int:
    with store() as session:
        return session.execute(
            select(func.count(FollowUp.id)).where(FollowUp.status == "open")
        ).scalar_one()


def test_a_step_that_raises_once_is_retried_after_a_back_off_while_the_others_run(
    store: sessionmaker[Session],
) -> None:
    ran: list[str] = []
    broken = Flaky(RuntimeError("the disk hiccuped"), then=lambda: ran.append("middle"))
    steps = [
        Step("first", lambda: ran.append("first") and None),
        Step("middle", broken),
        Step("last", lambda: ran.append("last") and None),
    ]
    slept: list[float] = []
    outcome = run_pass(store, steps, as_of=NOW, clock=fixed(NOW), sleep=slept.append)
    assert ran == ["first", "last", "middle"]  # the others did not wait for the failed one
    assert slept == [Backoff().first]
    assert [(f.step, f.error, f.message, f.attempt, f.gave_up) for f in outcome.failures] == [
        ("middle", "RuntimeError", "the disk hiccuped", 1, False)
    ]
    assert outcome.gave_up == [] and outcome.counts == {"middle": {"done": 1}}
    with store() as session:
        health = worker_health(session)
    assert health.last_completed == NOW and health.failing == []
    assert [(f.step, f.message) for f in health.recent] == [("middle", "the disk hiccuped")]


def test_the_back_off_grows_to_a_cap_and_a_step_that_keeps_failing_waits_for_the_next_pass(
    store: sessionmaker[Session],
) -> None:
    broken = Flaky(ValueError("no"), times=5)
    slept: list[float] = []
    backoff = Backoff(first=1, factor=3, cap=5, attempts=4)
    outcome = run_pass(
        store,
        [Step("stuck", broken)],
        as_of=NOW,
        clock=fixed(NOW),
        sleep=slept.append,
        backoff=backoff,
    )
    assert slept == [1, 3, 5] and broken.calls == 4
    assert [f.attempt for f in outcome.failures] == [1, 2, 3, 4]
    assert [f.step for f in outcome.gave_up] == ["stuck"]
    later = NOW + timedelta(minutes=1)
    run_pass(store, [Step("stuck", broken)], as_of=later, clock=fixed(later), sleep=slept.append)
    assert broken.calls == 6  # tried again in the next pass, and it worked there
    with store() as session:
        health = worker_health(session)
        assert session.execute(select(func.count(WorkerFailure.id))).scalar_one() == 5
    assert health.last_completed == later and health.failing == []


def test_the_worker_survives_a_failure_in_every_step_and_does_the_work(world: World) -> None:
    world.staff("olivia@shop.example", "owner", NOW)
    world.load(FileKind.PURCHASES, PURCHASES, NOW)
    broken: dict[str, Flaky] = {}

    def plan(now: datetime) -> list[Step]:
        steps = []
        for step in engine_steps(world, now):
            wrapped, action = flaky(step)
            broken.setdefault(step.name, action)
            steps.append(wrapped if broken[step.name] is action else step)
        return steps

    slept: list[float] = []
    outcomes = []
    worker = Worker(
        world.store,
        plan,
        clock=fixed(NOW),
        sleep=slept.append,
        interval=60,
        on_pass=lambda _now, outcome: outcomes.append(outcome),
    )
    assert worker.run(passes=2) == 2
    assert set(broken) == {
        *("derive", "figures", "scan", "refit", "apply", "touches", "digest", "insights"),
        "mail: unread",
    }
    assert all(action.calls == 2 for action in broken.values())  # failed once, then did its work
    assert open_followups(world.store) == 12
    assert slept == [Backoff().first, 60]  # one back-off in the first pass, then the interval
    assert sorted(f.step for f in outcomes[0].failures) == sorted(broken)
    assert outcomes[0].gave_up == [] and outcomes[1].failures == []
    with world.store() as session:
        runs = session.execute(select(EngineRun).order_by(EngineRun.id)).scalars().all()
        assert [r.finished_at for r in runs] == [NOW, NOW]
        assert runs[0].counts["apply"]["created"] == 12
        rows = session.execute(select(WorkerFailure)).scalars().all()
        assert {(r.step, r.run_id, r.error, r.attempt) for r in rows} == {
            (name, runs[0].id, "RuntimeError", 1) for name in broken
        }


def test_a_failed_step_is_shown_on_healthz_and_the_dashboard(world: World, web: TestClient) -> None:
    stuck = Step("mail: imap", Flaky(OSError("connection refused"), times=99))
    run_pass(world.store, [stuck], as_of=NOW, clock=fixed(NOW), sleep=lambda _s: None)
    health = web.get("/healthz")
    assert health.status_code == 200
    body = health.json()
    assert body["status"] == "ok"
    worker = body["worker"]
    assert worker["last_completed_pass"] == NOW.isoformat()
    assert worker["minutes_since_completed"] == 5 and worker["stale"] is False
    assert [(f["step"], f["error"], f["message"], f["attempt"]) for f in worker["failing"]] == [
        ("mail: imap", "OSError", "connection refused", 4)
    ]
    assert len(worker["recent_failures"]) == 4
    strict = web.get("/healthz", params={"worker_within": 10})
    assert strict.status_code == 503 and strict.json()["status"] == "degraded"
    assert web.get("/healthz", params={"worker_within": 0}).status_code == 422
    assert log_in(web).status_code == 303
    page = web.get("/today").text
    assert "Engine last ran <strong>5 minutes ago</strong>" in page
    failing = page.split('id="engine-failing"', 1)[1].split("</ul>", 1)[0]
    assert "<strong>mail: imap</strong> failed 5 minutes ago" in failing
    assert "OSError: connection refused" in failing
    fine = NOW + timedelta(minutes=4)
    run_pass(
        world.store,
        [Step("mail: imap", lambda: None)],
        as_of=fine,
        clock=fixed(fine),
        sleep=lambda _s: None,
    )
    assert web.get("/healthz", params={"worker_within": 10}).status_code == 200
    assert 'id="engine-failing"' not in web.get("/today").text


def test_a_pass_that_did_not_finish_is_not_shown_as_the_last_run(
    world: World, web: TestClient
) -> None:
    run_pass(
        world.store,
        [Step("derive", lambda: None)],
        as_of=NOW,
        clock=fixed(NOW),
        sleep=lambda _s: None,
    )
    later = NOW + timedelta(minutes=3)
    with pytest.raises(ConfigError, match="no such mailbox"):
        run_pass(
            world.store,
            [Step("mail: imap", Flaky(ConfigError("mail.imap_host: no such mailbox"), times=9))],
            as_of=later,
            clock=fixed(later),
            sleep=lambda _s: pytest.fail("a configuration error is not retried"),
        )
    with world.store() as session:
        health = worker_health(session)
    assert health.last_completed == NOW and health.last_started == later
    assert [(f.step, f.error) for f in health.recent] == [("mail: imap", "ConfigError")]
    worker = web.get("/healthz").json()["worker"]
    assert worker["last_completed_pass"] == NOW.isoformat()
    assert worker["last_started_pass"] == later.isoformat()
    assert log_in(web).status_code == 303
    assert "Engine last ran <strong>5 minutes ago</strong>" in web.get("/today").text


def test_an_engine_pass_that_crashed_half_way_is_not_the_last_run(world: World) -> None:
    world.staff("olivia@shop.example", "owner", NOW)
    world.load(FileKind.PURCHASES, PURCHASES, NOW)
    engine = world.engine(NOW)
    engine._refit = Flaky(MemoryError("out of memory"), times=1)  # type: ignore[method-assign]
    with pytest.raises(MemoryError):
        engine.run()
    with world.store() as session:
        health = worker_health(session)
    assert health.last_completed is None and health.last_started == NOW


def short_waits(url: str) -> sessionmaker[Session]:
    """A store whose writes give up on a lock after a fraction of a second, not 30 s."""
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite"):
        engine = create_engine(parsed, connect_args={"timeout": 0.2})
    else:
        engine = create_engine(
            parsed.set(drivername="postgresql+psycopg"),
            connect_args={"options": "-c lock_timeout=200"},
        )
    return sessionmaker(engine, expire_on_commit=False)


class Blocker:
    """Another connection holding the lock the engine's cursors need, until released."""

    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        self.sqlite = parsed.drivername.startswith("sqlite")
        if self.sqlite:
            self.conn: sqlite3.Connection | psycopg.Connection = sqlite3.connect(
                str(parsed.database), isolation_level=None
            )
            self.conn.execute("BEGIN IMMEDIATE")  # the write lock: every other writer waits
        else:
            self.conn = psycopg.connect(
                parsed.set(drivername="postgresql").render_as_string(hide_password=False)
            )
            self.conn.execute("LOCK TABLE engine_cursors IN ACCESS EXCLUSIVE MODE")
        self.released_after: float | None = None

    def release(self, seconds: float) -> None:
        if self.released_after is None:
            self.released_after = seconds
            self.conn.rollback() if not self.sqlite else self.conn.execute("ROLLBACK")
        self.conn.close()


def test_a_locked_database_fails_the_steps_which_catch_up_once_the_lock_is_gone(
    world: World, db_url: str
) -> None:
    world.staff("olivia@shop.example", "owner", NOW)
    world.load(FileKind.PURCHASES, PURCHASES, NOW)
    store = short_waits(db_url)
    blocker = Blocker(db_url)
    try:
        outcome = run_pass(
            store,
            engine_steps(world, NOW, store),
            as_of=NOW,
            clock=fixed(NOW),
            sleep=blocker.release,
        )
    finally:
        blocker.release(0)
    assert blocker.released_after == Backoff().first
    failed = {f.step for f in outcome.failures}
    assert {"derive", "scan", "apply"} <= failed and outcome.gave_up == []
    expected = "database is locked" if blocker.sqlite else "canceling statement due to lock timeout"
    assert all(f.error == "OperationalError" for f in outcome.failures)
    assert {f.message for f in outcome.failures} == {expected}
    assert open_followups(store) == 12
    with store() as session:
        health = worker_health(session)
        stored = session.execute(select(WorkerFailure.step, WorkerFailure.run_id)).all()
    assert health.last_completed == NOW and health.failing == []
    # on SQLite the failures could not be written while the lock was held: written at the end
    assert sorted(step for step, _ in stored) == sorted(f.step for f in outcome.failures)
    assert {run for _, run in stored} == {outcome.run_id}
