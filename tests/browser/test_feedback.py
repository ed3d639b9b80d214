"""The personal feedback link in headless Chromium: a client opens it, answers, is thanked; the
same link opened again, and an expired one, are refused politely."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from goodwill.actions.feedback import ask, question
from goodwill.settings import Settings
from goodwill.store.models import Client
from tests.browser.conftest import expect, sample_seed, serve
from tests.conftest import NOW
from tests.web.sample import LONG_CLIENT, LONG_CLIENT_NAME

pytestmark = pytest.mark.browser

LINKS: dict[str, str] = {}


def _seed(store: sessionmaker[Session], settings: Settings) -> None:
    """The sample business, and two links for the long-standing client: fresh and expired."""
    sample_seed(store, settings)
    mailing = dataclasses.replace(
        settings, mail={"from_address": "care@shop.example"}, public_url="http://goodwill.test"
    )
    with store.begin() as session:
        client = session.execute(
            select(Client).where(Client.external_id == LONG_CLIENT)
        ).scalar_one()
        for name, asked_at in (("fresh", NOW), ("expired", NOW - timedelta(days=40))):
            made = ask(
                session,
                mailing,
                client,
                question(mailing, "miss-us"),
                key=f"browser/{name}",
                created_by="test",
                now=asked_at,
            )
            assert made is not None
            LINKS[name] = made.link.removeprefix("http://goodwill.test")


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from serve(tmp_path_factory, _seed)


@pytest.fixture
def page(browser: Any, live_server: str) -> Iterator[Any]:
    """As the shared fixture, except that the browser's note about the refused page's own 410
    status is expected here; any other console error still fails the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=live_server)
    tab = context.new_page()
    errors: list[str] = []
    tab.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    tab.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield tab
        unexpected = [e for e in errors if "status of 410 (Gone)" not in e]
        assert unexpected == [], f"browser console errors: {unexpected}"
    finally:
        context.close()


def test_a_client_answers_through_their_link_and_cannot_answer_twice(page: Any) -> None:
    page.goto(LINKS["fresh"])
    expect(page.locator("h1")).to_have_text("What would you miss if we were gone?")
    assert LONG_CLIENT_NAME not in page.content()
    page.fill("#answer", "The people who know my name, and deliveries that are never late.")
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Thank you")
    response = page.goto(LINKS["fresh"])
    assert response is not None and response.status == 410
    expect(page.locator("h1")).to_have_text("This question has already been answered")


def test_an_expired_link_is_refused_with_a_clear_page(page: Any) -> None:
    response = page.goto(LINKS["expired"])
    assert response is not None and response.status == 410
    expect(page.locator("h1")).to_have_text("This link has expired")
    assert page.locator("textarea").count() == 0
