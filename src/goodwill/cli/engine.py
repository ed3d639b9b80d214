"""`goodwill engine run` (one pass) and `goodwill worker` (passes, continuously)."""

from __future__ import annotations

import json
import signal
import time
from datetime import UTC, datetime
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import typer

from goodwill.cli.context import State, err, out, state
from goodwill.errors import GoodwillError

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy.orm import Session, sessionmaker

    from goodwill.engine.passes import PassReport

app = typer.Typer(help="The engine: touch points, scans and follow-ups.", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="engine")
    root.command("worker")(worker)


def _describe(report: PassReport) -> str:
    r = report
    return (
        f"{r.derived} touch points derived ({r.scanned} from scans), {r.created} follow-ups "
        f"created, {r.suppressed} suppressed, {r.closed} closed by themselves"
    )


@app.command("run")
def run(
    ctx: typer.Context,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the pass's counts as JSON.")
    ] = False,
) -> None:
    """Process new events and run the periodic scans once, as of now (or --now).

    A step that fails is tried again after a pause and the other steps still run; if one still
    fails, it is named on stderr and the exit code is 1 (the pass is recorded all the same).

    Example: goodwill --now 2026-11-23T09:00+01:00 engine run
    """
    from goodwill.engine.configuration import calendar_for, playbook_for
    from goodwill.engine.heap import settle
    from goodwill.engine.passes import EnginePass
    from goodwill.engine.worker import run_pass

    settle()  # no preload: a pass that keeps its fit never needs the optimiser
    st = state(ctx)
    settings, now = st.settings, st.now()
    engine = EnginePass(
        st.store,
        settings,
        now=now,
        playbook=playbook_for(settings),
        calendar=calendar_for(settings),
    )
    outcome = run_pass(st.store, engine.steps(), as_of=now, clock=st.now, sleep=time.sleep)
    models = None
    if engine.refit is not None:
        models = {"refitted": engine.refit.refit, "reason": engine.refit.reason}
        if engine.refit.last_fit is not None:
            models["last_fit"] = engine.refit.last_fit.isoformat()
    if as_json:
        out.print_json(json.dumps({**engine.report.as_dict(), "models": models}))
    else:
        out.print(_describe(engine.report))
        if engine.refit is not None:
            verb = "refitted" if engine.refit.refit else "not refitted"
            out.print(f"population models {verb}: {engine.refit.reason}", highlight=False)
    for failure in outcome.gave_up:
        err.print(
            f"{failure.step} failed: {failure.error}: {failure.message}",
            highlight=False,
            markup=False,
        )
    if outcome.gave_up:
        raise typer.Exit(1)


def worker(
    ctx: typer.Context,
    interval: Annotated[float, typer.Option(min=1, help="Seconds between passes.")] = 60,
    passes: Annotated[int | None, typer.Option(min=1, help="Stop after this many passes.")] = None,
) -> None:
    """Run the engine continuously: a pass every --interval seconds until stopped.

    After the engine's steps, each pass reads new mail from the configured IMAP mailbox or
    Maildir and sends what the outbox holds (replies, SLA notices, webhooks). A step that fails
    is logged, recorded (the dashboard and /healthz show it) and tried again after a pause while
    the other steps go on; only a configuration error stops the worker. Several workers may run
    at once on PostgreSQL; each follow-up is still created exactly once, each outbox row sent once.

    Example: goodwill worker --interval 30
    """
    from goodwill.engine.configuration import calendar_for, playbook_for
    from goodwill.engine.heap import ENGINE_MODULES, settle
    from goodwill.engine.passes import EnginePass
    from goodwill.engine.worker import PassOutcome, Step, Worker, mail_steps, privacy_steps
    from goodwill.settings_layers import LiveSettings

    settle(ENGINE_MODULES)
    st = state(ctx)
    stopping = False
    engines: list[EnginePass] = []

    def stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    def sleep(seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not stopping and (left := deadline - time.monotonic()) > 0:
            time.sleep(min(0.5, left))

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    store = _open_store(st, sleep)

    def clock() -> datetime:
        return st.now() if st.now_text else datetime.now(UTC)

    # What the owner changes on the settings page applies from the next pass, without a restart.
    live = LiveSettings(st.base_settings, store, every=0)

    def plan(now: datetime) -> list[Step]:
        settings = live.get()
        playbook, calendar = playbook_for(settings), calendar_for(settings)
        engines[:] = [EnginePass(store, settings, now=now, playbook=playbook, calendar=calendar)]
        return [
            *engines[0].steps(),
            *mail_steps(store, settings, now=now),
            *privacy_steps(store, settings, now=now),
        ]

    def report(now: datetime, outcome: PassOutcome) -> None:
        err.print(
            f"{now.isoformat(timespec='seconds')} {_describe(engines[0].report)}", highlight=False
        )
        for name, counts in outcome.counts.items():
            if name.startswith("mail") and any(counts.values()):
                err.print(f"{name}: {counts}", highlight=False)
        for failure in outcome.gave_up:
            err.print(
                f"{failure.step} failed {failure.attempt} times, trying again next pass: "
                f"{failure.error}: {failure.message}",
                highlight=False,
                markup=False,
            )

    Worker(
        store,
        plan,
        clock=clock,
        sleep=sleep,
        interval=interval,
        stopping=lambda: stopping,
        on_pass=report,
    ).run(passes=passes)


def _open_store(st: State, sleep: Callable[[float], None]) -> sessionmaker[Session]:
    """The store, tried again after a pause while the database is unreachable (a worker started
    before PostgreSQL at boot); after the last attempt, one line and exit code 1."""
    from sqlalchemy.exc import SQLAlchemyError

    from goodwill.engine.worker import Backoff
    from goodwill.store.worker_runs import describe_error

    backoff = Backoff()
    for attempt in range(1, backoff.attempts + 1):
        try:
            return st.store
        except SQLAlchemyError as exc:
            error, message = describe_error(exc)
            if attempt == backoff.attempts:
                raise GoodwillError(f"cannot open the database: {error}: {message}") from exc
            delay = backoff.delay(attempt)
            err.print(
                f"cannot open the database ({error}: {message}); trying again in {delay:g} s",
                highlight=False,
                markup=False,
            )
            sleep(delay)
    raise AssertionError("unreachable")
