"""The public contact form in headless Chromium, on a desktop and on a 390 px phone: a person fills
it in and sees the thanks page, and staff find the conversation in the inbox; a bot that fills the
hidden field, one that sends within two seconds, and the 21st post in a minute are refused.

The server's clock runs (from the tests' fixed day) as real time does, so a person's seconds of
typing count; each test starts in a new rate-limit window.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from goodwill.settings import load_settings
from goodwill.store.database import open_store
from goodwill.web import create_app
from goodwill.web.pages.contact import NOT_SENT
from tests.browser.conftest import expect, log_in, sample_seed
from tests.conftest import NOW
from tests.web.live import serving

pytestmark = pytest.mark.browser

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


class RunningClock:
    """Real time, from the tests' fixed day; ``skip`` jumps ahead (a new rate-limit window)."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.offset = timedelta(0)
        self.lock = threading.Lock()

    def __call__(self) -> datetime:
        with self.lock:
            return NOW + self.offset + timedelta(seconds=time.monotonic() - self.started)

    def next_window(self) -> None:
        """Jump to the start of a minute an hour on: a fresh rate-limit window, a minute long."""
        now = self()
        with self.lock:
            self.offset += timedelta(hours=1, seconds=60 - now.second - now.microsecond / 1e6)


CLOCK = RunningClock()


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The sample business with the contact form on, confirmations sent from its address."""
    url = f"sqlite:///{tmp_path_factory.mktemp('live-contact') / 'goodwill.db'}"
    base = load_settings(database_url=url, environ={})
    settings = dataclasses.replace(
        base,
        business_name="Linden Lamps",
        mail={"from_address": "care@linden.example"},
        contact_form={**base.contact_form, "enabled": True},
    )
    sample_seed(open_store(url), settings)
    with serving(create_app(settings, clock=CLOCK)) as served:
        yield served


@pytest.fixture(autouse=True)
def fresh_window() -> None:
    CLOCK.next_window()


@pytest.fixture
def phone(browser: Any, live_server: str) -> Iterator[Any]:
    """A 390 px wide phone, touch on, no cookies."""
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, base_url=live_server, has_touch=True
    )
    try:
        yield context.new_page()
    finally:
        context.close()


def fill_in(page: Any, *, name: str, email: str, message: str) -> None:
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Your email").fill(email)
    page.get_by_label("I have a question").check()
    page.get_by_label("Your message").fill(message)


def test_a_person_writes_in_and_staff_find_the_conversation(page: Any) -> None:
    page.goto("/contact")
    expect(page.locator(".contact-business")).to_have_text("Linden Lamps")
    expect(page.get_by_role("heading", level=1)).to_have_text("Write to Linden Lamps")
    fill_in(
        page,
        name="Nora Quist",
        email="nora.quist@example.org",
        message="Do you ship the walnut lamp to Oslo?\nThe shade in my photo cracked.",
    )
    page.get_by_label("Your phone").fill("+47 912 34 567")
    page.set_input_files(
        "#attachments", files=[{"name": "shade.png", "mimeType": "image/png", "buffer": PNG}]
    )
    page.wait_for_timeout(2200)  # a person takes a moment
    page.get_by_role("button", name="Send message").click()
    page.wait_for_url("**/contact/thanks")
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you")
    expect(page.locator("main")).to_contain_text("Your message has reached Linden Lamps")

    log_in(page, "/inbox")
    row = page.locator("#inbox-table tbody tr").filter(has_text="Nora Quist")
    expect(row).to_contain_text("Question: Do you ship the walnut lamp to Oslo?")
    row.get_by_role("link", name="Question: Do you ship the walnut lamp to Oslo?").click()
    page.wait_for_url("**/inbox/*")
    expect(page.locator("main")).to_contain_text("The shade in my photo cracked.")
    expect(page.locator("main")).to_contain_text("Phone: +4791234567")
    expect(page.get_by_role("link", name="shade.png")).to_be_visible()


def test_on_a_phone_the_form_fits_and_sends(phone: Any) -> None:
    phone.goto("/contact")
    width = phone.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"the form scrolls sideways: {width}"
    button = phone.get_by_role("button", name="Send message").bounding_box()
    assert button["height"] >= 44
    fill_in(
        phone,
        name="Ada Lindqvist",
        email="ada.lindqvist@example.org",
        message="Can you wrap the candles as a gift?",
    )
    phone.wait_for_timeout(2200)
    phone.get_by_role("button", name="Send message").tap()
    phone.wait_for_url("**/contact/thanks")
    expect(phone.get_by_role("heading", level=1)).to_have_text("Thank you")


def test_a_bot_that_fills_the_hidden_field_is_refused(page: Any) -> None:
    page.goto("/contact")
    fill_in(page, name="Bot", email="bot@spam.example", message="Cheap pills, best prices")
    page.locator("#website").fill("https://spam.example", force=True)
    page.wait_for_timeout(2200)
    page.console_errors.clear()
    page.get_by_role("button", name="Send message").click()
    expect(page.get_by_role("alert")).to_have_text(NOT_SENT)
    page.console_errors[:] = [e for e in page.console_errors if "400" not in e]


def test_a_form_sent_within_two_seconds_is_refused(page: Any) -> None:
    page.goto("/contact")
    fill_in(page, name="Bot", email="fast@spam.example", message="Buy followers now")
    page.get_by_role("button", name="Send message").click()
    expect(page.get_by_role("alert")).to_have_text(NOT_SENT)
    page.console_errors[:] = [e for e in page.console_errors if "400" not in e]


def test_the_21st_post_in_a_minute_is_refused_with_a_wait(page: Any) -> None:
    page.goto("/contact")
    token = page.locator("input[name=token]").input_value()
    page.wait_for_timeout(2200)
    form = {
        "name": "Flood",
        "email": "flood@spam.example",
        "choice": "question",
        "token": token,
        "website": "",
    }
    answers = [
        page.request.post(
            "/contact", multipart={**form, "message": f"Post {n}"}, max_redirects=0
        ).status
        for n in range(20)
    ]
    assert answers == [303] * 20
    fill_in(page, name="Flood", email="flood@spam.example", message="Post 21")
    page.get_by_role("button", name="Send message").click()
    expect(page.get_by_role("alert")).to_contain_text("Too many messages came from your address")
    expect(page.get_by_role("alert")).to_contain_text("then send your message again")
    page.console_errors[:] = [e for e in page.console_errors if "429" not in e]
