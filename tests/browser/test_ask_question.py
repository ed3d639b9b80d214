"""Asking a client a question from their page in headless Chromium, on a 390 px phone: without
mail set up the page gives the link to hand over, the link opens the client's form, and nothing
scrolls sideways."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import expect, log_in, sample_seed, serve
from tests.web.sample import LONG_CLIENT

pytestmark = pytest.mark.browser

OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from serve(tmp_path_factory, sample_seed)


def test_on_a_phone_a_question_asked_in_person_gives_a_link_that_opens_the_form(
    page: Any,
) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, f"/clients/{LONG_CLIENT}")
    page.click("details.ask-question summary")
    expect(page.locator("#ask-question")).to_contain_text("Not by mail: mail.from_address")
    page.select_option("#ask-which", "miss-us")
    assert page.evaluate(OVERFLOW) <= 0
    page.click("#ask-question button[type=submit]")
    expect(page.locator("#asked-title")).to_contain_text("Asked")
    expect(page.locator("#ask-in-person")).to_contain_text("Hand this link over in person")
    link = page.locator("#ask-link").input_value()
    assert "/feedback/" in link
    assert page.evaluate(OVERFLOW) <= 0
    box = page.locator("#ask-link").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    page.goto(link)
    expect(page.locator("body")).to_contain_text("What would you miss if we were gone?")
