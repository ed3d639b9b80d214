"""The outbox delivered to real servers on loopback: an aiosmtpd server that records what it is
given, and an http.server that records webhook POSTs; failures injected through ``send_mail``."""

from __future__ import annotations

import email
import email.policy
import json
import smtplib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import timedelta
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from goodwill.actions.inbox import receive, reply
from goodwill.domain.audit import Actor
from goodwill.mail.outbound import MAX_ATTEMPTS, DeliveryReport, backoff, deliver_due
from goodwill.settings import Settings
from goodwill.store.models import Message, Outbox
from goodwill.store.staff import add_user
from tests.conftest import NOW
from tests.mail.recorder import Recorder


@pytest.fixture
def mailing(settings: Settings, smtp_server: tuple[Recorder, int]) -> Settings:
    return replace(
        settings,
        mail={
            "from_address": "care@shop.example",
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp_server[1],
            "smtp_security": "none",
        },
    )


def queue(
    store: sessionmaker[Session],
    key: str,
    *,
    to: str = "anna@client.example",
    kind: str = "email",
    body: bytes | None = None,
) -> int:
    if body is None:
        message = EmailMessage()
        message["From"] = "care@shop.example"
        message["To"] = to
        message["Subject"] = f"Notice {key}"
        message["Message-ID"] = f"<{key}@shop.example>"
        message.set_content("Your order shipped.")
        body = message.as_bytes(policy=email.policy.SMTP)
    with store.begin() as session:
        row = Outbox(
            key=key,
            kind=kind,
            recipients=[to],
            body=body,
            status="queued",
            attempts=0,
            next_attempt_at=NOW,
            created_at=NOW,
        )
        session.add(row)
        session.flush()
        return row.id


def outbox_row(store: sessionmaker[Session], row_id: int) -> Outbox:
    with store() as session:
        row = session.get(Outbox, row_id)
        assert row is not None
        return row


def test_a_reply_reaches_the_client_with_threading_headers_and_its_copy_stays_on_the_conversation(
    store: sessionmaker[Session], mailing: Settings, smtp_server: tuple[Recorder, int]
) -> None:
    recorder, _ = smtp_server
    with store.begin() as session:
        add_user(
            session,
            email="olga@shop.example",
            name="Olga",
            role="owner",
            password="a long password",
            now=NOW,
        )
    first = EmailMessage()
    first["From"] = "Anna Berg <anna@client.example>"
    first["To"] = "care@shop.example"
    first["Subject"] = "Grinder arrived broken"
    first["Message-ID"] = "<q1@client.example>"
    first.set_content("The grinder arrived broken.")
    received = receive(store, mailing, first.as_bytes(), source="smtp", now=NOW)
    assert received.conversation_id is not None
    with store.begin() as session:
        reply(
            session,
            mailing,
            received.conversation_id,
            text="A new grinder leaves today.",
            author_email="olga@shop.example",
            actor=Actor.cli("tests"),
            now=NOW,
        )
    report = deliver_due(store, mailing, now=NOW)
    assert report.sent == 1
    [(sender, recipients, _)] = recorder.received
    assert (sender, recipients) == ("care@shop.example", ["anna@client.example"])
    [sent] = recorder.messages()
    assert sent["In-Reply-To"] == "<q1@client.example>"
    assert "<q1@client.example>" in sent["References"]
    assert sent["Subject"] == "Re: Grinder arrived broken"
    with store() as session:
        row = session.execute(select(Outbox)).scalar_one()
        assert (row.status, row.attempts, row.sent_at) == ("sent", 1, NOW)
        copy = session.get(Message, row.message_row_id)
        assert copy is not None and copy.direction == "out"
        assert f"<{copy.message_id}>" == sent["Message-ID"]
        assert copy.conversation_id == received.conversation_id
    assert deliver_due(store, mailing, now=NOW + timedelta(hours=1)).sent == 0
    assert len(recorder.received) == 1


def test_a_transient_failure_is_retried_with_back_off_and_then_sent(
    store: sessionmaker[Session], mailing: Settings, smtp_server: tuple[Recorder, int]
) -> None:
    recorder, _ = smtp_server
    row_id = queue(store, "n1")

    def disconnected(sender: str, recipients: Any, message: bytes) -> None:
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")

    first = deliver_due(store, mailing, now=NOW, send_mail=disconnected)
    assert (first.sent, first.retrying) == (0, 1)
    row = outbox_row(store, row_id)
    assert (row.status, row.attempts) == ("failed", 1)
    assert row.next_attempt_at == NOW + timedelta(minutes=1)
    assert row.last_error == "SMTPServerDisconnected: Connection unexpectedly closed"
    assert deliver_due(store, mailing, now=NOW + timedelta(seconds=59)).sent == 0
    deliver_due(store, mailing, now=NOW + timedelta(minutes=1), send_mail=disconnected)
    assert outbox_row(store, row_id).next_attempt_at == NOW + timedelta(minutes=3)
    assert deliver_due(store, mailing, now=NOW + timedelta(minutes=3)).sent == 1
    row = outbox_row(store, row_id)
    assert (row.status, row.attempts, row.last_error) == ("sent", 3, None)
    assert len(recorder.received) == 1


def test_a_permanent_failure_ends_failed_after_the_last_attempt_with_its_error_shown(
    store: sessionmaker[Session], mailing: Settings, smtp_server: tuple[Recorder, int]
) -> None:
    recorder, _ = smtp_server
    row_id = queue(store, "n2", to=recorder.refuse)
    at = NOW
    for attempt in range(1, MAX_ATTEMPTS + 1):
        report = deliver_due(store, mailing, now=at)
        assert (report.retrying, report.failed) == ((1, 0) if attempt < MAX_ATTEMPTS else (0, 1))
        at += backoff(attempt)
    assert [backoff(n).total_seconds() / 60 for n in range(1, 9)] == [1, 2, 4, 8, 16, 32, 60, 60]
    row = outbox_row(store, row_id)
    assert (row.status, row.attempts) == ("failed", MAX_ATTEMPTS)
    assert "550" in (row.last_error or "") and "No such user" in (row.last_error or "")
    assert deliver_due(store, mailing, now=at + timedelta(days=30)) == DeliveryReport()
    assert recorder.received == []


@dataclass
class Hooks:
    bodies: list[bytes] = field(default_factory=list)
    status: int = 204


@pytest.fixture
def webhook_server() -> Iterator[tuple[Hooks, str]]:
    hooks = Hooks()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            body = self.rfile.read(length)
            if hooks.status < 300:
                assert self.headers["Content-Type"] == "application/json"
                hooks.bodies.append(body)
            self.send_response(hooks.status)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hooks, f"http://127.0.0.1:{server.server_address[1]}/hooks"
    finally:
        server.shutdown()
        server.server_close()


def test_a_webhook_is_posted_and_a_server_error_is_retried(
    store: sessionmaker[Session], mailing: Settings, webhook_server: tuple[Hooks, str]
) -> None:
    hooks, url = webhook_server
    payload = json.dumps({"event": "sla.breach", "conversation": 7}).encode()
    row_id = queue(store, "w1", kind="webhook", to=url, body=payload)
    hooks.status = 503
    assert deliver_due(store, mailing, now=NOW).retrying == 1
    assert "503" in (outbox_row(store, row_id).last_error or "")
    hooks.status = 204
    assert deliver_due(store, mailing, now=NOW + timedelta(minutes=1)).sent == 1
    assert hooks.bodies == [payload]
    assert outbox_row(store, row_id).status == "sent"


@pytest.mark.parametrize("workers", [2, 4])
def test_workers_at_once_send_each_row_once(
    store: sessionmaker[Session],
    mailing: Settings,
    smtp_server: tuple[Recorder, int],
    workers: int,
) -> None:
    recorder, _ = smtp_server
    recorder.delay_s = 0.02
    for i in range(30):
        queue(store, f"c{i}")
    start = threading.Barrier(workers)
    reports = []

    def work() -> None:
        start.wait()
        reports.append(deliver_due(store, mailing, now=NOW))

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ids = sorted(str(m["Message-ID"]) for m in recorder.messages())
    assert ids == sorted(f"<c{i}@shop.example>" for i in range(30))
    assert sum(r.sent for r in reports) == 30
    with store() as session:
        rows = session.execute(select(Outbox.status, Outbox.attempts)).all()
    assert set(rows) == {("sent", 1)}


def test_the_outbox_from_the_terminal_shows_what_failed_and_why(
    tmp_path: Path, sqlite_url: str, smtp_server: tuple[Recorder, int]
) -> None:
    from goodwill.store.database import open_store
    from tests.cli.test_cli import goodwill

    recorder, port = smtp_server
    config = tmp_path / "goodwill.toml"
    config.write_text(
        f'[mail]\nfrom_address = "care@shop.example"\nsmtp_host = "127.0.0.1"\n'
        f'smtp_port = {port}\nsmtp_security = "none"\n',
        "utf-8",
    )
    store = open_store(sqlite_url)
    queue(store, "ok")
    queue(store, "bad", to=recorder.refuse)
    now = NOW.isoformat()
    sent = goodwill("mail", "send", "--json", db=sqlite_url, config=config, now=now)
    assert sent.returncode == 0, sent.stderr
    assert json.loads(sent.stdout) == {"sent": 1, "retrying": 1, "failed": 0, "taken": 0}
    listed = goodwill("mail", "outbox", "--json", db=sqlite_url, config=config, now=now)
    rows = {r["recipients"][0]: r for r in json.loads(listed.stdout)}
    assert rows["anna@client.example"]["status"] == "sent"
    assert rows["anna@client.example"]["next_attempt_at"] is None
    failed = rows[recorder.refuse]
    assert (failed["status"], failed["attempts"]) == ("failed", 1)
    assert failed["next_attempt_at"] == (NOW + timedelta(minutes=1)).isoformat()
    assert "550" in failed["last_error"]
    text = goodwill("mail", "outbox", "--status", "failed", db=sqlite_url, config=config).stdout
    assert "No such user" in text and "anna@" not in text
    wrong = goodwill("mail", "outbox", "--status", "lost", db=sqlite_url, config=config)
    assert wrong.returncode == 2 and "--status must be one of" in wrong.stderr
