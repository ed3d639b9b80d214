"""The listening page in headless Chromium: on a wide screen the themes are a table with a bar
for each share; on a 390 px phone they read as cards, nothing scrolls sideways, and a mistyped day
comes back with its message next to the field, as typed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from goodwill.settings import Settings
from goodwill.store.models import Client
from tests.browser.conftest import expect, log_in, sample_seed, serve
from tests.conftest import NOW
from tests.web.sample import LONG_CLIENT
from tests.web.test_listening_http import told_staff

pytestmark = pytest.mark.browser

OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"


def _seed(store: sessionmaker[Session], settings: Settings) -> None:
    """The sample business, and what the long-standing client told staff twice."""
    sample_seed(store, settings)
    with store.begin() as session:
        client = session.execute(
            select(Client).where(Client.external_id == LONG_CLIENT)
        ).scalar_one()
        told_staff(session, settings, client, "Lovely staff, they know my name.", days_ago=30)
        told_staff(session, settings, client, "Deliveries always on time, never late.", days_ago=3)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from serve(tmp_path_factory, _seed)


def test_themes_read_as_a_table_on_a_wide_screen_and_as_cards_on_a_phone(page: Any) -> None:
    log_in(page, "/listening")
    expect(page.locator("h1")).to_have_text("Listening")
    people = page.locator('tr[data-theme="people"]')
    expect(people.locator(".share-long .share-value")).to_have_text("50%")
    expect(people).to_contain_text("Lovely staff, they know my name.")
    bar = people.locator(".share-long meter")
    assert bar.bounding_box()["width"] > 40
    assert page.evaluate("(e) => getComputedStyle(e).display", people.element_handle()) == (
        "table-row"
    )
    expect(page.locator('tr[data-question="miss-us"]')).to_contain_text("not asked by link")

    page.set_viewport_size({"width": 390, "height": 844})
    card = people.element_handle()
    assert page.evaluate("(e) => getComputedStyle(e).display", card) == "grid"
    assert page.evaluate(OVERFLOW) <= 0
    cell = people.locator(".share-long")
    assert page.evaluate("(e) => getComputedStyle(e).display", cell.element_handle()) == "block"
    assert cell.get_attribute("data-label") == "Long-term clients"

    page.fill("#until", "32/13/2026")
    page.click("#listening-filter button[type=submit]")
    expect(page.locator("#until-error")).to_contain_text("Not a date")
    expect(page.locator("#until")).to_have_value("32/13/2026")
    page.console_errors[:] = [e for e in page.console_errors if "status of 422" not in e]
    assert page.evaluate(OVERFLOW) <= 0

    page.fill("#until", (NOW - timedelta(days=10)).date().isoformat())
    page.click("#listening-filter button[type=submit]")
    expect(people.locator(".share-long .share-value")).to_have_text("100%")
    expect(page.locator('tr[data-theme="timeliness"]')).to_have_count(0)


def test_the_tier_filter_fits_a_phone_and_keeps_to_one_tier(page: Any) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, "/listening")
    page.select_option("#tier", "silver")
    page.click("#listening-filter button[type=submit]")
    expect(page.locator("#themes")).to_contain_text("No answers from new or long-term silver")
    expect(page.locator("#tier")).to_have_value("silver")
    assert page.evaluate(OVERFLOW) <= 0
    page.select_option("#tier", "")
    page.click("#listening-filter button[type=submit]")
    expect(page.locator('tr[data-theme="people"]')).to_have_count(1)
