"""The month's batch in Chromium: the page leads to the printable sheet of handwritten notes,
which shows each client's name and message on a desktop screen, on a 390 px phone and in print."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from goodwill.settings import Settings
from tests.browser.conftest import expect, serve
from tests.conftest import NOW
from tests.web.postcards import DECEMBER, seed_december, write_playbook
from tests.web.sample import PASSWORD

pytestmark = pytest.mark.browser

OVERFLOW = "document.documentElement.scrollWidth - window.innerWidth"


def _seed(store: sessionmaker[Session], settings: Settings) -> None:
    with store.begin() as session:
        seed_december(session, now=NOW)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder: Path = tmp_path_factory.mktemp("postcards")

    def adjust(settings: Settings) -> Settings:
        return dataclasses.replace(
            settings, playbook=write_playbook(folder), business_name="Harbour Linen"
        )

    yield from serve(tmp_path_factory, _seed, adjust=adjust)


@pytest.fixture(params=[(1280, 800), (390, 844)], ids=["desktop", "phone"])
def tab(request: pytest.FixtureRequest, browser: Any, live_server: str) -> Iterator[Any]:
    width, height = request.param
    phone = width < 500
    context = browser.new_context(
        viewport={"width": width, "height": height},
        base_url=live_server,
        is_mobile=phone,
        has_touch=phone,
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield page
        assert errors == [], f"browser console errors: {errors}"
    finally:
        context.close()


def test_the_sheet_shows_each_note_with_the_clients_name_and_message(tab: Any) -> None:
    path = f"/touches/batches?month={DECEMBER}"
    tab.goto(path)
    tab.fill("#email", "owner@example.com")
    tab.fill("#password", PASSWORD)
    tab.click("button[type=submit]")
    tab.wait_for_url(f"**{path}")
    expect(tab.locator("h1")).to_have_text("Postcards and notes, December 2026")
    expect(tab.locator("#batch-postcards")).to_contain_text("Margaret Holloway")
    assert tab.evaluate(OVERFLOW) <= 0
    tab.get_by_role("link", name="Printable sheet").click()
    tab.wait_for_url(f"**/touches/batches/{DECEMBER}/sheet")
    card = tab.locator(".sheet-card")
    expect(card).to_have_count(1)
    expect(card.locator(".sheet-name")).to_have_text("Nora Lindqvist")
    expect(card.locator(".sheet-text")).to_contain_text("Dear Nora,")
    expect(card.locator(".sheet-text")).to_contain_text("Happy birthday!")
    expect(card.locator(".sheet-mention")).to_contain_text("Sails a wooden boat")
    assert card.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(255, 255, 255)"
    assert tab.evaluate(OVERFLOW) <= 0
    tab.emulate_media(media="print")
    expect(tab.get_by_role("link", name="Back to the batch")).to_be_hidden()
    expect(card.locator(".sheet-name")).to_be_visible()
    assert card.evaluate("e => getComputedStyle(e).borderTopWidth") == "0px"  # print style
