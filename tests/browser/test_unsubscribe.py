"""The unsubscribe link in headless Chromium, on a desktop and on a 390 px phone: the client sees
the business's name and one button; pressing it unsubscribes them, and the link opened again
says they already are."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from goodwill.domain.unsubscribe import issue_token
from goodwill.settings import Settings
from goodwill.store.models import Client
from goodwill.web.secret import secret_key
from tests.browser.conftest import expect, sample_seed, serve
from tests.web.sample import LONG_CLIENT, LONG_CLIENT_NAME

pytestmark = pytest.mark.browser

LINKS: dict[str, str] = {}


def _seed(store: sessionmaker[Session], settings: Settings) -> None:
    sample_seed(store, settings)
    with store.begin() as session:
        client = session.execute(
            select(Client).where(Client.external_id == LONG_CLIENT)
        ).scalar_one()
        client.marketing_consent = True
        LINKS["long"] = "/unsubscribe/" + issue_token(secret_key(settings), client.id)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from serve(
        tmp_path_factory,
        _seed,
        adjust=lambda s: dataclasses.replace(s, business_name="Holloway & Daughters"),
    )


def test_a_client_unsubscribes_with_one_button_on_a_phone_and_on_a_desktop(
    browser: Any, live_server: str, page: Any
) -> None:
    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, base_url=live_server, has_touch=True
    )
    try:
        tab = phone.new_page()
        tab.goto(LINKS["long"])
        expect(tab.locator("h1")).to_have_text("Stop marketing emails?")
        expect(tab.locator(".feedback-from")).to_have_text("Holloway & Daughters")
        assert LONG_CLIENT_NAME not in tab.content()
        button = tab.get_by_role("button", name="Unsubscribe")
        expect(button).to_be_visible()
        assert tab.evaluate("document.documentElement.scrollWidth") <= 390
        button.tap()
        expect(tab.locator("h1")).to_have_text("You are unsubscribed")
    finally:
        phone.close()
    page.goto(LINKS["long"])
    expect(page.locator("h1")).to_have_text("Stop marketing emails?")
    expect(page.get_by_text("You are already unsubscribed")).to_be_visible()
    assert page.get_by_role("button", name="Unsubscribe").count() == 0
