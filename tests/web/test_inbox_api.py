"""The inbox over the JSON API: hand in a raw message, list and read conversations, reply."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from goodwill.settings import Settings
from goodwill.store.models import Outbox
from goodwill.web import create_app
from tests.conftest import NOW


def raw(message_id: str, text: str, reply_to: str | None = None) -> bytes:
    m = EmailMessage()
    m["From"] = "Yara Haddad <yara@example.net>"
    m["To"] = "care@shop.example"
    m["Subject"] = "Re: Descaling" if reply_to else "Descaling"
    m["Message-ID"] = f"<{message_id}>"
    if reply_to:
        m["In-Reply-To"] = f"<{reply_to}>"
    m.set_content(text)
    return m.as_bytes()


@pytest.fixture
def mail_http(web_settings: Settings, seeded: sessionmaker[Session]) -> Iterator[TestClient]:
    settings = dataclasses.replace(web_settings, mail={"from_address": "care@shop.example"})
    with TestClient(create_app(settings, clock=lambda: NOW), follow_redirects=False) as client:
        yield client


def test_a_message_handed_in_becomes_a_conversation_and_a_reply_goes_to_the_outbox(
    mail_http: TestClient, token: str, seeded: sessionmaker[Session]
) -> None:
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "message/rfc822"}
    first = mail_http.post(
        "/api/v1/messages", content=raw("y1@example.net", "How often?"), headers=auth
    )
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["status"] == "parsed" and not body["duplicate"]
    again = mail_http.post(
        "/api/v1/messages", content=raw("y1@example.net", "How often?"), headers=auth
    )
    assert again.status_code == 200 and again.json()["duplicate"]
    follow = mail_http.post(
        "/api/v1/messages",
        content=raw("y2@example.net", "Also: which product?\n\n> How often?", "y1@example.net"),
        headers=auth,
    )
    assert follow.json()["conversation_id"] == body["conversation_id"]
    bearer = {"Authorization": f"Bearer {token}"}
    listed = mail_http.get("/api/v1/conversations?messages=true", headers=bearer).json()
    (conversation,) = listed
    assert conversation["client_id"] == "yara@example.net"
    assert [m["new_text"].strip() for m in conversation["messages"]] == [
        "How often?",
        "Also: which product?",
    ]
    one = mail_http.get(f"/api/v1/conversations/{conversation['id']}", headers=bearer)
    assert one.status_code == 200 and len(one.json()["messages"]) == 2
    replied = mail_http.post(
        f"/api/v1/conversations/{conversation['id']}/reply",
        json={"text": "Every 3 months. I'll send you a link to our descaler today."},
        headers=bearer,
    )
    assert replied.status_code == 201, replied.text
    with seeded() as session:
        (row,) = session.execute(select(Outbox)).scalars()
        assert b"In-Reply-To: <y2@example.net>" in row.body
    blocked = mail_http.post(
        f"/api/v1/conversations/{conversation['id']}/reply",
        json={"text": "Hi {{ first_name }}, we will call you at 3pm."},
        headers=bearer,
    )
    assert blocked.status_code == 422 and blocked.json()["blocked"] is True
    assert blocked.json()["findings"][0]["code"] == "unfilled_placeholder"
    assert mail_http.get("/api/v1/conversations/999", headers=bearer).status_code == 404
    assert mail_http.get("/api/v1/conversations").status_code == 401
    empty = mail_http.post("/api/v1/messages", content=b"  ", headers=auth)
    assert empty.status_code == 422


def test_a_reply_without_a_sending_address_says_what_to_set(http: TestClient, token: str) -> None:
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "message/rfc822"}
    made = http.post("/api/v1/messages", content=raw("z1@example.net", "Hello?"), headers=auth)
    cid = made.json()["conversation_id"]
    refused = http.post(
        f"/api/v1/conversations/{cid}/reply",
        json={"text": "Hi"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert refused.status_code == 503 and "mail.from_address" in refused.json()["message"]
