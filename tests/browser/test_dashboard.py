"""The dashboard in headless Chromium: log in, find a client as you type, read their history.

Any error in the browser console fails the test: a broken script, a blocked resource or a
Content-Security-Policy violation is a bug the HTTP tests cannot see.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import expect, log_in, repository_root
from tests.web.sample import LONG_CLIENT_NAME

pytestmark = pytest.mark.browser


def test_staff_logs_in_finds_a_client_by_typing_and_reads_their_timeline(page: Any) -> None:
    log_in(page)
    assert "Showing 1–36 of 36 clients" in page.inner_text("#summary")
    page.fill("#q", "hollo")
    expect(page.locator("#client-table tbody tr")).to_have_count(1)
    assert "q=hollo" in page.url  # the search is in the address, so back and reload keep it
    row = page.locator("#client-table tbody tr")
    assert "20 years" in row.inner_text()
    row.get_by_role("link", name=LONG_CLIENT_NAME).click()
    page.wait_for_url("**/clients/C-0001")
    assert page.inner_text("h1") == LONG_CLIENT_NAME
    assert "client for 20 years — since 2006-03-01" in page.inner_text(".tenure-line")
    assert page.locator(".tenure-badge").is_visible()
    assert "six figures of our daily cash flow" in page.inner_text(".client-facts")
    events = page.locator(".events li")
    assert events.count() == 50
    assert "Payment for invoice INV-9003" in events.first.inner_text()
    page.get_by_role("link", name="Older entries").click()
    expect(events).to_have_count(100)


def test_the_client_list_is_captured_for_the_readme(page: Any) -> None:
    log_in(page)
    page.goto("/clients?sort=spend")  # the longest, most valuable relationships first
    page.wait_for_load_state("networkidle")
    target = repository_root() / "docs" / "screenshot.png"
    target.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(target))
    assert target.stat().st_size > 10_000


def test_the_client_page_fits_a_phone_screen(browser: Any, live_server: str) -> None:
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, base_url=live_server, is_mobile=True, has_touch=True
    )
    try:
        tab = context.new_page()
        log_in(tab)
        tab.goto("/clients/C-0001")
        overflow = tab.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0
        assert tab.locator(".tenure-badge").is_visible()
    finally:
        context.close()
