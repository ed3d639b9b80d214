"""The worker loop: passes of named steps, each isolated, retried with back-off, recorded.

A pass is a list of steps (data: the engine's derive, refit, scan, apply and digest, then the
mail duties), each a function that opens its own short sessions. A step that raises is logged
(step, run id, attempt, error class; never client data), recorded as a ``WorkerFailure`` and tried
again after a back-off (``Backoff``: exponential, capped, a bounded number of attempts per pass)
once the other steps have run; a step still failing is given up until the next pass. Only a
``ConfigError`` (a missing or invalid setting) stops the worker: retrying cannot fix it and a
supervisor should show it. The pass is recorded as started before its first step and as
completed after its last, so a pass that died is never shown as the last run.

Steps run in order, one at a time, unless the pass has more than one lane (``lanes_for``:
PostgreSQL): then a step whose ``needs`` (the steps it must follow; every earlier one unless it
says otherwise) have finished starts beside the one running, in a thread of its own. The
engine's derive step, which waits on the database writing the touch points, runs so beside
the refit, the scan and the figures, which compute in Python. SQLite has one lane: one writer.

Time and sleep are injected: the clock stamps the records, ``sleep`` waits between attempts and
between passes (tests pass one that returns at once).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from goodwill.errors import ConfigError
from goodwill.settings import Settings
from goodwill.store.worker_runs import (
    StepFailure,
    describe_error,
    finish_run,
    record_failures,
    start_run,
)

log = logging.getLogger(__name__)

Counts = Mapping[str, int]
Clock = Callable[[], datetime]
Sleep = Callable[[float], None]


@dataclass(frozen=True)
class Step:
    """One named duty of a pass; ``run`` returns counts worth reporting, or None.

    ``needs``: the names of the earlier steps it must follow (None: every earlier step). A
    step needs only what it reads of their work: it may run beside the others."""

    name: str
    run: Callable[[], Counts | None]
    needs: frozenset[str] | None = None


def lanes_for(store: sessionmaker[Session]) -> int:
    """How many steps of a pass may run at once: two on PostgreSQL (one step waits on the
    server while another computes), one on SQLite (one writer; the steps compute in this
    process, where a second thread would only wait for the first); one where the ``database``
    setting's pool holds a single connection."""
    bind = store.kw.get("bind")
    if bind is None or bind.dialect.name != "postgresql":
        return 1
    pool, overflow = bind.pool, getattr(bind.pool, "_max_overflow", -1)  # -1: no limit
    room = pool.size() + overflow if hasattr(pool, "size") and overflow >= 0 else 2
    return min(2, room)


@dataclass(frozen=True)
class Backoff:
    """Waits between attempts at a failing step: ``first`` seconds, times ``factor`` each time,
    at most ``cap``; a pass makes at most ``attempts`` attempts at a step."""

    first: float = 2.0
    factor: float = 2.0
    cap: float = 60.0
    attempts: int = 4

    def delay(self, attempt: int) -> float:
        """Seconds to wait after the ``attempt``-th failure (1-based)."""
        return float(min(self.cap, self.first * self.factor ** max(0, attempt - 1)))


@dataclass
class PassOutcome:
    run_id: int | None
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    failures: list[StepFailure] = field(default_factory=list)

    @property
    def gave_up(self) -> list[StepFailure]:
        """The last failure of each step this pass gave up on."""
        return [f for f in self.failures if f.gave_up]


class _Record:
    """One pass's rows; every write is its own short transaction and none may stop the pass
    (a locked or unreachable database is exactly what the worker must survive)."""

    def __init__(self, store: sessionmaker[Session], *, as_of: datetime) -> None:
        self.store, self.as_of = store, as_of
        self.run_id: int | None = None
        self.pending: list[StepFailure] = []

    def _write(self, what: str, action: Callable[[Session], Any]) -> bool:
        try:
            with self.store.begin() as session:
                action(session)
        except SQLAlchemyError as exc:
            log.warning(
                "could not record %s (run %s): %s: %s", what, self.run_id, *describe_error(exc)
            )
            return False
        return True

    def start(self) -> None:
        def write(session: Session) -> None:
            self.run_id = start_run(session, as_of=self.as_of)

        self._write("the pass's start", write)

    def failed(self, failure: StepFailure) -> None:
        self.pending.append(failure)
        if self.run_id is not None:  # else written with the run's row when the pass completes
            self.flush()

    def flush(self) -> None:
        if self.pending and self._write(
            "a step's failure", lambda s: record_failures(s, self.run_id, self.pending)
        ):
            self.pending = []

    def finish(self, *, at: datetime, counts: Mapping[str, Any]) -> None:
        def write(session: Session) -> None:
            self.run_id = finish_run(session, self.run_id, as_of=self.as_of, at=at, counts=counts)
            record_failures(session, self.run_id, self.pending)

        if self._write("the pass's completion", write):
            self.pending = []


def run_pass(
    store: sessionmaker[Session],
    steps: Sequence[Step],
    *,
    as_of: datetime,
    clock: Clock,
    sleep: Sleep,
    backoff: Backoff | None = None,
    stopping: Callable[[], bool] = lambda: False,
    lanes: int | None = None,
) -> PassOutcome:
    """Run ``steps`` in order as one recorded pass; see the module docstring.

    A step that fails is tried again, after the others, up to ``backoff.attempts`` times, with
    ``sleep(backoff.delay(n))`` before the n+1-th attempt. Raises only ``ConfigError`` (after
    recording it, and once the steps running beside it finished; the pass then stays
    unfinished). ``lanes``: how many steps may run at once (None: ``lanes_for(store)``).
    """
    lanes = lanes_for(store) if lanes is None else lanes
    backoff = backoff or Backoff()
    record = _Record(store, as_of=as_of)
    record.start()
    outcome = PassOutcome(run_id=record.run_id)
    todo = list(steps)
    for attempt in range(1, backoff.attempts + 1):
        if attempt > 1:
            if not todo or stopping():
                break
            sleep(backoff.delay(attempt - 1))
        failed: list[Step] = []
        with closing(run_steps(todo, lanes)) as finished:
            for step, counts, exc in finished:
                if exc is None:
                    if counts:
                        outcome.counts[step.name] = {k: int(v) for k, v in counts.items()}
                    continue
                error, message = describe_error(exc)
                last = attempt == backoff.attempts or isinstance(exc, ConfigError)
                failure = StepFailure(step.name, clock(), error, message, attempt, gave_up=last)
                outcome.failures.append(failure)
                record.failed(failure)
                if isinstance(exc, ConfigError):  # the caller reports it (the CLI: one line)
                    record.flush()
                    raise exc
                log.warning(
                    "step %s failed (run %s, attempt %d of %d): %s: %s%s",
                    step.name,
                    record.run_id,
                    attempt,
                    backoff.attempts,
                    error,
                    message,
                    "; given up until the next pass"
                    if last
                    else f"; trying again in {backoff.delay(attempt):g} s",
                )
                log.debug("step %s traceback", step.name, exc_info=exc)
                failed.append(step)
        todo = failed
    if todo and stopping():  # stopped before the last attempt: these steps were given up
        for step in todo:
            last_failure = next(f for f in reversed(outcome.failures) if f.step == step.name)
            if not last_failure.gave_up:
                outcome.failures.append(_given_up(last_failure))
                record.failed(outcome.failures[-1])
    record.finish(at=clock(), counts=outcome.counts)
    outcome.run_id = record.run_id
    done = "completed" if not outcome.gave_up else "completed with steps given up"
    log.info("pass %s as of %s %s: %s", record.run_id, as_of.isoformat(), done, outcome.counts)
    return outcome


def _attempt(step: Step) -> tuple[Counts | None, Exception | None]:
    try:
        return step.run(), None
    except Exception as exc:  # the caller records it and tries the step again
        return None, exc


def run_steps(
    steps: Sequence[Step], lanes: int
) -> Generator[tuple[Step, Counts | None, Exception | None], None, None]:
    """Each step's outcome (counts, or the exception it raised) as it finishes: one after
    another, or up to ``lanes`` at once, a step starting once the earlier steps it needs (of
    these: a step tried again does not wait for steps that already succeeded) have finished.
    Closed early, it waits for the steps running."""
    if lanes <= 1:
        for step in steps:
            yield step, *_attempt(step)
        return
    position = {step.name: i for i, step in enumerate(steps)}
    needs: dict[str, set[str]] = {}
    for i, step in enumerate(steps):
        earlier = {s.name for s in steps[:i]}
        needs[step.name] = earlier if step.needs is None else earlier & step.needs
    waiting, finished = list(steps), set[str]()
    running: dict[Future[tuple[Counts | None, Exception | None]], Step] = {}
    # The first waiting step is always ready once nothing runs: every step it could need came
    # before it and has finished.
    with ThreadPoolExecutor(lanes, thread_name_prefix="pass-step") as pool:
        while waiting or running:
            for step in list(waiting):
                if len(running) < lanes and needs[step.name] <= finished:
                    running[pool.submit(_attempt, step)] = step
                    waiting.remove(step)
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in sorted(done, key=lambda f: position[running[f].name]):
                step = running.pop(future)
                finished.add(step.name)
                yield step, *future.result()


def _given_up(failure: StepFailure) -> StepFailure:
    return StepFailure(
        failure.step, failure.at, failure.error, failure.message, failure.attempt, gave_up=True
    )


class Worker:
    """Passes every ``interval`` seconds until ``stopping()`` or ``passes`` have run.

    ``plan(now)`` gives the steps of the pass as of ``now``; ``on_pass`` sees each outcome.
    """

    def __init__(
        self,
        store: sessionmaker[Session],
        plan: Callable[[datetime], Sequence[Step]],
        *,
        clock: Clock,
        sleep: Sleep,
        interval: float,
        backoff: Backoff | None = None,
        stopping: Callable[[], bool] = lambda: False,
        on_pass: Callable[[datetime, PassOutcome], None] | None = None,
    ) -> None:
        self.store, self.plan, self.clock, self.sleep = store, plan, clock, sleep
        self.interval, self.backoff, self.stopping = interval, backoff or Backoff(), stopping
        self.on_pass = on_pass

    def run(self, *, passes: int | None = None) -> int:
        """Run passes; returns how many. A ``ConfigError`` in a step stops it (raised)."""
        done = 0
        while not self.stopping():
            now = self.clock()
            outcome = run_pass(
                self.store,
                self.plan(now),
                as_of=now,
                clock=self.clock,
                sleep=self.sleep,
                backoff=self.backoff,
                stopping=self.stopping,
            )
            done += 1
            if self.on_pass is not None:
                self.on_pass(now, outcome)
            if passes is not None and done >= passes:
                break
            if not self.stopping():
                self.sleep(self.interval)
        return done


def mail_steps(store: sessionmaker[Session], settings: Settings, *, now: datetime) -> list[Step]:
    """The mail duties of a pass: read messages kept but not yet read, fetch what the configured
    IMAP mailbox or Maildir received, then send what the outbox holds."""
    from goodwill.actions.inbox import read_stored
    from goodwill.mail.imap import poll_imap
    from goodwill.mail.maildir import maildir_path, poll_maildir
    from goodwill.mail.outbound import deliver_due

    def clock() -> datetime:
        return now

    mail = settings.mail
    steps = [Step("mail: unread", lambda: {"read": read_stored(store, settings, now=now)})]
    if mail.get("imap_host"):
        steps.append(Step("mail: imap", lambda: poll_imap(store, settings, clock=clock).as_dict()))
    if mail.get("maildir"):

        def maildir() -> Counts:
            folder = maildir_path(settings)
            return poll_maildir(store, settings, folder, clock=clock).as_dict()

        steps.append(Step("mail: maildir", maildir))
    if mail.get("smtp_host") or settings.webhooks:
        steps.append(Step("mail: outbox", lambda: deliver_due(store, settings, now=now).as_dict()))
    return steps


def privacy_steps(store: sessionmaker[Session], settings: Settings, *, now: datetime) -> list[Step]:
    """The retention duty of a pass: raw mail, attachments and sent outbox mail older than
    ``privacy.raw_mail_days`` go (no step when it is 0, the default: keep)."""
    from goodwill.store.erasure import purge_old_mail

    days = int(settings.privacy.get("raw_mail_days", 0))
    if days <= 0:
        return []
    return [Step("privacy: retention", lambda: purge_old_mail(store, days=days, now=now).as_dict())]
