"""Handing in a message over the API: hostile bytes are kept and filed; one over the size limit is
refused with the limit named."""

from __future__ import annotations

import dataclasses

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from goodwill.settings import Settings
from goodwill.store.models import InboundMail
from goodwill.web import create_app
from tests.conftest import NOW

HOSTILE = (
    b"From: Yara <yara@example.net>\r\nSubject: Desc\x00aling\r\n"
    b"Message-ID: <y\x00\xff@example.net>\r\n\r\nHow \x00often?\r\n"
)


def test_hostile_bytes_are_kept_and_filed_and_a_message_over_the_limit_is_refused(
    web_settings: Settings, seeded: sessionmaker[Session], token: str
) -> None:
    limited = dataclasses.replace(web_settings, mail={"max_message_bytes": 2000})
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "message/rfc822"}
    with TestClient(create_app(limited, clock=lambda: NOW)) as http:
        taken = http.post("/api/v1/messages", content=HOSTILE, headers=auth)
        assert taken.status_code == 201, taken.text
        assert taken.json()["status"] == "parsed"
        big = HOSTILE.replace(b"How", b"x" * 2000)
        refused = http.post("/api/v1/messages", content=big, headers=auth)
    # Refused by its declared length, before goodwill reads it.
    assert refused.status_code == 413
    assert refused.json()["limit"] == 2000
    with seeded() as session:
        (kept,) = session.execute(select(InboundMail)).scalars()
        assert (kept.raw, kept.message_id) == (HOSTILE, "yÿ@example.net")
