"""Steps side by side: on PostgreSQL a pass runs a step beside the one running once the steps it
needs have finished (the derive step beside the refit, the scan and the figures); every other
step still follows all before it, a failure beside another is retried, and each step's counts
are its own."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

from goodwill.domain.records import FileKind
from goodwill.engine.passes import BESIDE_DERIVE
from goodwill.engine.worker import Step, lanes_for, run_pass
from goodwill.errors import ConfigError
from tests.engine.conftest import World

NOW = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)
WAIT = 10.0  # seconds a step waits for another before the test fails (never, when it works)
NOTHING = frozenset[str]()


def fixed(at: datetime) -> Callable[[], datetime]:
    return lambda: at


def test_sqlite_runs_one_step_at_a_time_and_postgresql_two() -> None:
    assert lanes_for(sessionmaker(bind=create_engine("sqlite://"))) == 1
    # Making an engine does not connect: no server is needed to ask its dialect.
    postgres = create_engine("postgresql+psycopg://goodwill@127.0.0.1:1/none")
    assert lanes_for(sessionmaker(bind=postgres)) == 2
    # A pool of one connection (the `database` setting) cannot hold two steps' transactions.
    single = create_engine(postgres.url, pool_size=1, max_overflow=0)
    assert lanes_for(sessionmaker(bind=single)) == 1


def test_steps_that_need_nothing_of_each_other_run_side_by_side(
    store: sessionmaker[Session],
) -> None:
    # Each waits for the other to have started: only possible side by side.
    started = {"a": threading.Event(), "b": threading.Event()}

    def meet(me: str, other: str) -> Callable[[], dict[str, int]]:
        def run() -> dict[str, int]:
            started[me].set()
            return {"met": int(started[other].wait(WAIT))}

        return run

    steps = [Step("a", meet("a", "b")), Step("b", meet("b", "a"), NOTHING)]
    outcome = run_pass(store, steps, as_of=NOW, clock=fixed(NOW), sleep=lambda _: None, lanes=2)
    assert outcome.failures == []
    assert outcome.counts == {"a": {"met": 1}, "b": {"met": 1}}


def test_a_step_starts_once_the_steps_it_needs_have_finished(store: sessionmaker[Session]) -> None:
    finished: set[str] = set()
    seen: dict[str, set[str]] = {}
    a_started, b_done = threading.Event(), threading.Event()

    def a() -> None:
        seen["a"] = set(finished)
        a_started.set()
        b_done.wait(WAIT)  # ends only after b, which runs beside it
        finished.add("a")

    def b() -> None:
        a_started.wait(WAIT)
        seen["b"] = set(finished)
        finished.add("b")
        b_done.set()

    def then(name: str) -> Callable[[], None]:
        def run() -> None:
            seen[name] = set(finished)
            finished.add(name)

        return run

    steps = [
        Step("a", a),
        Step("b", b, NOTHING),
        Step("c", then("c")),  # needs every step before it
        Step("d", then("d"), frozenset({"c"})),
    ]
    outcome = run_pass(store, steps, as_of=NOW, clock=fixed(NOW), sleep=lambda _: None, lanes=2)
    assert outcome.failures == []
    assert seen["a"] == set() and seen["b"] == set()
    assert seen["c"] == {"a", "b"} and seen["d"] == {"a", "b", "c"}


def test_a_step_failing_beside_another_is_retried_and_the_other_keeps_its_counts(
    store: sessionmaker[Session],
) -> None:
    calls = {"a": 0}

    def a() -> dict[str, int]:
        calls["a"] += 1
        if calls["a"] == 1:
            raise RuntimeError("the disk hiccuped")
        return {"done": 1}

    slept: list[float] = []
    steps = [Step("a", a), Step("b", lambda: {"done": 2}, NOTHING)]
    outcome = run_pass(store, steps, as_of=NOW, clock=fixed(NOW), sleep=slept.append, lanes=2)
    assert calls["a"] == 2 and len(slept) == 1
    assert outcome.counts == {"a": {"done": 1}, "b": {"done": 2}}
    assert [(f.step, f.message, f.gave_up) for f in outcome.failures] == [
        ("a", "the disk hiccuped", False)
    ]


def test_a_configuration_error_stops_the_pass_once_the_step_beside_it_finished(
    store: sessionmaker[Session],
) -> None:
    raised, b_done = threading.Event(), threading.Event()

    def a() -> None:
        raised.set()
        raise ConfigError("mail.smtp_host is not a host name")

    def b() -> None:
        raised.wait(WAIT)
        b_done.set()

    steps = [Step("a", a), Step("b", b, NOTHING), Step("c", lambda: {"never": 1})]
    with pytest.raises(ConfigError, match="smtp_host"):
        run_pass(store, steps, as_of=NOW, clock=fixed(NOW), sleep=lambda _: None, lanes=2)
    assert b_done.is_set()  # not left writing after the pass stopped


CLIENTS = "client_id,name,email,birthday\n" + "".join(
    f"C{i},Client {i},c{i}@example.com,1980-12-{10 + i}\n" for i in range(3)
)
PURCHASES = "order_id,client_id,occurred_at,amount,product\n" + "".join(
    f"O{i}{n},C{i},2026-0{n + 1}-05,{20 + i},Cup\n" for i in range(3) for n in range(3)
)


@pytest.mark.parametrize("lanes", [1, 2])
def test_each_step_of_an_engine_pass_counts_its_own_work_side_by_side_or_not(
    world: World, lanes: int
) -> None:
    world.staff("olivia@shop.example", "owner", NOW)
    world.load(FileKind.CLIENTS, CLIENTS, NOW)
    world.load(FileKind.PURCHASES, PURCHASES, NOW)
    engine = world.engine(NOW)
    steps = engine.steps()
    assert {s.name: s.needs for s in steps if s.needs is not None} == BESIDE_DERIVE
    outcome = run_pass(
        world.store, steps, as_of=NOW, clock=fixed(NOW), sleep=lambda _: None, lanes=lanes
    )
    assert outcome.failures == []
    # Three clients with three orders each (a first and two repeats), and three birthdays in
    # December found by the scan while the derive step may still be writing.
    assert outcome.counts["derive"] == {"derived": 9}
    assert outcome.counts["scan"] == {"derived": 3, "scanned": 3}
    assert engine.report.derived == 12 and engine.report.scanned == 3
    assert outcome.counts["apply"]["created"] == engine.report.created > 0
