"""IMAP polling against a real Dovecot on loopback (tests/mail/dovecot.py), started once per
test run and stopped at the end."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from goodwill.errors import GoodwillError
from goodwill.mail.imap import ImapAccount, poll_imap
from goodwill.settings import Settings
from goodwill.store.models import InboundMail, MailboxState, Message
from tests.cli.test_cli import goodwill
from tests.conftest import NOW
from tests.mail.dovecot import PASSWORD, Dovecot


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
