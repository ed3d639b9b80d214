"""The inbox in headless Chromium: the list with its clocks, a thread, a reply, the clock stopped.

The server holds the sample business and a few conversations that arrived the real way (raw mail
through ``receive``) before the app's fixed clock, under a one-hour 24/7 response target; Margaret
has a tighter critical window in the afternoon.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import pytest

from goodwill.actions.inbox import receive, set_status
from goodwill.domain.audit import Actor
from goodwill.settings import load_settings
from goodwill.store.database import open_store
from goodwill.web import create_app
from tests.browser.conftest import expect, log_in, repository_root, sample_seed
from tests.conftest import NOW
from tests.web.live import serving

pytestmark = pytest.mark.browser

POLICY = """
warn_at = 0.75
[[policy]]
name = "standard"
calendar = "24/7"
first_response = "1h"
next_response = "1h"

[[critical_window]]
client = "C-0001"
days = "mon-fri"
hours = "13:00-16:00"
timezone = "UTC"
first_response = "50m"
next_response = "50m"
"""
#: (sender, subject, body, minutes before the clock it arrived)
MAIL = (
    (
        "Margaret Holloway <margaret@holloway.example>",
        "The lamp arrived broken",
        "The walnut lamp arrived with a cracked shade. We open the shop on Saturday; "
        "could a new one be here by Friday?\n\n"
        "On Fri, 20 Nov 2026, Goodwill Shop wrote:\n> Your order has been shipped.\n",
        65,
    ),
    (
        "Nora Quist <nora.quist@example.org>",
        "Do you ship to Norway?",
        "Hello, do you ship linen shirts to Oslo, and how long does it take?\n",
        50,
    ),
    (
        "Ada Lindqvist <ada@example.org>",
        "Gift wrapping",
        "Can you wrap the candles as a gift?\n",
        42,
    ),
    (
        "Ben Okafor <ben@example.org>",
        "Invoice address",
        "Please put our new address on the invoice.\n",
        20,
    ),
)


def raw_mail(sender: str, subject: str, body: str, n: int) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "care@shop.example"
    message["Subject"] = subject
    message["Message-ID"] = f"<browser-{n}@mail.example>"
    message.set_content(body)
    return message.as_bytes()


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app over the sample business and its conversations, mail sent from a support address."""
    folder = tmp_path_factory.mktemp("live-inbox")
    (folder / "sla.toml").write_text(POLICY, encoding="utf-8")
    url = f"sqlite:///{folder / 'goodwill.db'}"
    settings = dataclasses.replace(
        load_settings(database_url=url, environ={}),
        sla=folder / "sla.toml",
        mail={"from_address": "care@shop.example"},
    )
    store = open_store(url)
    sample_seed(store, settings)
    for n, (sender, subject, body, minutes) in enumerate(MAIL):
        at = NOW - timedelta(minutes=minutes)
        got = receive(store, settings, raw_mail(sender, subject, body, n), source="smtp", now=at)
        assert got.conversation_id is not None
        if subject == "Invoice address":
            with store.begin() as session:
                set_status(
                    session,
                    settings,
                    got.conversation_id,
                    "waiting",
                    now=at,
                    actor=Actor.cli("tests"),
                )
    with serving(create_app(settings, clock=lambda: NOW)) as base:
        yield base


def test_staff_open_the_most_urgent_conversation_reply_and_see_it_answered(page: Any) -> None:
    log_in(page, "/inbox")
    expect(page.locator(".nav a[aria-current=page]")).to_have_text("Inbox")
    rows = page.locator("#inbox-table tbody tr")
    expect(rows).to_have_count(len(MAIL))
    first = rows.first  # the most urgent: the clock that ran out
    expect(first.locator(".sla")).to_have_text("breached 15 min ago")
    expect(first.locator(".badge.critical")).to_have_text("critical window")
    assert "Margaret Holloway" in first.inner_text()
    assert "20 years" in first.inner_text()
    for subject, words in (
        ("Do you ship to Norway?", "warning: due in 10 min"),
        ("Gift wrapping", "due in 18 min"),
        ("Invoice address", "paused"),
    ):
        expect(rows.filter(has_text=subject).locator(".sla")).to_have_text(words)

    page.wait_for_load_state("networkidle")
    target = repository_root() / "docs" / "screenshot-inbox.png"
    page.screenshot(path=str(target), full_page=True)
    assert target.stat().st_size > 10_000

    first.get_by_role("link", name="The lamp arrived broken").click()
    page.wait_for_url("**/inbox/*")
    message = page.locator(".message-in").first
    expect(message.locator(".message-text").first).to_contain_text("cracked shade")
    quoted = message.locator("details.quoted")
    expect(quoted.locator(".message-text")).not_to_be_visible()
    quoted.locator("summary").click()
    expect(quoted.locator(".message-text")).to_contain_text("Your order has been shipped.")
    expect(page.locator(".client-glance")).to_contain_text("client for 20 years")

    page.fill(
        "#reply-text", "So sorry, Margaret: a new lamp leaves today and is with you Thursday."
    )
    page.click("#send-reply")
    page.wait_for_load_state("load")
    expect(page.locator(".flash")).to_contain_text("Reply queued")
    expect(page.locator("#conversation-status")).to_have_attribute("data-status", "answered")
    expect(page.locator(".message-out")).to_contain_text("a new lamp leaves today")

    page.goto("/inbox")
    answered = page.locator("#inbox-table tbody tr", has_text="The lamp arrived broken")
    expect(answered.locator(".sla")).to_have_text("answered")


def test_a_template_fills_an_empty_reply_box(page: Any) -> None:
    log_in(page, "/inbox")
    page.get_by_role("link", name="Gift wrapping").click()
    page.wait_for_url("**/inbox/*")
    expect(page.locator("#reply-text")).to_have_value("")
    page.select_option("#template-name", "late-delivery")
    page.click("#use-template")
    expect(page.locator("#template-filled")).to_contain_text("late-delivery")
    expect(page.locator("#reply-text")).not_to_have_value("")
    assert "Ada" in page.locator("#reply-text").input_value()


def test_a_blocked_reply_stays_on_the_conversation_with_the_draft_kept(page: Any) -> None:
    log_in(page, "/inbox")
    page.get_by_role("link", name="Do you ship to Norway?").click()
    page.wait_for_url("**/inbox/*")
    conversation = page.url
    page.fill("#reply-text", "Dear [First Name], it is not our fault. It ships today.")
    page.click("#send-reply")
    expect(page.locator("#reply-error")).to_contain_text("ours to own.")
    assert ".." not in page.locator("#reply-error").inner_text()
    assert page.url == conversation, page.url  # not the form's /reply address
    expect(page.locator("#reply-text")).to_have_value(
        "Dear [First Name], it is not our fault. It ships today."
    )
    expect(page.locator(".topbar")).to_have_count(1)
    refused = [e for e in page.console_errors if "422" in e]
    assert len(refused) == 1  # the refusal itself, shown on the page
    page.console_errors.remove(refused[0])
