"""IMAP polling against a real Dovecot on loopback: started once per test run from Debian's
dovecot-imapd (scripts/setup --test installs it), with a generated configuration in a temporary
directory, run as an unprivileged user, stopped at the end."""

from __future__ import annotations

import imaplib
import os
import pwd
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from goodwill.errors import GoodwillError
from goodwill.mail.imap import ImapAccount, poll_imap
from goodwill.settings import Settings
from goodwill.store.models import InboundMail, MailboxState, Message
from tests.cli.test_cli import goodwill
from tests.conftest import NOW, unavailable
from tests.pgserver import free_port

PASSWORD = "imap-test-password"


class Dovecot:
    def __init__(self, base: Path) -> None:
        self.base = base
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("dovecot") or "/usr/sbin/dovecot"
        if not Path(binary).exists():
            raise RuntimeError(
                "dovecot not installed (scripts/setup --test installs dovecot-imapd)"
            )
        # Dovecot runs unprivileged: as the `dovecot` user when the tests run as root.
        user = "dovecot" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
        for sub in ("run", "state", "mail"):
            (self.base / sub).mkdir()
        self.port = free_port()
        conf = self.base / "dovecot.conf"
        conf.write_text(
            f"""
protocols = imap
listen = 127.0.0.1
base_dir = {self.base}/run
state_dir = {self.base}/state
log_path = {self.base}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = {user}
default_internal_user = {user}
first_valid_uid = 1
mail_location = maildir:{self.base}/mail/%u
passdb {{
  driver = static
  args = password={PASSWORD}
}}
userdb {{
  driver = static
  args = uid={user} gid={user} home={self.base}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
""",
            encoding="utf-8",
        )
        if os.geteuid() == 0:
            for path in [self.base, *self.base.rglob("*")]:
                shutil.chown(path, user, user)
            parent = self.base.parent
            while parent != parent.parent:  # the user must be able to reach its directory
                os.chmod(parent, os.stat(parent).st_mode | 0o011)
                parent = parent.parent
        self.process = subprocess.Popen(
            [binary, "-F", "-c", str(conf)],
            user=user if os.geteuid() == 0 else None,
            group=user if os.geteuid() == 0 else None,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dovecot exited: {self.process.communicate()[1]!r}")
            try:
                imaplib.IMAP4("127.0.0.1", self.port, timeout=2).logout()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("dovecot did not listen within 20 s")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def client(self, user: str) -> imaplib.IMAP4:
        conn = imaplib.IMAP4("127.0.0.1", self.port, timeout=30)
        conn.login(user, PASSWORD)
        return conn

    def append(self, user: str, *messages: EmailMessage) -> None:
        conn = self.client(user)
        try:
            for message in messages:
                kind, data = conn.append("INBOX", None, None, message.as_bytes(policy=SMTP))
                assert kind == "OK", data
        finally:
            conn.logout()


@pytest.fixture(scope="session")
def dovecot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dovecot | str]:
    server = Dovecot(tmp_path_factory.mktemp("dovecot"))
    try:
        server.start()
    except (RuntimeError, OSError) as exc:
        server.stop()
        yield str(exc)
        return
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def imap(dovecot: Dovecot | str) -> Dovecot:
    if isinstance(dovecot, str):
        unavailable(f"Dovecot: {dovecot}")
        raise AssertionError("unreachable")
    return dovecot


@pytest.fixture
def user() -> str:
    """A mailbox of its own per test: Dovecot creates it at the first login."""
    return f"u{uuid.uuid4().hex[:10]}"


def mailbox_settings(settings: Settings, imap: Dovecot, user: str) -> Settings:
    return replace(
        settings,
        mail={
            "imap_host": "127.0.0.1",
            "imap_port": imap.port,
            "imap_user": user,
            "imap_password": PASSWORD,
            "imap_tls": False,
        },
    )


def mail(n: int, *, subject: str = "Question", reply_to: int | None = None) -> EmailMessage:
    message = EmailMessage()
    message["From"] = f"client{n % 3}@client.example"
    message["To"] = "care@shop.example"
    message["Subject"] = subject if reply_to is None else f"Re: {subject}"
    message["Date"] = "Mon, 23 Nov 2026 09:00:00 +0000"
    message["Message-ID"] = f"<m{n}@client.example>"
    if reply_to is not None:
        message["In-Reply-To"] = f"<m{reply_to}@client.example>"
    message.set_content(f"Message {n}")
    return message


def counts(store: sessionmaker[Session]) -> tuple[int, int]:
    with store() as session:
        return (
            int(session.execute(select(func.count()).select_from(InboundMail)).scalar_one()),
            int(session.execute(select(func.count()).select_from(Message)).scalar_one()),
        )


def test_each_message_is_fetched_once_and_a_later_poll_fetches_only_the_new_ones(
    imap: Dovecot, user: str, store: sessionmaker[Session], settings: Settings
) -> None:
    configured = mailbox_settings(settings, imap, user)
    imap.append(user, mail(1), mail(2, reply_to=1), mail(3, subject="Invoice"))
    first = poll_imap(store, configured, clock=lambda: NOW)
    assert (first.fetched, first.parsed) == (3, 3)
    assert counts(store) == (3, 3)
    imap.append(user, mail(4, reply_to=2), mail(1))  # a new one, and a second delivery of m1
    second = poll_imap(store, configured, clock=lambda: NOW + timedelta(minutes=1))
    assert (second.fetched, second.parsed, second.duplicates) == (2, 1, 1)
    assert counts(store) == (4, 4)
    assert poll_imap(store, configured, clock=lambda: NOW).fetched == 0
    key = ImapAccount.from_settings(configured.mail).key
    with store() as session:
        state = session.get(MailboxState, key)
        assert state is not None and state.last_uid == 5
        sources = set(session.execute(select(InboundMail.source)).scalars())
        threads = session.execute(
            select(Message.message_id, Message.conversation_id).order_by(Message.message_id)
        ).all()
    assert sources == {"imap"}
    assert len({c for m, c in threads if m != "m3@client.example"}) == 1
    conn = imap.client(user)
    try:
        conn.select("INBOX", readonly=True)
        _, flags = conn.uid("FETCH", "1:*", "(FLAGS)")
    finally:
        conn.logout()
    assert all(b"\\Seen" not in f for f in flags if isinstance(f, bytes))  # left unread


def test_a_rebuilt_mailbox_is_fetched_again_and_each_message_still_stored_once(
    imap: Dovecot, user: str, store: sessionmaker[Session], settings: Settings
) -> None:
    configured = mailbox_settings(settings, imap, user)
    imap.append(user, mail(1), mail(2))
    assert poll_imap(store, configured, clock=lambda: NOW).parsed == 2
    key = ImapAccount.from_settings(configured.mail).key
    with store.begin() as session:  # as if the server had renumbered the mailbox
        session.execute(update(MailboxState).values(uidvalidity=1))
    again = poll_imap(store, configured, clock=lambda: NOW)
    assert (again.fetched, again.duplicates) == (2, 2)
    assert counts(store) == (2, 2)
    with store() as session:
        state = session.get(MailboxState, key)
        assert state is not None and state.uidvalidity != 1 and state.last_uid == 2


def test_a_wrong_password_is_one_clear_error(
    imap: Dovecot, user: str, store: sessionmaker[Session], settings: Settings
) -> None:
    configured = mailbox_settings(settings, imap, user)
    wrong = replace(configured, mail={**configured.mail, "imap_password": "nope"})
    with pytest.raises(GoodwillError, match=f"IMAP 127.0.0.1:{imap.port}"):
        poll_imap(store, wrong, clock=lambda: NOW)


def test_mail_poll_imap_from_the_terminal(imap: Dovecot, user: str, tmp_path: Path) -> None:
    config = tmp_path / "goodwill.toml"
    config.write_text(
        f'[mail]\nimap_host = "127.0.0.1"\nimap_port = {imap.port}\nimap_user = "{user}"\n'
        f'imap_password = "{PASSWORD}"\nimap_tls = false\n',
        "utf-8",
    )
    db = f"sqlite:///{tmp_path / 'goodwill.db'}"
    imap.append(user, mail(1), mail(2))
    done = goodwill("mail", "poll", "--imap", db=db, config=config)
    assert done.returncode == 0, done.stderr
    assert "2 fetched: 2 filed" in done.stdout
    assert "0 fetched" in goodwill("mail", "poll", db=db, config=config).stdout
    refused = goodwill(
        "mail", "poll", "--imap", db=db, config=config, env={"GOODWILL_IMAP_PASSWORD": "wrong"}
    )
    assert refused.returncode == 1 and "error: IMAP" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_a_poll_moves_past_a_hostile_message_and_reads_the_ones_behind_it(
    imap: Dovecot, user: str, store: sessionmaker[Session], settings: Settings
) -> None:
    configured = mailbox_settings(settings, imap, user)
    hostile = (
        b"From: <client0@client.example>\r\nSubject: Hi\r\n"
        b"Message-ID: <\xff\xfe-bad@client.example>\r\n\r\nBody \xe9\r\n",
        b"Subject: no sender at all\r\nMessage-ID: <nosender@client.example>\r\n\r\nHello\r\n",
        b"From: <client1@client.example>\r\nSubject: Hi\x00\r\n"
        b"Message-ID: <n\x00ul@client.example>\r\n\r\nBo\x00dy\r\n",
    )
    conn = imap.client(user)
    try:
        for raw in hostile:
            kind, data = conn.append("INBOX", None, None, raw)
            assert kind == "OK", data
    finally:
        conn.logout()
    imap.append(user, mail(1))
    report = poll_imap(store, configured, clock=lambda: NOW)
    assert (report.fetched, report.parsed, report.failed) == (4, 3, 1)
    with store() as session:
        state = session.get(MailboxState, ImapAccount.from_settings(configured.mail).key)
        assert state is not None and state.last_uid == 4
        statuses = session.execute(select(InboundMail.status).order_by(InboundMail.id))
        assert list(statuses.scalars()) == ["parsed", "failed", "parsed", "parsed"]
        ids = session.execute(select(Message.message_id).order_by(Message.id)).scalars()
        # Dovecot keeps a NUL byte as 0x80, which reads as windows-1252's euro sign.
        assert list(ids) == ["ÿþ-bad@client.example", "n€ul@client.example", "m1@client.example"]
    assert poll_imap(store, configured, clock=lambda: NOW).fetched == 0
