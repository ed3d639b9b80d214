"""Engine passes and their failed steps, as stored: what the dashboard and /healthz report.

A pass is an ``EngineRun`` row written when it starts and completed (``finished_at``) when every
step has been tried; a pass that died half-way keeps ``finished_at`` empty and is never shown as
the last run. Each failed attempt at a step is a ``WorkerFailure`` row: the step's name, the
error's class and first line (never client data), the attempt and whether the pass gave the step
up. Failures older than ``KEEP_FAILURES`` are pruned when a pass completes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from goodwill.store.models import EngineRun, WorkerFailure

#: Failure rows are kept this long (a step failing every minute writes a few rows a minute).
KEEP_FAILURES = timedelta(days=30)
#: How many of the latest failures the health report lists.
RECENT = 5


@dataclass(frozen=True)
class StepFailure:
    """One failed attempt at a step; ``gave_up`` when the pass tried it for the last time."""

    step: str
    at: datetime
    error: str
    message: str
    attempt: int
    gave_up: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "at": self.at.isoformat(),
            "error": self.error,
            "message": self.message,
            "attempt": self.attempt,
            "gave_up": self.gave_up,
        }


@dataclass(frozen=True)
class WorkerHealth:
    """When passes last started and completed, and what failed."""

    last_completed: datetime | None
    last_started: datetime | None
    #: The steps the last completed pass gave up on, with their last failure.
    failing: list[StepFailure] = field(default_factory=list)
    #: The latest failed attempts, newest first, including those a retry then fixed.
    recent: list[StepFailure] = field(default_factory=list)

    def stale(self, *, now: datetime, after: timedelta) -> bool:
        """No pass completed within ``after`` of ``now`` (or none ever)."""
        return self.last_completed is None or now - self.last_completed > after

    def as_dict(self, *, now: datetime, stale_after: timedelta) -> dict[str, Any]:
        done = self.last_completed
        return {
            "last_completed_pass": done.isoformat() if done else None,
            "last_started_pass": self.last_started.isoformat() if self.last_started else None,
            "minutes_since_completed": None
            if done is None
            else int((now - done).total_seconds()) // 60,
            "stale_after_minutes": int(stale_after.total_seconds()) // 60,
            "stale": self.stale(now=now, after=stale_after),
            "failing": [f.as_dict() for f in self.failing],
            "recent_failures": [f.as_dict() for f in self.recent],
        }


def describe_error(exc: BaseException) -> tuple[str, str]:
    """The error's class and first line, safe to show without a login: a database error gives
    the driver's first line (its SQL and parameters, which may hold client data, are left out)."""
    shown: BaseException = exc
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        shown = exc.orig
    lines = str(shown).strip().splitlines()
    return type(exc).__name__, (lines[0] if lines else "")[:300]


def start_run(session: Session, *, as_of: datetime) -> int:
    """A pass begins: its row, not yet finished."""
    run = EngineRun(started_at=as_of, as_of=as_of, counts={})
    session.add(run)
    session.flush()
    return run.id


def finish_run(
    session: Session,
    run_id: int | None,
    *,
    as_of: datetime,
    at: datetime,
    counts: Mapping[str, Any],
) -> int:
    """A pass completed at ``at``; a pass whose start could not be written gets its row now."""
    run = session.get(EngineRun, run_id) if run_id is not None else None
    if run is None:
        run = EngineRun(started_at=as_of, as_of=as_of, counts={})
        session.add(run)
    run.finished_at, run.counts = at, dict(counts)
    session.flush()
    session.execute(delete(WorkerFailure).where(WorkerFailure.failed_at < at - KEEP_FAILURES))
    return run.id


def record_failures(session: Session, run_id: int | None, failures: Iterable[StepFailure]) -> None:
    session.add_all(
        WorkerFailure(
            run_id=run_id,
            step=f.step[:60],
            failed_at=f.at,
            error=f.error[:100],
            message=f.message[:300],
            attempt=f.attempt,
            gave_up=f.gave_up,
        )
        for f in failures
    )


def worker_health(session: Session, *, recent: int = RECENT) -> WorkerHealth:
    """The engine's state in a few indexed reads (cheap enough for every /healthz)."""
    started = session.execute(
        select(EngineRun.started_at).order_by(EngineRun.id.desc()).limit(1)
    ).scalar_one_or_none()
    completed = session.execute(
        select(EngineRun.id, EngineRun.finished_at)
        .where(EngineRun.finished_at.is_not(None))
        .order_by(EngineRun.id.desc())
        .limit(1)
    ).first()
    failing: list[StepFailure] = []
    if completed is not None:
        failing = [
            _failure(row)
            for row in session.execute(
                select(WorkerFailure)
                .where(WorkerFailure.run_id == completed[0], WorkerFailure.gave_up.is_(True))
                .order_by(WorkerFailure.id)
            ).scalars()
        ]
    latest = session.execute(
        select(WorkerFailure).order_by(WorkerFailure.id.desc()).limit(recent)
    ).scalars()
    return WorkerHealth(
        last_completed=completed[1] if completed is not None else None,
        last_started=started,
        failing=failing,
        recent=[_failure(row) for row in latest],
    )


def _failure(row: WorkerFailure) -> StepFailure:
    return StepFailure(
        step=row.step,
        at=row.failed_at,
        error=row.error,
        message=row.message,
        attempt=row.attempt,
        gave_up=row.gave_up,
    )
