"""The first run in headless Chromium: a new owner on an empty database makes their account, says
what the business is, sets up mail and sends a test to a real SMTP server on loopback, invites a
member of staff who accepts, edits a playbook rule and a response target, and sees each change
take effect; the member of staff cannot open any of these pages. And at 390 px, the first two
steps fit the phone."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from goodwill.settings import Settings
from tests.browser.conftest import expect, repository_root, serve
from tests.mail.recorder import Recorder, recording_server

pytestmark = pytest.mark.browser

OVERFLOW = "document.documentElement.scrollWidth - window.innerWidth"
PASSWORD = "a quiet harbour at dawn"
RULE = "thank-you-first-purchase"
#: The pages that are the owner's alone, each of which a member of staff is refused.
OWNER_PAGES = (
    "/settings",
    "/settings/mail",
    "/settings/sla",
    "/settings/rota",
    "/users",
    f"/playbook/rules/{RULE}/edit",
    "/playbook/rules/new",
)


def _nobody(store: sessionmaker[Session], settings: Settings) -> None:
    """A new database: migrated, with no account and no data."""


@pytest.fixture
def empty_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from serve(tmp_path_factory, _nobody)


@pytest.fixture
def smtp() -> Iterator[tuple[Recorder, int]]:
    with recording_server() as server:
        yield server


def _tab(browser: Any, base: str, width: int = 1280, height: int = 800) -> tuple[Any, Any]:
    phone = width < 500
    context = browser.new_context(
        viewport={"width": width, "height": height},
        base_url=base,
        is_mobile=phone,
        has_touch=phone,
        timezone_id="Europe/Amsterdam",
    )
    tab = context.new_page()
    tab.errors = []
    tab.on("pageerror", lambda error: tab.errors.append(str(error)))
    return context, tab


def _capture(tab: Any, name: str, *, whole: bool = True) -> None:
    """A picture of the page for the README, as a new owner sees it."""
    target = repository_root() / "docs" / name
    tab.screenshot(path=str(target), full_page=whole)
    assert target.stat().st_size > 10_000


def _make_owner(tab: Any) -> None:
    tab.goto("/")
    tab.wait_for_url("**/setup")
    expect(tab.locator("h1")).to_have_text("Set up goodwill")
    expect(tab.locator("main")).to_contain_text("No one has an account yet")
    expect(tab.locator("#code")).to_have_count(0)  # this machine needs no code
    tab.fill("#name", "Anna de Vries")
    tab.fill("#email", "anna@kade.example")
    tab.fill("#password", "password123")
    tab.click("button[type=submit]")
    expect(tab.locator("#setup-problem")).to_contain_text("one of the most common ones")
    expect(tab.locator("#name")).to_have_value("Anna de Vries")
    tab.fill("#password", PASSWORD)
    tab.click("button[type=submit]")
    tab.wait_for_url("**/setup/business")
    expect(tab.locator("h1")).to_have_text("Your business")
    expect(tab.locator("#timezone")).to_have_value("Europe/Amsterdam")
    expect(tab.locator("#timezone-hint")).to_contain_text("Proposed from this browser")


def _say_what_the_business_is(tab: Any, *, capture: bool = False) -> None:
    tab.fill("#business_name", "Kade Koffie")
    tab.select_option("#business_kind", "cafe")
    tab.fill("#currency", "eur")
    tab.fill("#calendar__country", "NL")
    tab.fill("#calendar__hours__sat", "10:00-16:00")
    tab.fill("#calendar__hours__mon", "9 till 5")
    if capture:
        _capture(tab, "screenshot-first-run.png")
    tab.click("form[action='/setup/business'] button[type=submit]")
    expect(tab.locator("#calendar__hours__mon-error")).to_contain_text("9 till 5")
    expect(tab.locator("#calendar__hours__sat")).to_have_value("10:00-16:00")  # kept
    tab.fill("#calendar__hours__mon", "08:00-18:00")
    tab.click("form[action='/setup/business'] button[type=submit]")
    tab.wait_for_url("**/settings/mail?first=1")
    expect(tab.locator("#mail-first-run")).to_contain_text("Last step of the setup")


def test_on_a_phone_the_owner_makes_their_account_and_says_what_the_business_is(
    browser: Any, empty_server: str
) -> None:
    context, tab = _tab(browser, empty_server, 390, 844)
    try:
        _make_owner(tab)
        assert tab.evaluate(OVERFLOW) <= 0
        _say_what_the_business_is(tab)
        assert tab.evaluate(OVERFLOW) <= 0
        tab.goto("/settings")
        expect(tab.locator("#business_name")).to_have_value("Kade Koffie")
        assert tab.evaluate(OVERFLOW) <= 0
        assert tab.errors == []
    finally:
        context.close()


def test_a_new_owner_sets_up_the_business_invites_staff_and_changes_how_it_runs(
    browser: Any, empty_server: str, smtp: tuple[Recorder, int]
) -> None:
    recorder, port = smtp
    context, tab = _tab(browser, empty_server)
    staff_context = None
    try:
        _make_owner(tab)
        _say_what_the_business_is(tab, capture=True)
        # The café's own words, at once: its incident examples, not a travel agency's.
        tab.goto("/incidents/new")
        expect(tab.get_by_label("What went wrong")).to_have_attribute(
            "placeholder", re.compile("birthday cake")
        )

        # Mail: saved on the page, then a test message reaches the SMTP server.
        tab.goto("/settings/mail")
        tab.fill("#mail-from_address", "hallo@kade.example")
        tab.fill("#mail-smtp_host", "127.0.0.1")
        tab.fill("#mail-smtp_port", str(port))
        tab.select_option("#mail-smtp_security", "none")
        tab.locator("form[action='/settings/mail'] button[type=submit]").click()
        expect(tab.locator(".flash").first).to_be_visible()
        tab.fill("#to", "anna@kade.example")
        tab.get_by_role("button", name="Send a test").click()
        expect(tab.locator("#mail-test-result")).to_contain_text("Works.")
        assert [rcpt for _, rcpt, _ in recorder.received] == [["anna@kade.example"]]

        # Staff: an invitation, mailed now that mail works, and accepted in another browser.
        tab.goto("/users")
        tab.fill("#email", "sam@kade.example")
        tab.select_option("#role", "staff")
        tab.get_by_role("button", name="Make an invitation link").click()
        expect(tab.locator(".flash")).to_contain_text("Invitation mailed to sam@kade.example")
        link = tab.locator("#account-link").inner_text()
        staff_context, staff = _tab(browser, empty_server)
        staff.goto(re.sub(r"^https?://[^/]+", "", link))
        staff.fill("#name", "Sam Visser")
        staff.fill("#password", "a long walk by the canal")
        staff.click("button[type=submit]")
        staff.wait_for_url("**/today")
        for path in OWNER_PAGES:
            answer = staff.goto(path)
            assert answer is not None and answer.status == 403, path
        expect(staff.locator("a[href='/settings']")).to_have_count(0)

        # A playbook rule: checked, saved, in force on the page that lists the rules.
        tab.goto(f"/playbook/rules/{RULE}/edit")
        tab.get_by_label("By when", exact=True).fill("5 business days")
        tab.get_by_role("button", name="Save").click()
        expect(tab.locator(".flash")).to_contain_text(f"Saved the rule {RULE}.")
        expect(tab.locator(f"li.rule[data-rule='{RULE}']")).to_contain_text(
            "Within 5 business days"
        )

        # A response target: added and listed in words.
        tab.goto("/settings/sla")
        tab.fill("#new-policy-name", "standard")
        tab.select_option("#new-policy-calendar", "24/7")
        tab.fill("#new-policy-first_response", "1h")
        tab.click("#add-policy button[type=submit]")
        expect(tab.locator(".flash")).to_have_text("Added the policy standard.")
        expect(tab.locator("#policy-0 .first-answer")).to_have_text("within 1 hour")

        tab.goto("/settings")
        expect(tab.locator("#business_kind")).to_have_value("cafe")
        _capture(tab, "screenshot-settings.png", whole=False)

        # Every change is in the audit log, under the owner's name.
        tab.goto("/audit")
        expect(tab.locator("main")).to_contain_text("settings.change")
        assert tab.errors == []
    finally:
        if staff_context is not None:
            staff_context.close()
        context.close()
