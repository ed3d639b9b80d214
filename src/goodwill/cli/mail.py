"""`goodwill smtpd` (the SMTP listener) and `goodwill mail` (poll, send, outbox, failed, retry,
and test and check, which say whether mail works)."""

from __future__ import annotations

import json
import logging
import signal
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from goodwill.cli.context import err, out, state
from goodwill.cli.terminal import shown
from goodwill.errors import GoodwillError, InvalidInput
from goodwill.mail.poll import PollReport

if TYPE_CHECKING:
    from goodwill.mail.checks import MailCheck

# goodwill.mail.smtpd.WORKERS, written out so that --help does not load the store (a test holds
# them equal).
WORKERS = 2

app = typer.Typer(help="Mail in and out: poll mailboxes, send the outbox.", no_args_is_help=True)
OUTBOX_STATUSES = ("queued", "sending", "sent", "failed")


def register(root: typer.Typer) -> None:
    root.command("smtpd")(smtpd)
    root.add_typer(app, name="mail")


def smtpd(
    ctx: typer.Context,
    host: Annotated[
        str, typer.Option(help="Interface to listen on (loopback by default).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="TCP port (0: any free).")] = 2525,
    workers: Annotated[
        int, typer.Option(min=1, max=15, help="Messages stored at once (threads).")
    ] = WORKERS,
) -> None:
    """Receive mail over SMTP: each message is stored before it is accepted (250).

    Point a mail server's forwarding (or an MX on a trusted network) at it; it does not relay.

    Example: goodwill smtpd --host 127.0.0.1 --port 2525
    """
    from goodwill.mail.smtpd import serve_smtp

    st = state(ctx)
    # aiosmtpd logs every envelope address at INFO; addresses stay out of goodwill's logs.
    logging.getLogger("mail.log").setLevel(logging.WARNING)

    def ready(bound_host: str, bound_port: int) -> None:
        out.print(shown(f"goodwill smtpd listening on {bound_host}:{bound_port} (Ctrl+C to stop)"))

    serve_smtp(st.store, st.settings, host, port, st.now, workers=workers, ready=ready)


@app.command("poll")
def poll(
    ctx: typer.Context,
    imap: Annotated[bool, typer.Option("--imap", help="Poll the [mail] IMAP mailbox.")] = False,
    maildir: Annotated[
        Path | None,
        typer.Option(
            "--maildir", metavar="PATH", help="Poll this Maildir (default: mail.maildir)."
        ),
    ] = None,
    watch: Annotated[
        float | None,
        typer.Option("--watch", metavar="SECONDS", min=1, help="Poll again every SECONDS."),
    ] = None,
) -> None:
    """Fetch new mail from the IMAP mailbox and/or a Maildir into the inbox, once or --watch.

    Without --imap or --maildir, polls what the [mail] settings configure.

    Example: goodwill mail poll --imap --watch 60
    """
    from goodwill.mail.imap import poll_imap
    from goodwill.mail.maildir import maildir_path, poll_maildir

    st = state(ctx)
    mail = st.settings.mail
    use_imap = imap or (maildir is None and bool(mail.get("imap_host")))
    use_maildir = maildir is not None or (not imap and bool(mail.get("maildir")))
    if not (use_imap or use_maildir):
        raise InvalidInput("nothing to poll: give --imap or --maildir, or set them under [mail]")
    path = maildir_path(st.settings, maildir) if use_maildir else None

    def once() -> None:
        report = PollReport()
        if use_imap:
            report.add(poll_imap(st.store, st.settings, clock=st.now))
        if path is not None:
            report.add(poll_maildir(st.store, st.settings, path, clock=st.now))
        r = report
        out.print(
            f"{r.fetched} fetched: {r.parsed} filed, {r.failed} failed (kept: goodwill mail "
            f"failed), {r.duplicates} duplicates"
            + (f", {r.kept} kept to file next round" if r.kept else "")
            + (f", {r.errors} not stored" if r.errors else ""),
            highlight=False,
        )

    _repeat(once, watch)


@app.command("send")
def send(
    ctx: typer.Context,
    watch: Annotated[
        float | None,
        typer.Option("--watch", metavar="SECONDS", min=1, help="Send again every SECONDS."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the counts as JSON.")] = False,
) -> None:
    """Send the outbox rows that are due: replies and notices by SMTP, webhooks by HTTP POST.

    A failed send is retried with back-off (1 min, 2, 4 … up to 1 h), 8 attempts in all; then
    it stays failed, with its error, in `goodwill mail outbox`.

    Example: goodwill mail send --watch 30
    """
    from goodwill.mail.outbound import deliver_due

    st = state(ctx)

    def once() -> None:
        report = deliver_due(st.store, st.settings, now=st.now())
        if as_json:
            out.print_json(json.dumps(report.as_dict()))
            return
        r = report
        out.print(
            f"{r.sent} sent, {r.retrying} to retry, {r.failed} failed for good"
            + (f", {r.taken} taken by another worker" if r.taken else ""),
            highlight=False,
        )

    _repeat(once, watch)


@app.command("outbox")
def outbox(
    ctx: typer.Context,
    status: Annotated[
        str | None,
        typer.Option("--status", help="queued, sending, sent or failed."),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1)] = 200,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the outbox, newest first: what was sent, what waits, what failed and why.

    Example: goodwill mail outbox --status failed
    """
    from goodwill.mail.outbound import list_outbox

    if status is not None and status not in OUTBOX_STATUSES:
        raise InvalidInput(
            f"--status must be one of {', '.join(OUTBOX_STATUSES)}", option="--status"
        )
    st = state(ctx)
    rows = list_outbox(st.store, status=status, limit=limit)
    if as_json:
        out.print_json(json.dumps([r.as_dict() for r in rows]))
        return
    zone = st.settings.zone
    table = Table("id", "kind", "recipients", "status", "attempts", "next attempt", "last error")
    for r in rows:
        label = {"failed": "[red]failed[/red]", "sent": "[green]sent[/green]"}.get(r.status)
        table.add_row(
            str(r.id),
            shown(r.kind),
            shown(", ".join(r.recipients)),
            label or shown(r.status),
            str(r.attempts),
            r.next_attempt_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
            if r.next_attempt_at
            else "—",
            shown(r.last_error),
        )
    out.print(table)


@app.command("failed")
def failed(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", min=1)] = 200,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the messages that arrived, are kept, and could not be filed, newest first, with why.

    Deal with the reason, then file them again with `goodwill mail retry`.

    Example: goodwill mail failed --json
    """
    from goodwill.actions.failed_mail import failed_mail

    st = state(ctx)
    rows = failed_mail(st.store, limit=limit)
    if as_json:
        out.print_json(json.dumps([r.as_dict() for r in rows]))
        return
    if not rows:
        out.print("No failed messages: everything that arrived is filed.")
        return
    zone = st.settings.zone
    table = Table("id", "received", "from", "subject", "reason")
    for r in rows:
        table.add_row(
            str(r.id),
            r.received_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
            shown(r.from_address or "—"),
            shown(r.subject or "(no subject)"),
            shown(r.reason),
        )
    out.print(table)


@app.command("retry")
def retry(
    ctx: typer.Context,
    ids: Annotated[
        list[int] | None, typer.Argument(metavar="ID...", help="Ids from goodwill mail failed.")
    ] = None,
    every: Annotated[bool, typer.Option("--all", help="Every failed message.")] = False,
) -> None:
    """File failed messages again (after the reason is dealt with); each is filed or fails again.

    Exits 1 when one still cannot be filed.

    Example: goodwill mail retry 12 15
    """
    from goodwill.actions.failed_mail import retry_failed

    if bool(ids) == every:
        raise InvalidInput("give the ids of failed messages, or --all", option="--all")
    st = state(ctx)
    done = retry_failed(st.store, st.settings, None if every else ids, now=st.now())
    still = 0
    for inbound_id, got in done:
        if got.status == "failed":
            still += 1
            out.print(f"{inbound_id}: failed again (goodwill mail failed)", highlight=False)
        elif got.status == "parsed":
            out.print(f"{inbound_id}: filed in conversation {got.conversation_id}", highlight=False)
        else:
            out.print(f"{inbound_id}: {shown(got.status)}", highlight=False)
    if not done:
        out.print("No failed messages.")
    if still:
        raise typer.Exit(1)


@app.command("test")
def test(
    ctx: typer.Context,
    to: Annotated[str, typer.Option("--to", metavar="ADDRESS", help="Where the test goes.")],
    timeout: Annotated[
        float, typer.Option("--timeout", min=1, max=300, help="Seconds each step may take.")
    ] = 15,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Send one test message through the [mail] SMTP server from mail.from_address; say exactly
    which step failed (finding the server, connecting, TLS, login, sender, recipient) and why.

    Exits 1 when the message did not go out.

    Example: goodwill mail test --to owner@example.com
    """
    from goodwill.mail.checks import send_test

    st = state(ctx)
    _report(send_test(st.settings.mail, to, now=st.now(), timeout=timeout), as_json=as_json)


@app.command("check")
def check(
    ctx: typer.Context,
    timeout: Annotated[
        float, typer.Option("--timeout", min=1, max=300, help="Seconds each step may take.")
    ] = 15,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Check that mail can come in: log in to the IMAP mailbox and count it, or look at the
    Maildir; with neither set, say how to start the SMTP listener.

    Exits 1 when the mailbox cannot be read.

    Example: goodwill mail check
    """
    from goodwill.mail.checks import check_mailbox

    st = state(ctx)
    _report(check_mailbox(st.settings.mail, timeout=timeout), as_json=as_json)


def _report(report: MailCheck, *, as_json: bool) -> None:
    if as_json:
        out.print_json(json.dumps(report.as_dict()))
    elif report.ok:
        out.print(f"[green]ok[/green] {shown(report.message)}")
    else:
        out.print(f"[red]failed at {report.stage}[/red] {shown(report.message)}")
    if not report.ok:
        raise typer.Exit(1)


def _repeat(once: Callable[[], None], every: float | None) -> None:
    """Run ``once``; with ``every``, again every ``every`` seconds until SIGINT or SIGTERM (an
    error such as an unreachable server is then printed, and the next round tries again)."""
    if every is None:
        once()
        return
    stopping = False

    def stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while not stopping:
        try:
            once()
        except GoodwillError as exc:
            err.print(f"error: {exc.message}", markup=False, highlight=False, style="red")
        deadline = time.monotonic() + every
        while not stopping and time.monotonic() < deadline:
            time.sleep(min(0.5, every))
    err.print("stopped")


@app.command("evaluate-quotes")
def evaluate_quotes(
    directory: Annotated[
        Path,
        typer.Argument(
            metavar="[DIR]",
            help="Reply fixtures, one TOML file per language (default: tests/data/quotes).",
        ),
    ] = Path("tests/data/quotes"),
) -> None:
    """How often the new text of a reply comes out exactly right, per language: goodwill and
    each installed reply-parsing library, measured in the same run.

    Example: goodwill mail evaluate-quotes tests/data/quotes
    """
    from goodwill.mail.quote_accuracy import Score, evaluate, load_fixtures, parsers

    fixtures = load_fixtures(directory) if directory.is_dir() else []
    if not fixtures:
        raise InvalidInput(f"no reply fixtures in {directory} (TOML files of [[reply]] tables)")
    found = parsers()
    missing = [name for name, parse in found.items() if parse is None]
    measured = {name: parse for name, parse in found.items() if parse is not None}
    scores = evaluate(fixtures, measured)
    table = Table("language", *measured, title="New text exactly right: right/replies P R")
    languages = sorted({language for language, _ in scores})
    totals = {name: Score(0, 0, 0, 0, 0) for name in measured}
    for language in languages:
        row = [language]
        for name in measured:
            totals[name] = totals[name] + scores[(language, name)]
            row.append(_score(scores[(language, name)]))
        table.add_row(*row)
    table.add_row("all", *(_score(totals[name]) for name in measured), style="bold")
    out.print(table)
    if missing:
        out.print(f"Not installed, not measured: {', '.join(missing)}", highlight=False)


def _score(score: object) -> str:
    from goodwill.mail.quote_accuracy import Score

    assert isinstance(score, Score)

    def share(value: float | None) -> str:
        return "–" if value is None else f"{value:.2f}"

    return f"{score.exact}/{score.replies} {share(score.precision)} {share(score.recall)}"
