"""Editing the playbook in headless Chromium, on a wide screen and on a 390 px phone: the owner
types a bad due time and reads the check's error beside it, previews what the rule would have
made in the last 30 days, saves it, sees it in force, turns it off, and goes back to the shipped
playbook."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from goodwill.settings import Settings
from tests.browser.conftest import expect, log_in, sample_seed, serve
from tests.conftest import NOW
from tests.web.touchpoints import make_followups

pytestmark = pytest.mark.browser

RULE = "thank-you-first-purchase"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


def _seed(store: sessionmaker[Session], settings: Settings) -> None:
    """The sample business with a first order two hours before now."""
    sample_seed(store, settings)
    make_followups(store, settings, now=NOW)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from serve(tmp_path_factory, _seed)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_owner_edits_a_rule_checks_and_previews_it_then_turns_it_off(
    page: Any, viewport: dict[str, int]
) -> None:
    page.set_viewport_size(viewport)
    log_in(page, "/playbook")
    card = page.locator(f"li.rule[data-rule='{RULE}']")
    card.get_by_role("link", name="Edit").click()
    page.wait_for_url(f"**/playbook/rules/{RULE}/edit")

    page.get_by_label("By when", exact=True).fill("by tomorrow")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#due-error")).to_contain_text(
        "settings page: rule 'thank-you-first-purchase': due: 'by tomorrow' is not a due rule"
    )
    expect(page.get_by_label("By when", exact=True)).to_have_attribute("aria-invalid", "true")
    page.console_errors[:] = [e for e in page.console_errors if "422" not in e]  # expected

    page.get_by_label("By when", exact=True).fill("5 business days")
    page.get_by_role("button", name="Preview the last 30 days").click()
    expect(page.locator("#rule-preview h2")).to_contain_text("would have created 1 follow-up")
    expect(page.locator("#preview-table tbody tr")).to_have_count(1)
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0

    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/playbook")
    expect(page.locator(".flash")).to_contain_text(f"Saved the rule {RULE}.")
    card = page.locator(f"li.rule[data-rule='{RULE}']")
    expect(card).to_contain_text("Within 5 business days")

    card.get_by_role("button", name="Turn off").click()
    page.wait_for_url("**/playbook")
    card = page.locator(f"li.rule[data-rule='{RULE}']")
    expect(card).to_contain_text("Turned off: creates nothing")
    expect(card.get_by_role("button", name="Turn on")).to_be_visible()

    page.get_by_role("button", name="Back to the shipped playbook").click()
    page.wait_for_url("**/playbook")
    card = page.locator(f"li.rule[data-rule='{RULE}']")
    expect(card).to_contain_text("Within 2 business days")
    expect(card.get_by_role("button", name="Turn off")).to_be_visible()
