"""The Playbook page in headless Chromium, on a wide screen and on a 390 px phone: the owner
previews a rule's message with a real client, switches the rule to sending automatically, sees
its state and the week's send it now makes, and switches it back."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from goodwill.settings import Settings
from tests.browser.conftest import expect, log_in, sample_seed, serve
from tests.conftest import NOW
from tests.web.sending import can_send
from tests.web.touchpoints import make_followups

pytestmark = pytest.mark.browser

RULE = "thank-you-first-purchase"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


def _seed(store: sessionmaker[Session], settings: Settings) -> None:
    """The sample business with a first order whose thank-you is due in two business days."""
    sample_seed(store, settings)
    make_followups(store, settings, now=NOW)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from serve(tmp_path_factory, _seed, adjust=can_send)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_owner_previews_a_rule_and_switches_it_on_and_off(
    page: Any, viewport: dict[str, int]
) -> None:
    page.set_viewport_size(viewport)
    log_in(page, "/playbook")
    expect(page.locator("#template-check")).to_contain_text("All templates are valid")
    card = page.locator(f"li.rule[data-rule='{RULE}']")
    expect(card).to_contain_text("Thank the client for their first order")
    expect(card).to_contain_text("Within 2 business days")

    card.locator("summary", has_text="Preview with a client").click()
    card.get_by_label("Client").fill("nobody-by-that-name")
    card.get_by_role("button", name="Preview").click()
    expect(card.locator(".row-error")).to_have_text("no client matches 'nobody-by-that-name'")
    card.get_by_label("Client").fill("C-0005")
    card.get_by_role("button", name="Preview").click()
    expect(card.locator(".preview-subject")).to_contain_text("Subject:")
    expect(card.locator(".preview-body")).not_to_be_empty()
    assert "/playbook/preview" not in page.url  # swapped in place by htmx

    switch = card.get_by_role("switch", name="Send automatically")
    expect(switch).to_have_attribute("aria-checked", "false")
    switch.click()
    page.wait_for_url(f"**/playbook?rule={RULE}")
    expect(page.locator(".flash")).to_have_text(
        f"Sending automatically is on for {RULE}. Moved 1 follow-up to the worker."
    )
    card = page.locator(f"li.rule[data-rule='{RULE}']")
    expect(card.get_by_role("switch", name="Send automatically")).to_have_attribute(
        "aria-checked", "true"
    )
    expect(card.locator(".rule-sending")).to_contain_text("On")
    expect(page.locator("#rule-state")).to_contain_text("Sending automatically is on")
    rows = page.locator("#sends-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Will be sent")
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0

    card.get_by_role("switch", name="Send automatically").click()
    page.wait_for_url(f"**/playbook?rule={RULE}")
    expect(page.locator(".flash")).to_contain_text("Moved 1 follow-up back to people.")
    expect(page.locator(f"li.rule[data-rule='{RULE}']").get_by_role("switch")).to_have_attribute(
        "aria-checked", "false"
    )
    expect(page.locator("#sends-table tbody tr").first).to_contain_text(
        "Would be sent once you switch the rule on"
    )
