"""The first run in headless Chromium, on a desktop and at 390 px: a new owner on an empty
database is sent from the login form to the setup page, is told why a common password is
refused, makes their account, lands logged in on the business page (the time zone proposed
by the browser) and gets the lines for the settings file."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from goodwill.settings import Settings
from tests.browser.conftest import expect, serve

pytestmark = pytest.mark.browser

OVERFLOW = "document.documentElement.scrollWidth - window.innerWidth"


def _nobody(store: sessionmaker[Session], settings: Settings) -> None:
    """A new database: migrated, with no account and no data."""


@pytest.fixture
def empty_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from serve(tmp_path_factory, _nobody)


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (390, 844)])
def test_a_new_owner_makes_their_account_and_lands_logged_in_on_the_business_setup(
    browser: Any, empty_server: str, width: int, height: int
) -> None:
    phone = width < 500
    context = browser.new_context(
        viewport={"width": width, "height": height},
        base_url=empty_server,
        is_mobile=phone,
        has_touch=phone,
        timezone_id="Europe/Amsterdam",
    )
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    try:
        tab.goto("/")
        tab.wait_for_url("**/setup")
        expect(tab.locator("h1")).to_have_text("Set up goodwill")
        expect(tab.locator("main")).to_contain_text("No one has an account yet")
        expect(tab.locator("#code")).to_have_count(0)  # this machine needs no code
        assert tab.evaluate(OVERFLOW) <= 0
        tab.fill("#name", "Anna de Vries")
        tab.fill("#email", "anna@kade.example")
        tab.fill("#password", "password123")
        tab.click("button[type=submit]")
        expect(tab.locator("#setup-problem")).to_contain_text("one of the most common ones")
        expect(tab.locator("#name")).to_have_value("Anna de Vries")
        tab.fill("#password", "a quiet harbour at dawn")
        tab.click("button[type=submit]")
        tab.wait_for_url("**/setup/business")
        expect(tab.locator("h1")).to_have_text("Your business")
        expect(tab.locator("#timezone")).to_have_value("Europe/Amsterdam")
        expect(tab.locator("#timezone-hint")).to_contain_text("Proposed from this browser")
        assert tab.evaluate(OVERFLOW) <= 0
        tab.fill("#business_name", "Kade Koffie")
        tab.fill("#currency", "EUR")
        tab.fill("#country", "NL")
        tab.click("form[action='/setup/business'] button[type=submit]")
        lines = tab.locator("#setup-lines pre")
        expect(lines).to_contain_text('business_name = "Kade Koffie"')
        expect(lines).to_contain_text('timezone = "Europe/Amsterdam"')
        expect(lines).to_contain_text('country = "NL"')
        assert tab.evaluate(OVERFLOW) <= 0
        tab.click("#setup-lines a.button")
        tab.wait_for_url("**/today")
        if phone:
            tab.click("summary.menu-button")
        expect(tab.locator(".who-name")).to_have_text("Anna de Vries")
        assert errors == []
    finally:
        context.close()
