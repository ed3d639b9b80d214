"""Click tracking in Chromium: a tracked link takes a person straight on and is recorded; a
forged one shows the "not known" page, which fits a phone."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from goodwill.mail.tracked_links import ClickSigner
from goodwill.settings import load_settings
from goodwill.store.database import open_store
from goodwill.store.models import Client, Event
from goodwill.web import create_app
from tests.browser.conftest import expect, sample_seed
from tests.conftest import NOW
from tests.web.live import serving
from tests.web.sample import LONG_CLIENT
from tests.web.test_clicks import sent_mail

PUBLIC = "https://care.example.com"
KEY = "browser-click-key"
MAIL = "reply:b1@shop.example"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, sessionmaker[Session]]]:
    """The sample business with click tracking on and one reply delivered two hours ago."""
    url = f"sqlite:///{tmp_path_factory.mktemp('live-clicks') / 'goodwill.db'}"
    settings = dataclasses.replace(
        load_settings(database_url=url, environ={}),
        secret_key=KEY,
        public_url=PUBLIC,
        tracking={"clicks": True, "min_seconds": 30},
    )
    store = open_store(url)
    sample_seed(store, settings)
    sent_mail(store, at=NOW - timedelta(hours=2), key=MAIL)
    with serving(create_app(settings, clock=lambda: NOW)) as base:
        yield base, store


def _context(browser: Any, base: str, width: int) -> Any:
    return browser.new_context(viewport={"width": width, "height": 800}, base_url=base)


def test_a_person_following_a_tracked_link_lands_on_it_and_the_click_is_recorded(
    browser: Any, live: tuple[str, sessionmaker[Session]]
) -> None:
    base, store = live
    with store() as session:
        client_id = session.execute(
            select(Client.id).where(Client.external_id == LONG_CLIENT)
        ).scalar_one()
    target = f"{base}/login?from=mail"
    tracked = ClickSigner(KEY, PUBLIC)(client_id, target, MAIL).removeprefix(PUBLIC)
    context = _context(browser, base, 1280)
    try:
        page = context.new_page()
        page.goto(tracked)
        assert page.url == target
        expect(page.locator("#email")).to_be_visible()
    finally:
        context.close()
    with store() as session:
        (event,) = session.execute(
            select(Event).where(Event.type == "email.link_clicked")
        ).scalars()
        assert event.client_id == client_id and event.payload["url"] == target


@pytest.mark.parametrize("width", [1280, 390])
def test_a_forged_link_shows_a_page_that_says_so_and_goes_nowhere(
    browser: Any, live: tuple[str, sessionmaker[Session]], width: int
) -> None:
    base, _ = live
    forged = ClickSigner("not the key", PUBLIC)(1, "https://evil.example/", MAIL)
    context = _context(browser, base, width)
    try:
        page = context.new_page()
        response = page.goto(forged.removeprefix(PUBLIC))
        assert response.status == 404
        assert page.url.startswith(base + "/click/")
        expect(page.get_by_role("heading", name="This link is not known")).to_be_visible()
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0
    finally:
        context.close()
