"""A message kept but never read (the process stopped in between) is read on the next round."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from email.message import EmailMessage

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from goodwill.actions.inbox import read_stored, receive
from goodwill.settings import Settings
from goodwill.store.models import Conversation, InboundMail
from tests.conftest import NOW


def raw(message_id: str) -> bytes:
    m = EmailMessage()
    m["From"] = "Ivo <ivo@example.com>"
    m["Subject"] = "Opening hours"
    m["Message-ID"] = f"<{message_id}>"
    m.set_content("Are you open on Sunday?")
    return m.as_bytes()


def test_a_kept_but_unread_message_is_read_later_and_a_redelivery_stays_a_duplicate(
    store: sessionmaker[Session], settings: Settings
) -> None:
    body = raw("kept@example.com")
    with store.begin() as session:  # what a crash right after keeping leaves behind
        session.add(
            InboundMail(
                message_id="kept@example.com",
                source="smtp",
                received_at=NOW,
                sha256=hashlib.sha256(body).hexdigest(),
                raw=body,
                status="stored",
            )
        )
    assert receive(store, settings, body, source="smtp", now=NOW).duplicate
    assert read_stored(store, settings, now=NOW) == 0  # too fresh: its reader may still be on it
    assert read_stored(store, settings, now=NOW + timedelta(minutes=2)) == 1
    with store() as session:
        (inbound,) = session.execute(select(InboundMail)).scalars()
        assert inbound.status == "parsed"
        (conversation,) = session.execute(select(Conversation)).scalars()
        assert conversation.subject == "Opening hours"
    assert read_stored(store, settings, now=NOW + timedelta(minutes=3)) == 0


def test_a_message_id_too_long_for_the_column_is_kept_by_its_hash(
    store: sessionmaker[Session], settings: Settings
) -> None:
    long_id = "x" * 1500 + "@example.com"
    got = receive(store, settings, raw(long_id), source="smtp", now=NOW)
    assert got.status == "parsed"
    assert receive(store, settings, raw(long_id), source="imap", now=NOW).duplicate
    with store() as session:
        (inbound,) = session.execute(select(InboundMail)).scalars()
        assert inbound.message_id.endswith("@long-id.goodwill.invalid")
