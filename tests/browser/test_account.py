"""The account page in headless Chromium, on a desktop and at 390 px: log in, open the account
page, change the password (every session ends), log in with the new one, log out."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from goodwill.settings import Settings
from tests.browser.conftest import expect, sample_seed, serve
from tests.conftest import NOW
from tests.web.sample import PASSWORD, staff_user

pytestmark = pytest.mark.browser

NEW_PASSWORD = "a quiet harbour at dawn"


def _seed(store: sessionmaker[Session], settings: Settings) -> None:
    sample_seed(store, settings)
    with store.begin() as session:
        staff_user(session, email="sam@example.com", role="staff", name="Sam Staff", now=NOW)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from serve(tmp_path_factory, _seed)


def _log_in(tab: Any, email: str, password: str) -> None:
    tab.fill("#email", email)
    tab.fill("#password", password)
    tab.click("button[type=submit]")


@pytest.mark.parametrize(
    ("email", "width", "height"),
    [("owner@example.com", 1280, 800), ("sam@example.com", 390, 844)],
)
def test_a_user_changes_their_password_on_the_account_page_and_logs_out(
    browser: Any, live_server: str, email: str, width: int, height: int
) -> None:
    context = browser.new_context(
        viewport={"width": width, "height": height},
        base_url=live_server,
        is_mobile=width < 500,
        has_touch=width < 500,
    )
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    try:
        tab.goto("/account")
        assert "/login" in tab.url
        _log_in(tab, email, PASSWORD)
        tab.wait_for_url("**/account")
        expect(tab.locator("h1")).to_have_text("Your account")
        expect(tab.locator("#sessions tbody tr")).to_have_count(1)
        assert "this browser" in tab.inner_text("#sessions")
        assert tab.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
        tab.fill("#current", PASSWORD)
        tab.fill("#new", "12345678901")
        tab.click("text=Change the password")
        expect(tab.locator(".alert")).to_contain_text("straight run")
        tab.fill("#current", PASSWORD)
        tab.fill("#new", NEW_PASSWORD)
        tab.click("text=Change the password")
        tab.wait_for_url("**/login")
        expect(tab.locator(".flash")).to_contain_text("every session ended")
        tab.goto("/account")
        assert "/login" in tab.url  # the old session is gone
        _log_in(tab, email, NEW_PASSWORD)
        tab.wait_for_url("**/account")
        if width < 500:  # on a phone, logging out is in the menu
            tab.click("summary.menu-button")
        tab.click("text=Log out")
        tab.wait_for_url("**/login")
        tab.goto("/today")
        assert "/login" in tab.url
        assert errors == []
    finally:
        context.close()
