"""The inbound SMTP listener as a mail server meets it: `goodwill smtpd` on a loopback port, spoken
to with the standard library's smtplib, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
import smtplib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from email.message import EmailMessage
from email.mime.text import MIMEText
from email.policy import SMTP
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from goodwill.mail.smtpd import InboxHandler
from goodwill.settings import load_settings
from goodwill.store.database import open_store
from goodwill.store.models import Attachment, Conversation, InboundMail, Message
from tests.pgserver import free_port

GOODWILL = str(Path(sys.executable).parent / "goodwill")
NOW = "2026-11-23T15:00:00+00:00"
SENT = "Mon, 23 Nov 2026 09:00:00 +0000"


def send(port: int, message: bytes | EmailMessage) -> None:
    raw = message.as_bytes(policy=SMTP) if isinstance(message, EmailMessage) else message
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        assert client.sendmail("client@example.com", ["care@shop.example"], raw) == {}


class Listener:
    def __init__(self, process: subprocess.Popen[str], port: int) -> None:
        self.process = process
        self.port = port

    def send(self, message: bytes | EmailMessage) -> None:
        send(self.port, message)


@pytest.fixture
def listener(db_url: str) -> Iterator[Listener]:
    open_store(db_url)  # the schema, before the listener starts
    port = free_port()
    process = subprocess.Popen(
        [GOODWILL, "--db", db_url, "--now", NOW, "smtpd", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ},
    )
    try:
        wait_for_port(port, process)
        yield Listener(process, port)
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
        assert process.returncode == 0, stderr


def wait_for_port(port: int, process: subprocess.Popen[str] | None = None) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise AssertionError(f"goodwill smtpd exited: {process.communicate()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listens on port {port}")


def mail(
    message_id: str,
    *,
    sender: str = "Anna Berg <anna@client.example>",
    subject: str = "Grinder arrived broken",
    text: str = "Hello",
    in_reply_to: str | None = None,
    references: list[str] | None = None,
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "care@shop.example"
    message["Subject"] = subject
    message["Date"] = SENT
    message["Message-ID"] = f"<{message_id}>"
    if in_reply_to:
        message["In-Reply-To"] = f"<{in_reply_to}>"
    if references:
        message["References"] = " ".join(f"<{r}>" for r in references)
    message.set_content(text)
    return message


def test_a_thread_of_several_messages_is_stored_once_each_in_one_conversation(
    listener: Listener, db_url: str
) -> None:
    listener.send(mail("t1@client.example", text="The grinder arrived broken."))
    listener.send(
        mail(
            "t2@client.example",
            subject="Re: Grinder arrived broken",
            text="Any news?\n\n> The grinder arrived broken.",
            in_reply_to="t1@client.example",
            references=["t1@client.example"],
        )
    )
    listener.send(
        mail(
            "t3@client.example",
            subject="Re: Grinder arrived broken",
            text="Still waiting.",
            in_reply_to="t2@client.example",
            references=["t1@client.example", "t2@client.example"],
        )
    )
    listener.send(mail("t1@client.example", text="The grinder arrived broken."))  # again
    store = open_store(db_url)
    with store() as session:
        inbound = session.execute(select(InboundMail.message_id, InboundMail.source)).all()
        messages = session.execute(
            select(Message.message_id, Message.conversation_id, Message.new_text).order_by(
                Message.message_id
            )
        ).all()
    assert sorted(inbound) == [(f"t{i}@client.example", "smtp") for i in (1, 2, 3)]
    assert [m.message_id for m in messages] == [f"t{i}@client.example" for i in (1, 2, 3)]
    assert len({m.conversation_id for m in messages}) == 1
    assert messages[1].new_text == "Any news?"


def test_html_only_latin_1_and_attachments_are_read_and_an_unreadable_message_is_kept(
    listener: Listener, db_url: str
) -> None:
    html = EmailMessage()
    html["From"] = "bob@client.example"
    html["To"] = "care@shop.example"
    html["Subject"] = "Order 1042"
    html["Date"] = SENT
    html["Message-ID"] = "<html@client.example>"
    html.set_content("<html><body><p>Where is <b>order 1042</b>?</p></body></html>", subtype="html")
    listener.send(html)

    latin = MIMEText("Le café était froid, s'il vous plaît.", "plain", "iso-8859-1")
    latin["From"] = "=?iso-8859-1?q?Andr=E9?= <andre@client.example>"
    latin["To"] = "care@shop.example"
    latin["Subject"] = "=?iso-8859-1?q?Caf=E9_froid?="
    latin["Date"] = SENT
    latin["Message-ID"] = "<latin@client.example>"
    assert "é".encode("iso-8859-1") in latin.as_bytes() or b"=E9" in latin.as_bytes()
    listener.send(latin.as_bytes(policy=SMTP))

    with_file = mail("file@client.example", sender="cara@client.example", text="Invoice attached.")
    pdf = b"%PDF-1.4\n" + bytes(range(256)) * 40
    with_file.add_attachment(pdf, maintype="application", subtype="pdf", filename="invoice.pdf")
    listener.send(with_file)

    listener.send(b"\x00\x01 not a mail at all \xff\r\n")

    store = open_store(db_url)
    with store() as session:
        by_id = {m.message_id: m for m in session.execute(select(Message)).scalars()}
        assert "order 1042" in by_id["html@client.example"].text
        assert by_id["html@client.example"].html is not None
        assert "café était froid" in by_id["latin@client.example"].text
        assert by_id["latin@client.example"].subject == "Café froid"
        assert by_id["latin@client.example"].from_name == "André"
        attachment = session.execute(select(Attachment)).scalar_one()
        assert attachment.message_id == by_id["file@client.example"].id
        assert (attachment.filename, attachment.content) == ("invoice.pdf", pdf)
        kept = session.execute(
            select(InboundMail).where(InboundMail.status == "failed")
        ).scalar_one()
        assert kept.raw == b"\x00\x01 not a mail at all \xff\r\n" and kept.error
        assert session.execute(select(func.count()).select_from(Conversation)).scalar() == 3


def test_concurrent_connections_and_duplicate_deliveries_store_each_message_once(
    listener: Listener, db_url: str
) -> None:
    messages = [
        mail(f"c{i}@client.example", sender=f"client{i % 5}@client.example", subject=f"Q {i % 7}")
        for i in range(60)
    ]

    def send(batch: list[EmailMessage]) -> None:
        with smtplib.SMTP("127.0.0.1", listener.port, timeout=30) as client:
            for message in batch:
                client.send_message(message)

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(send, [messages[i::6] for i in range(6)] + [messages[::2]]))
    store = open_store(db_url)
    with store() as session:
        assert session.execute(select(func.count()).select_from(InboundMail)).scalar() == 60
        assert session.execute(select(func.count()).select_from(Message)).scalar() == 60


def test_a_store_error_answers_451_and_the_retry_is_stored(tmp_path: Path) -> None:
    broken = open_store(f"sqlite:///{tmp_path / 'missing' / 'x.db'}", migrate=False)
    (tmp_path / "missing" / "x.db").mkdir()  # a directory where the database file should be
    url = f"sqlite:///{tmp_path / 'goodwill.db'}"
    settings = load_settings(database_url=url, environ={})
    working = open_store(url)
    with ThreadPoolExecutor(2) as pool:
        handler = InboxHandler(broken, settings, clock=lambda: datetime.now(UTC), executor=pool)
        controller = Controller(handler, hostname="127.0.0.1", port=free_port())
        controller.start()
        try:
            message = mail("retry@client.example")
            with pytest.raises(smtplib.SMTPDataError) as refused:
                send(controller.port, message)
            assert refused.value.smtp_code == 451
            handler.store = working  # the store is back: the sender's retry is accepted
            send(controller.port, message)
            send(controller.port, message)
        finally:
            controller.stop()
    assert _count(working, InboundMail) == 1 and _count(working, Message) == 1


def _count(store: sessionmaker[Session], model: type) -> int:
    with store() as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def test_hostile_messages_are_accepted_once_kept_and_the_next_one_is_filed(
    listener: Listener, db_url: str
) -> None:
    hostile = [
        b"From: <anna@client.example>\r\nSubject: Hi\r\nMessage-ID: <n\x00ul@client.example>"
        b"\r\n\r\nBo\x00dy\r\n",
        b"From: <anna@client.example>\r\nSubject: \xff\r\nMessage-ID: <\xff\xfe@client.example>"
        b"\r\n\r\nBody\r\n",
        b"\xff\xfe\x00 no headers\r\n",
    ]
    for raw in hostile:
        listener.send(raw)  # 250, or smtplib raises
    listener.send(mail("after@client.example"))
    store = open_store(db_url)
    with store() as session:
        kept = session.execute(select(InboundMail.status).order_by(InboundMail.id)).scalars()
        assert list(kept) == ["parsed", "parsed", "failed", "parsed"]
        filed = session.execute(select(Message.message_id).order_by(Message.id)).scalars()
        assert list(filed) == ["nul@client.example", "ÿþ@client.example", "after@client.example"]


def test_a_message_over_the_size_limit_is_refused_with_552(tmp_path: Path) -> None:
    config = tmp_path / "goodwill.toml"
    config.write_text("[mail]\nmax_message_bytes = 4000\n", encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'goodwill.db'}"
    open_store(url)
    port = free_port()
    process = subprocess.Popen(
        [
            GOODWILL,
            "--db",
            url,
            "--config",
            str(config),
            "--now",
            NOW,
            "smtpd",
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for_port(port, process)
        big = mail("big@client.example", text="x" * 5000)
        with pytest.raises(smtplib.SMTPSenderRefused) as announced:  # SIZE= on MAIL FROM
            send(port, big)
        assert announced.value.smtp_code == 552
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:  # no SIZE= given
            client.ehlo()
            assert client.has_extn("size") and client.esmtp_features["size"] == "4000"
            assert client.mail("client@example.com")[0] == 250
            assert client.rcpt("care@shop.example")[0] == 250
            code, _ = client.data(big.as_bytes(policy=SMTP))
            assert code == 552
        send(port, mail("small@client.example"))
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert _count(open_store(url), InboundMail) == 1
