"""Adding and editing a client in headless Chromium, on a desktop and on a phone (390 px): a
clashing email is refused next to its field with a link to the client who holds it, the fixed
form adds the client, and an edit shows on their page."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import expect
from tests.web.sample import PASSWORD

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (390, 844)])
def test_a_client_is_added_and_edited_with_errors_shown_next_to_the_field(
    browser: Any, live_server: str, width: int, height: int
) -> None:
    context = browser.new_context(viewport={"width": width, "height": height}, base_url=live_server)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto("/clients")
        page.fill("#email", "owner@example.com")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/clients")
        page.click("#add-client")
        page.wait_for_url("**/clients/new")
        name = f"Ana Lima {width}"
        page.fill("#f-name", name)
        page.fill("#f-email", "margaret@holloway.example")
        page.fill("#f-city", "Porto")
        page.click("#save-client")
        error = page.locator("#email-error")
        expect(error).to_contain_text("belongs to another client")
        expect(error.locator("a.holder-link")).to_have_attribute("href", "/clients/C-0001")
        expect(page.locator("#f-name")).to_have_value(name)
        assert page.url.endswith("/clients/new")
        page.fill("#f-email", f"ana{width}@example.com")
        page.click("#save-client")
        page.wait_for_url("**/clients/%23*")
        expect(page.locator("h1")).to_have_text(name)
        expect(page.locator(".flash")).to_contain_text(f"{name} added.")
        page.click("#edit-client")
        page.wait_for_url("**/edit")
        # The form fits the screen (the page around it is part of the phone layout's work).
        form_width = page.evaluate("document.querySelector('#client-form').scrollWidth")
        assert form_width <= width
        page.fill("#f-city", "Braga")
        page.fill("#f-contact_window", "mon-fri 09:00-12:00")
        page.click("#save-client")
        page.wait_for_url("**/clients/%23*")
        expect(page.locator(".flash")).to_contain_text("Saved: city, contact window.")
        expect(page.locator("#facts-title + dl")).to_contain_text("Braga")
        assert errors == []
    finally:
        context.close()
