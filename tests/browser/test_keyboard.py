"""Keyboard use in headless Chromium: the first Tab offers to skip the menu to the page itself."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import expect, log_in

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("path", ["/today", "/clients", "/inbox"])
def test_the_first_tab_stop_skips_the_menu_to_the_content(page: Any, path: str) -> None:
    log_in(page, path)
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).not_to_be_in_viewport()  # out of sight until a keyboard reaches it
    page.keyboard.press("Tab")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main#content")).to_be_focused()
    page.keyboard.press("Tab")
    inside = page.evaluate("document.activeElement.closest('main') !== null")
    assert inside, "the next Tab stop is in the page, not the menu"
