"""The store is never held hostage: one session per request, so a crowd of replies, draft checks,
status changes and handed-in messages never deadlocks the pool; a request that cannot get a
connection or the SQLite write lock in time is answered 503 with Retry-After at once."""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
from collections import Counter
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from goodwill.actions.inbox import receive
from goodwill.settings import Settings
from goodwill.store.models import Conversation
from goodwill.web import create_app
from tests.conftest import NOW
from tests.web.conftest import csrf_from, log_in
from tests.web.live import serving
from tests.web.sample import PASSWORD

#: A request still unanswered after this long hangs: the test fails instead of waiting on.
HANG = 60.0
ALLOWED = {200, 201, 303, 503}


def mail(n: int) -> bytes:
    m = EmailMessage()
    m["From"] = "Margaret Holloway <margaret@holloway.example>"
    m["To"] = "care@shop.example"
    m["Subject"] = f"Where is my order? ({n})"
    m["Message-ID"] = f"<crowd-{n}@holloway.example>"
    m.set_content("It has not arrived yet.\n")
    return m.as_bytes()


@pytest.fixture
def mailing(web_settings: Settings) -> Settings:
    return dataclasses.replace(web_settings, mail={"from_address": "care@shop.example"})


@pytest.fixture
def conversation(seeded: sessionmaker[Session], mailing: Settings) -> int:
    got = receive(seeded, mailing, mail(0), source="smtp", now=NOW)
    assert got.conversation_id is not None
    return got.conversation_id


def crowd(base: str, token: str, conversation: int, n: int) -> Counter[int]:
    """``n`` requests at once to the routes that used to open a second session; their statuses."""
    with httpx.Client(base_url=base, follow_redirects=False) as browser:
        login = csrf_from(browser.get("/login").text)
        form = {"email": "owner@example.com", "password": PASSWORD, "csrf_token": login}
        assert browser.post("/login", data=form).status_code == 303
        csrf = csrf_from(browser.get(f"/inbox/{conversation}").text)
        cookies = dict(browser.cookies)
    api = {"Authorization": f"Bearer {token}"}

    def request(i: int) -> dict[str, Any]:
        kind = i % 4
        if kind == 0:
            return {
                "method": "POST",
                "url": f"/inbox/{conversation}/check",
                "data": {"csrf_token": csrf, "text": "Thank you, Margaret; it ships today."},
            }
        if kind == 1:
            return {
                "method": "POST",
                "url": f"/api/v1/conversations/{conversation}/reply",
                "json": {"text": "It ships today.", "override_reason": "load test"},
                "headers": api,
            }
        if kind == 2:
            to = ("waiting", "open")[i % 8 // 4]
            return {
                "method": "POST",
                "url": f"/inbox/{conversation}/status",
                "data": {"csrf_token": csrf, "to": to},
            }
        return {
            "method": "POST",
            "url": "/api/v1/messages",
            "content": mail(i + 1),
            "headers": api | {"Content-Type": "message/rfc822"},
        }

    async def all_at_once() -> list[int]:
        limits = httpx.Limits(max_connections=n, max_keepalive_connections=n)
        async with httpx.AsyncClient(
            base_url=base, cookies=cookies, limits=limits, timeout=HANG
        ) as client:
            responses = await asyncio.gather(*(client.request(**request(i)) for i in range(n)))
        for response in responses:
            if response.status_code == 503:
                assert response.headers["Retry-After"]
        return [r.status_code for r in responses]

    return Counter(asyncio.run(all_at_once()))


@pytest.mark.parametrize("n", [20, 200])
def test_a_crowd_on_the_formerly_two_session_routes_is_answered_never_left_hanging(
    n: int, mailing: Settings, conversation: int, token: str, seeded: sessionmaker[Session]
) -> None:
    with serving(create_app(mailing, clock=lambda: NOW)) as base:
        statuses = crowd(base, token, conversation, n)
    assert set(statuses) <= ALLOWED, statuses
    assert sum(statuses.values()) == n
    assert statuses[200] + statuses[201] + statuses[303] > 0
    with seeded() as session:
        assert session.get(Conversation, conversation) is not None


def test_no_free_connection_answers_503_with_retry_after_at_once(
    web_settings: Settings, seeded: sessionmaker[Session], token: str
) -> None:
    tight = dataclasses.replace(
        web_settings, database={"pool_size": 1, "max_overflow": 0, "pool_timeout": 0.2}
    )
    app = create_app(tight, clock=lambda: NOW)
    with TestClient(app, follow_redirects=False) as http:
        assert log_in(http).status_code == 303
        api = {"Authorization": f"Bearer {token}"}
        with app.state.goodwill.sessions() as holder:
            holder.execute(text("SELECT 1"))  # the pool's only connection, held
            refused = http.get("/api/v1/clients", headers=api)
            page = http.get("/clients")
        assert refused.status_code == 503
        assert refused.headers["Retry-After"] == "2"
        assert refused.json()["code"] == "busy"
        assert page.status_code == 503 and "busy right now" in page.text
        assert http.get("/api/v1/clients", headers=api).status_code == 200


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_held_sqlite_write_lock_answers_503_and_writes_nothing(
    web_settings: Settings, mailing: Settings, conversation: int, seeded: sessionmaker[Session]
) -> None:
    quick = dataclasses.replace(mailing, database={"busy_timeout": 0.1})
    with TestClient(create_app(quick, clock=lambda: NOW), follow_redirects=False) as http:
        assert log_in(http).status_code == 303
        csrf = csrf_from(http.get(f"/inbox/{conversation}").text)
        path = quick.database_url.removeprefix("sqlite:///")
        writer = sqlite3.connect(path, isolation_level=None)
        writer.execute("BEGIN IMMEDIATE")  # another process mid-write
        try:
            form = {"csrf_token": csrf, "to": "closed"}
            refused = http.post(f"/inbox/{conversation}/status", data=form)
        finally:
            writer.execute("ROLLBACK")
            writer.close()
        assert refused.status_code == 503 and refused.headers["Retry-After"] == "2"
        with seeded() as session:
            status = session.execute(
                select(Conversation.status).where(Conversation.id == conversation)
            ).scalar_one()
        assert status == "open"
        done = http.post(f"/inbox/{conversation}/status", data=form)
        assert done.status_code == 303
