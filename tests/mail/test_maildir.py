"""Maildir polling on a folder written with the standard library's mailbox.Maildir."""

from __future__ import annotations

import mailbox
import os
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from goodwill.errors import ConfigError
from goodwill.mail.maildir import maildir_path, poll_maildir
from goodwill.settings import Settings
from goodwill.store.database import open_store
from goodwill.store.models import InboundMail, Message
from tests.cli.test_cli import goodwill
from tests.conftest import NOW


def mail(n: int) -> bytes:
    message = EmailMessage()
    message["From"] = f"client{n}@client.example"
    message["To"] = "care@shop.example"
    message["Subject"] = f"Question {n}"
    message["Date"] = "Mon, 23 Nov 2026 09:00:00 +0000"
    message["Message-ID"] = f"<md{n}@client.example>"
    message.set_content(f"Message {n}")
    return message.as_bytes(policy=SMTP)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "Maildir"
    box = mailbox.Maildir(path, create=True)
    for n in (1, 2, 3):
        box.add(mail(n))  # delivered: new/
    read = mailbox.MaildirMessage(mail(4))
    read.set_subdir("cur")  # opened by a mail program, not yet marked seen
    box.add(read)
    seen = mailbox.MaildirMessage(mail(5))
    seen.set_subdir("cur")
    seen.set_flags("S")
    box.add(seen)
    box.add(b"\x00 not a mail \xff\n")
    box.close()
    return path


def files(path: Path, sub: str) -> list[str]:
    return sorted(os.listdir(path / sub))


def test_unseen_messages_are_stored_once_and_then_marked_seen(
    folder: Path, store: sessionmaker[Session], settings: Settings
) -> None:
    report = poll_maildir(store, settings, folder, clock=lambda: NOW)
    assert (report.fetched, report.parsed, report.failed) == (5, 4, 1)
    assert files(folder, "new") == []
    assert all(name.endswith(":2,S") for name in files(folder, "cur"))
    assert len(files(folder, "cur")) == 6
    with store() as session:
        ids = set(session.execute(select(Message.message_id)).scalars())
        statuses = session.execute(select(InboundMail.source, InboundMail.status)).all()
    assert ids == {f"md{n}@client.example" for n in (1, 2, 3, 4)}  # md5 was already seen
    assert sorted(statuses) == [("maildir", "failed")] + [("maildir", "parsed")] * 4
    assert poll_maildir(store, settings, folder, clock=lambda: NOW).fetched == 0


def test_a_message_delivered_twice_is_stored_once(
    folder: Path, store: sessionmaker[Session], settings: Settings
) -> None:
    poll_maildir(store, settings, folder, clock=lambda: NOW)
    box = mailbox.Maildir(folder)
    box.add(mail(2))
    again = poll_maildir(store, settings, folder, clock=lambda: NOW)
    assert (again.fetched, again.duplicates) == (1, 1)
    with store() as session:
        assert session.execute(select(func.count()).select_from(Message)).scalar() == 4


def test_a_message_that_cannot_be_stored_stays_in_new_for_the_next_poll(
    folder: Path, tmp_path: Path, settings: Settings
) -> None:
    (tmp_path / "gone").mkdir()
    (tmp_path / "gone" / "x.db").mkdir()  # a directory where the database file should be
    broken = open_store(f"sqlite:///{tmp_path / 'gone' / 'x.db'}", migrate=False)
    report = poll_maildir(broken, settings, folder, clock=lambda: NOW)
    assert (report.fetched, report.errors) == (0, 5)
    assert len(files(folder, "new")) == 4
    working = open_store(f"sqlite:///{tmp_path / 'goodwill.db'}")
    assert poll_maildir(working, settings, folder, clock=lambda: NOW).fetched == 5


def test_a_folder_that_is_not_a_maildir_is_named(tmp_path: Path, settings: Settings) -> None:
    with pytest.raises(ConfigError, match="not a Maildir"):
        maildir_path(settings, tmp_path)
    with pytest.raises(ConfigError, match=r"mail\.maildir"):
        maildir_path(settings)


def test_mail_poll_maildir_from_the_terminal(folder: Path, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'goodwill.db'}"
    done = goodwill("mail", "poll", "--maildir", str(folder), db=db)
    assert done.returncode == 0, done.stderr
    assert "5 fetched: 4 filed, 1 failed (kept: goodwill mail failed), 0 duplicates" in done.stdout
    nothing = goodwill("mail", "poll", db=db)
    assert nothing.returncode == 2 and "nothing to poll" in nothing.stderr
