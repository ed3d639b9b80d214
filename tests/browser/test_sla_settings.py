"""The owner sets response targets and the rota on their pages in headless Chromium, and sees
the inbox's clock follow: no file, a conversation that arrived 42 minutes before the clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from goodwill.actions.inbox import receive
from goodwill.settings import load_settings
from goodwill.store.database import open_store
from goodwill.web import create_app
from tests.browser.conftest import expect, log_in, sample_seed
from tests.browser.test_inbox import raw_mail
from tests.conftest import NOW
from tests.web.live import serving

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = f"sqlite:///{tmp_path_factory.mktemp('live-sla') / 'goodwill.db'}"
    settings = load_settings(database_url=url, environ={})
    store = open_store(url)
    sample_seed(store, settings)
    mail = raw_mail("Ada Lindqvist <ada@example.org>", "Gift wrapping", "Can you wrap it?\n", 0)
    got = receive(store, settings, mail, source="smtp", now=NOW - timedelta(minutes=42))
    assert got.conversation_id is not None
    with serving(create_app(settings, clock=lambda: NOW)) as base:
        yield base


def test_the_owner_sets_a_target_and_the_inbox_clock_follows_each_change(page: Any) -> None:
    log_in(page, "/settings/sla")
    expect(page.locator("#sla-origin")).to_contain_text("No response targets yet")
    page.fill("#new-policy-name", "standard")
    page.select_option("#new-policy-calendar", "24/7")
    page.fill("#new-policy-first_response", "1h")
    page.click("#add-policy button[type=submit]")
    expect(page.locator(".flash")).to_have_text("Added the policy standard.")
    card = page.locator("#policy-0")
    expect(card.locator(".first-answer")).to_have_text("within 1 hour")
    expect(card).to_contain_text("Round the clock")

    page.goto("/inbox")
    expect(page.locator("#inbox-table tbody tr").first.locator(".sla")).to_have_text(
        "due in 18 min"
    )

    page.goto("/settings/sla")
    card.locator("summary", has_text="Change").click()
    page.fill("#policy-0-first_response", "soon")
    card.get_by_role("button", name="Save").click()
    error = page.locator("#policy-0-first_response-error")
    expect(error).to_contain_text("'soon' is not a duration")
    expect(page.locator("#policy-0-first_response")).to_have_attribute("aria-invalid", "true")
    page.console_errors.remove(
        "Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)"
    )
    page.fill("#policy-0-first_response", "2h")
    page.locator("#policy-0").get_by_role("button", name="Save").click()
    expect(page.locator(".flash")).to_have_text("Saved the policy standard.")
    expect(page.locator("#policy-0 .first-answer")).to_have_text("within 2 hours")

    page.goto("/inbox")
    expect(page.locator("#inbox-table tbody tr").first.locator(".sla")).to_have_text(
        "due in 1 h 18 min"
    )


def test_the_owner_fills_the_rota_table_and_sees_who_is_on_call(page: Any) -> None:
    log_in(page, "/settings/rota")
    page.fill("#timezone", "Europe/Amsterdam")
    page.fill("#rotation-0-handover", "2026-11-16T09:00")
    page.fill("#rotation-0-people", "ana@shop.example, ben@shop.example")
    page.locator("#rota-form button.primary").first.click()
    expect(page.locator(".flash")).to_contain_text("Rota saved")
    expect(page.locator("#on-call-now")).to_have_text("ben@shop.example")
    expect(page.locator("#rotation-0-people")).to_have_value("ana@shop.example, ben@shop.example")
