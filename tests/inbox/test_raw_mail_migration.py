"""Migration 0010 on a store that holds mail: a failure keeps its time, and on PostgreSQL a
raw-mail column held as text becomes bytes with its text intact."""

from __future__ import annotations

from alembic import command
from sqlalchemy import text

from goodwill.store.database import alembic_config, open_store
from goodwill.store.models import InboundMail


def test_raw_mail_held_as_text_becomes_bytes_and_old_failures_keep_their_time(
    db_url: str,
) -> None:
    store = open_store(db_url, migrate=False)
    engine = store.kw["bind"]
    command.upgrade(alembic_config(engine), "0009")
    postgres = engine.dialect.name == "postgresql"
    raw = b"From: ivo@example.com\r\nSubject: Caf\xc3\xa9\r\n\r\nHi"
    with engine.begin() as connection:
        if postgres:  # as a store made by hand might hold it
            connection.execute(text("ALTER TABLE inbound_mail ALTER COLUMN raw TYPE text"))
        connection.execute(
            text(
                "INSERT INTO inbound_mail (message_id, source, received_at, sha256, raw, status, "
                "error) VALUES ('a@example.com', 'smtp', '2026-11-23 15:00:00+00', 'x', :raw, "
                "'failed', 'no sender address')"
            ),
            {"raw": raw.decode() if postgres else raw},
        )
    command.upgrade(alembic_config(engine), "head")
    with store() as session:
        kept = session.get(InboundMail, 1)
        assert kept is not None
        assert kept.raw == raw
        assert kept.failed_at == kept.received_at and kept.note is None
