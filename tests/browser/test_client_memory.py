"""Writing what the team learns in headless Chromium, on a phone (390 px) and at a desk: add a
fact and log a call on the client page; the forms fit the screen and their buttons a thumb."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import expect
from tests.web.sample import LONG_CLIENT, PASSWORD

pytestmark = pytest.mark.browser

SIZES = {"phone": (390, 844), "desktop": (1280, 800)}


@pytest.fixture(params=sorted(SIZES))
def tab(request: pytest.FixtureRequest, browser: Any, live_server: str) -> Iterator[Any]:
    width, height = SIZES[request.param]
    context = browser.new_context(
        viewport={"width": width, "height": height},
        base_url=live_server,
        is_mobile=request.param == "phone",
        has_touch=request.param == "phone",
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.size_name = request.param
    page.console_errors = errors  # the refused input's 422 is expected; the test takes it out
    try:
        yield page
        assert errors == [], f"browser console errors: {errors}"
    finally:
        context.close()


def _log_in(page: Any) -> None:
    page.goto(f"/clients/{LONG_CLIENT}")
    page.fill("#email", "owner@example.com")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"**/clients/{LONG_CLIENT}")


def _fits(page: Any, selector: str) -> None:
    width = page.evaluate("window.innerWidth")
    box = page.locator(selector).bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width + 1, box


def test_a_fact_and_a_call_are_written_from_the_client_page(tab: Any) -> None:
    _log_in(tab)
    text = f"Daughter's wedding in Lisbon ({tab.size_name})"
    tab.select_option("#fact-kind", "family")
    tab.fill("#fact-text", text)
    tab.fill("#fact-on", "2027-06-12")
    _fits(tab, "#fact-form")
    button = tab.locator("#fact-form button[type=submit]")
    if tab.size_name == "phone":
        assert button.bounding_box()["height"] >= 44
    button.click()
    expect(tab.locator("#facts-flash")).to_contain_text(f"Remembered: {text}")
    fact = tab.locator(".kept-fact", has_text=text)
    expect(fact).to_contain_text("12 June 2027")
    expect(fact).to_contain_text("by Olive Owner")

    tab.fill("#fact-text", "x")
    tab.fill("#fact-on", "2027-01-01")
    tab.select_option("#fact-kind", "hometown")
    tab.locator("#fact-form button[type=submit]").click()
    expect(tab.locator("#error-fact-on_date")).to_contain_text("a hometown has no date")
    tab.console_errors[:] = [e for e in tab.console_errors if "422" not in e]
    assert tab.locator(".kept-fact[data-kind=hometown]").count() == 0

    tab.locator("#log-panel summary").click()
    tab.select_option("#log-kind", "call")
    tab.fill("#log-text", f"Asked about resoling her boots ({tab.size_name})")
    tab.fill("#log-outcome", "Bringing them Friday")
    _fits(tab, "#log-form")
    log_button = tab.locator("#log-form button[type=submit]")
    if tab.size_name == "phone":
        assert log_button.bounding_box()["height"] >= 44
    log_button.click()
    expect(tab.locator("#notes-flash")).to_have_text("Logged the call.")
    logged = tab.locator(".kept-log", has_text=f"({tab.size_name})")
    expect(logged).to_contain_text("Bringing them Friday")
    expect(logged).to_contain_text("by Olive Owner")
    _fits(tab, "#client-notes")
    _fits(tab, "#client-facts")
