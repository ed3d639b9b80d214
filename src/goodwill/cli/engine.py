"""`goodwill engine run` (one pass) and `goodwill worker` (passes, continuously)."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable
from datetime import UTC, datetime
from types import FrameType
from typing import Annotated

import typer
from sqlalchemy.orm import Session, sessionmaker

from goodwill.cli.context import err, out, state
from goodwill.engine.configuration import calendar_for, playbook_for, run_pass
from goodwill.engine.passes import EnginePass, PassReport
from goodwill.errors import GoodwillError
from goodwill.settings import Settings

app = typer.Typer(help="The engine: touch points, scans and follow-ups.", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="engine")
    root.command("worker")(worker)


def _mail_round(store: sessionmaker[Session], settings: Settings, *, now: datetime) -> None:
    """The worker's mail duties after each pass: fetch what the configured mailboxes received,
    then send what the outbox holds. A mail server being down is logged and tried again next
    round; it never stops the engine."""
    from goodwill.actions.inbox import read_stored
    from goodwill.mail.imap import poll_imap
    from goodwill.mail.maildir import maildir_path, poll_maildir
    from goodwill.mail.outbound import deliver_due

    def clock() -> datetime:
        return now

    mail = settings.mail
    duties: list[tuple[str, Callable[[], object]]] = [
        ("unread mail", lambda: {"read": read_stored(store, settings, now=now)})
    ]
    if mail.get("imap_host"):
        duties.append(("imap", lambda: poll_imap(store, settings, clock=clock)))
    if mail.get("maildir"):
        folder = maildir_path(settings)
        duties.append(("maildir", lambda: poll_maildir(store, settings, folder, clock=clock)))
    if mail.get("smtp_host") or settings.webhooks:
        duties.append(("outbox", lambda: deliver_due(store, settings, now=now)))
    for name, duty in duties:
        try:
            result = duty()
        except (GoodwillError, OSError) as exc:
            err.print(f"{name}: {exc} (trying again next round)", highlight=False, markup=False)
            continue
        counts: dict[str, int] = (
            result if isinstance(result, dict) else getattr(result, "as_dict", dict)()
        )
        if any(counts.values()):
            err.print(f"{name}: {counts}", highlight=False)


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

    Example: goodwill --now 2026-11-23T09:00+01:00 engine run
    """
    st = state(ctx)
    settings = st.settings
    report = run_pass(st.store, settings, now=st.now())
    if as_json:
        out.print_json(json.dumps(report.as_dict()))
    else:
        out.print(_describe(report))


def worker(
    ctx: typer.Context,
    interval: Annotated[float, typer.Option(min=1, help="Seconds between passes.")] = 60,
    passes: Annotated[int | None, typer.Option(min=1, help="Stop after this many passes.")] = None,
) -> None:
    """Run the engine continuously: a pass every --interval seconds until stopped.

    After each pass it fetches new mail from the configured IMAP mailbox or Maildir and sends
    what the outbox holds (replies, SLA notices, webhooks). Several workers may run at once on
    PostgreSQL; each follow-up is still created exactly once and each outbox row sent once.

    Example: goodwill worker --interval 30
    """
    st = state(ctx)
    settings = st.settings
    playbook, calendar = playbook_for(settings), calendar_for(settings)
    stopping = False

    def stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    done = 0
    while not stopping:
        now = st.now() if st.now_text else datetime.now(UTC)
        report = EnginePass(st.store, settings, now=now, playbook=playbook, calendar=calendar).run()
        done += 1
        err.print(f"{now.isoformat(timespec='seconds')} {_describe(report)}", highlight=False)
        _mail_round(st.store, settings, now=now)
        if passes is not None and done >= passes:
            break
        deadline = time.monotonic() + interval
        while not stopping and time.monotonic() < deadline:
            time.sleep(min(0.5, interval))
