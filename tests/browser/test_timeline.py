"""The timeline in Chromium at desktop and phone width: a filter and the "older entries" link
swap and append without leaving the page, and the page never scrolls sideways."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import expect, log_in

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", [1280, 390])
def test_a_filter_and_the_older_link_work_in_place(
    browser: Any, live_server: str, width: int
) -> None:
    context = browser.new_context(
        viewport={"width": width, "height": 844},
        base_url=live_server,
        is_mobile=width < 500,
        has_touch=width < 500,
    )
    errors: list[str] = []
    try:
        tab = context.new_page()
        tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        tab.on("pageerror", lambda e: errors.append(str(e)))
        log_in(tab)
        tab.goto("/clients/C-0001")
        entries = tab.locator("#timeline .events li")
        expect(entries).to_have_count(50)
        tab.locator("#timeline .timeline-more a").click()
        expect(entries).to_have_count(100)  # appended, not replacing the first page
        assert tab.url.endswith("/clients/C-0001")  # still the same page
        dates = tab.locator("#timeline .events time").evaluate_all(
            "els => els.map(e => e.getAttribute('datetime'))"
        )
        assert dates == sorted(dates, reverse=True) and len(set(dates)) == len(dates)
        tab.locator(".timeline-filters a[data-kind=purchases]").click()
        expect(tab.locator(".timeline-filters a.current")).to_have_text("Purchases")
        tab.wait_for_url("**/clients/C-0001?kind=purchases")
        kinds = tab.locator("#timeline .events li").evaluate_all(
            "els => els.map(e => e.dataset.kind)"
        )
        assert kinds and set(kinds) == {"purchases"}
        overflow = tab.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0
        box = tab.locator(".timeline-filters a.current").bounding_box()
        assert box and box["height"] >= 44  # thumb-sized
        tab.go_back()
        tab.wait_for_url("**/clients/C-0001")
        expect(tab.locator(".timeline-filters a.current")).to_have_text("Everything")
        assert errors == []
    finally:
        context.close()
