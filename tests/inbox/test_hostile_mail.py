"""Mail as hostile or broken as it comes, on SQLite and PostgreSQL: each message is kept exactly as
it arrived, then filed or marked failed with its reason, and the next good message is filed."""

from __future__ import annotations

import mailbox
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from goodwill.actions.failed_mail import failed_mail, retry_failed
from goodwill.actions.inbox import file_stored, receive, reply
from goodwill.domain.audit import Actor
from goodwill.mail.maildir import poll_maildir
from goodwill.mail.parse import message_id_of
from goodwill.settings import Settings
from goodwill.store.models import Attachment, InboundMail, Message, Outbox
from goodwill.store.staff import add_user
from tests.conftest import NOW


def raw(
    message_id: bytes,
    *,
    sender: bytes = b"ivo@example.com",
    subject: bytes = b"Opening hours",
    body: bytes = b"Are you open on Sunday?",
    extra: bytes = b"",
) -> bytes:
    return (
        b"From: Ivo <" + sender + b">\r\nTo: care@shop.example\r\nSubject: " + subject + b"\r\n"
        b"Date: Mon, 23 Nov 2026 09:00:00 +0000\r\nMessage-ID: <"
        + message_id
        + b">\r\n"
        + extra
        + b"\r\n"
        + body
        + b"\r\n"
    )


def with_attachment(filename: bytes) -> bytes:
    return raw(
        b"file@example.com",
        extra=b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n',
        body=b"--b\r\nContent-Type: text/plain\r\n\r\nThe invoice.\r\n--b\r\n"
        b"Content-Type: application/pdf\r\n"
        b'Content-Disposition: attachment; filename="' + filename + b'"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b--",
    )


HOSTILE = {
    "a Message-ID that is not UTF-8": raw(b"\xff\xfe-1@example.com"),
    "a NUL in the Message-ID": raw(b"a\x00b@example.com"),
    "a NUL in the body": raw(b"body@example.com", body=b"Open on\x00 Sunday?"),
    "a NUL in the subject": raw(b"subject@example.com", subject=b"Opening\x00 hours"),
    "a NUL in the address": raw(b"address@example.com", sender=b"iv\x00o@example.com"),
    "a NUL in the attachment name": with_attachment(b"invo\x00ice.pdf"),
    "undecodable bytes everywhere": raw(
        b"\xc3\x28@example.com", sender=b"\xe9@example.com", subject=b"\xff\x00", body=b"\x80"
    ),
    "broken headers": b"\xff\xfe\x00\x01 no headers here\r\n\x00",
    "a garbled From": raw(b"garbled@example.com", sender=b"<<<@@>>>\x00"),
    "fields longer than their columns": raw(
        b"long@example.com",
        sender=b"a" * 400 + b"@example.com>, " + b"N" * 500 + b" <n@example.com",
        subject=b"S" * 2000,
        extra=b"In-Reply-To: <" + b"r" * 1500 + b"@example.com>\r\nTo: " + b"t" * 900 + b"\r\n",
    ),
}
#: No headers, no sender address: kept and marked failed, with the reason.
UNREADABLE = ("broken headers", "a garbled From")


def good(n: int) -> bytes:
    return raw(f"good-{n}@example.com".encode(), body=f"Question {n}".encode())


def inbound(store: sessionmaker[Session], inbound_id: int) -> InboundMail:
    with store() as session:
        row = session.get(InboundMail, inbound_id)
        assert row is not None
        session.expunge(row)
        return row


def message_of(store: sessionmaker[Session], inbound_id: int) -> Message:
    with store() as session:
        row = session.execute(select(Message).where(Message.inbound_id == inbound_id)).scalar_one()
        session.expunge(row)
        return row


@pytest.mark.parametrize("case", list(HOSTILE))
def test_a_hostile_message_is_kept_as_it_came_and_the_next_one_is_filed(
    case: str, store: sessionmaker[Session], settings: Settings
) -> None:
    bytes_in = HOSTILE[case]
    got = receive(store, settings, bytes_in, source="smtp", now=NOW)
    kept = inbound(store, got.inbound_id)
    assert kept.raw == bytes_in
    assert got.status == ("failed" if case in UNREADABLE else "parsed")
    assert kept.status == got.status
    if got.status == "failed":
        assert kept.error and kept.failed_at == NOW
    else:
        filed = message_of(store, got.inbound_id)
        assert filed.message_id == kept.message_id == message_id_of(bytes_in)
        texts = [filed.message_id, filed.subject, filed.text, filed.from_address]
        assert not any("\x00" in t for t in texts)
    assert receive(store, settings, bytes_in, source="imap", now=NOW).duplicate
    after = receive(store, settings, good(1), source="smtp", now=NOW)
    assert after.status == "parsed" and message_of(store, after.inbound_id).new_text == "Question 1"


def test_nul_and_undecodable_bytes_are_cleaned_where_they_are_shown(
    store: sessionmaker[Session], settings: Settings
) -> None:
    ids = {
        case: receive(store, settings, HOSTILE[case], source="smtp", now=NOW).inbound_id
        for case in HOSTILE
    }
    assert message_of(store, ids["a Message-ID that is not UTF-8"]).message_id == (
        "ÿþ-1@example.com"  # the bytes read as windows-1252, as for any 8-bit header
    )
    assert message_of(store, ids["a NUL in the Message-ID"]).message_id == "ab@example.com"
    assert message_of(store, ids["a NUL in the body"]).new_text == "Open on Sunday?"
    assert message_of(store, ids["a NUL in the subject"]).subject == "Opening hours"
    assert message_of(store, ids["a NUL in the address"]).from_address == "ivo@example.com"
    with store() as session:
        (name,) = session.execute(select(Attachment.filename)).scalars()
    assert name == "invoice.pdf"


@pytest.fixture
def staffed(store: sessionmaker[Session], settings: Settings) -> Settings:
    with store.begin() as session:
        add_user(
            session,
            email="owner@shop.example",
            name="Olga",
            role="owner",
            password="a long password",
            now=NOW,
        )
    return replace(settings, mail={"from_address": "care@shop.example"})


def test_our_own_reply_coming_back_is_kept_as_such_not_as_an_error(
    store: sessionmaker[Session], staffed: Settings
) -> None:
    first = receive(store, staffed, good(1), source="smtp", now=NOW)
    assert first.conversation_id is not None
    with store.begin() as session:
        row_id = reply(
            session,
            staffed,
            first.conversation_id,
            text="Yes, we will be open from ten.",
            author_email="owner@shop.example",
            actor=Actor.cli("tests"),
            now=NOW + timedelta(hours=1),
        )
    with store() as session:
        sent = session.execute(select(Outbox.body).where(Outbox.message_row_id == row_id))
        looped = bytes(sent.scalar_one())
    back = receive(store, staffed, looped, source="imap", now=NOW + timedelta(hours=2))
    assert (back.status, back.conversation_id) == ("own-reply", first.conversation_id)
    kept = inbound(store, back.inbound_id)
    assert kept.status == "own-reply" and kept.error is None
    assert kept.note == f"goodwill's own reply (message {row_id}) came back"
    with store() as session:
        assert session.execute(select(func.count()).select_from(Message)).scalar_one() == 2
    assert receive(store, staffed, looped, source="imap", now=NOW).duplicate
    assert failed_mail(store) == []


def test_a_different_message_reusing_a_stored_message_id_is_kept_flagged_and_filed(
    store: sessionmaker[Session], settings: Settings
) -> None:
    first = receive(store, settings, raw(b"same@example.com"), source="smtp", now=NOW)
    other_bytes = raw(b"same@example.com", subject=b"Invoice", body=b"Where is my invoice?")
    other = receive(store, settings, other_bytes, source="smtp", now=NOW)
    assert (other.status, other.duplicate) == ("parsed", False)
    kept = inbound(store, other.inbound_id)
    assert kept.raw == other_bytes and kept.message_id.endswith("@reused-id.goodwill.invalid")
    assert kept.note == (
        f"its Message-ID is also that of inbound {first.inbound_id}, a different message"
    )
    assert message_of(store, other.inbound_id).new_text == "Where is my invoice?"
    assert message_of(store, first.inbound_id).new_text == "Are you open on Sunday?"
    again = receive(store, settings, other_bytes, source="imap", now=NOW)
    assert (again.duplicate, again.inbound_id) == (True, other.inbound_id)
    # The same message by another path (another trace header above the same body): a duplicate.
    traced = raw(b"same@example.com", extra=b"Received: from mx.example.com\r\n")
    assert receive(store, settings, traced, source="imap", now=NOW).duplicate


def test_a_big_message_of_many_short_lines_is_filed_whole(
    store: sessionmaker[Session], settings: Settings
) -> None:
    body = b"Please call me back.\r\n\r\n" + b"> ok\r\n" * 200_000
    got = receive(store, settings, raw(b"big@example.com", body=body), source="smtp", now=NOW)
    assert got.status == "parsed"
    filed = message_of(store, got.inbound_id)
    assert filed.new_text == "Please call me back."
    assert filed.text.count("\n> ok") == 200_000  # the whole body is kept


def test_a_message_that_cannot_be_filed_is_listed_and_filed_again_once_the_reason_is_gone(
    store: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    policy = tmp_path / "sla.toml"
    policy.write_text("[[policy]\nname = ", encoding="utf-8")  # a broken SLA file
    broken = replace(settings, sla=policy)
    got = receive(store, broken, good(1), source="smtp", now=NOW)
    assert got.status == "failed"
    (listed,) = failed_mail(store)
    assert (listed.id, listed.from_address, listed.subject) == (
        got.inbound_id,
        "ivo@example.com",
        "Opening hours",
    )
    assert str(policy) in listed.reason and listed.failed_at == NOW
    second = receive(store, broken, good(2), source="smtp", now=NOW)
    assert second.status == "failed"
    policy.write_text('[[policy]]\nname = "all"\nfirst_response = "4h"\n', encoding="utf-8")
    done = retry_failed(store, broken, None, now=NOW + timedelta(minutes=5))
    assert [(i, r.status) for i, r in done] == [
        (got.inbound_id, "parsed"),
        (second.inbound_id, "parsed"),
    ]
    assert failed_mail(store) == []
    kept = inbound(store, got.inbound_id)
    assert (kept.status, kept.error, kept.failed_at) == ("parsed", None, None)


def test_a_maildir_poll_moves_past_a_hostile_message_to_the_next(
    store: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "Maildir"
    box = mailbox.Maildir(path, create=True)
    for case in ("a NUL in the Message-ID", "broken headers", "a Message-ID that is not UTF-8"):
        box.add(HOSTILE[case])
    box.add(good(1))
    box.close()
    report = poll_maildir(store, settings, path, clock=lambda: NOW)
    assert (report.parsed, report.failed, report.errors) == (3, 1, 0)
    assert list((path / "new").iterdir()) == []
    assert poll_maildir(store, settings, path, clock=lambda: NOW).fetched == 0


def test_filing_a_message_another_process_filed_meanwhile_changes_nothing(
    store: sessionmaker[Session], settings: Settings
) -> None:
    got = receive(store, settings, good(1), source="smtp", now=NOW)
    again = file_stored(store, settings, got.inbound_id, now=NOW + timedelta(minutes=2))
    assert (again.status, again.duplicate) == ("duplicate", True)
    kept = inbound(store, got.inbound_id)
    assert (kept.status, kept.error) == ("parsed", None)
    with store() as session:
        assert session.execute(select(func.count()).select_from(Message)).scalar_one() == 1
