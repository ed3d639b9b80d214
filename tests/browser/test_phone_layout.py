"""Every page of the dashboard on a 390 px phone and on a 1280 px screen, in headless Chromium.

On the phone no page scrolls sideways, the navigation opens from a menu button (with and without
JavaScript, by touch and by keyboard), tables read as labelled cards and what a thumb presses is
at least 44 px tall; on the wide screen the navigation stays inline and tables stay tables.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import expect, repository_root, serve
from tests.browser.phone_seed import LINKS, LONG_REF, adjust, phone_seed
from tests.web.sample import PASSWORD

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
#: What the owner reaches from the menu, and the pages behind the lists' links.
PAGES = (
    "/today",
    "/inbox",
    "/inbox/1",
    "/inbox/2",
    "/inbox/templates",
    "/inbox/rota",
    "/incidents",
    "/incidents/new",
    "/incidents/1",
    "/at-risk",
    "/touches/batches?month=2026-12",
    "/touches/batches/2026-12/sheet",
    "/clients",
    "/clients/C-0001",
    f"/clients/{LONG_REF}",
    "/insights",
    "/listening",
    "/imports",
    "/imports/1",
    "/playbook",
    "/playbook?rule=thank-you-first-purchase",
    "/playbook/preview?rule=thank-you-first-purchase&client=C-0005",
    "/playbook/rules/thank-you-first-purchase/edit",
    "/playbook/rules/new",
    "/account",
    "/users",
    "/settings",
    "/settings/recovery",
    "/settings/listening",
    "/audit",
    "/setup/business",
    "/settings/mail",
    "/settings/sla",
    "/settings/rota",
)
#: Document-wide width beyond the window (0 or less: nothing scrolls sideways).
OVERFLOW = "document.documentElement.scrollWidth - window.innerWidth"
#: Visible things a thumb presses that are less than 44 px tall.
SMALL_TARGETS = """() => {
  const selector = "button, a.button, summary.menu-button, .nav a, .who a, .pager a, .chips a, "
    + ".scopes a, table.cards td a:not(.badge), table.cards.sortable thead a";
  return [...document.querySelectorAll(selector)]
    .filter((e) => e.getClientRects().length && getComputedStyle(e).visibility !== "hidden")
    .filter((e) => e.getBoundingClientRect().height < 43.5)
    .map((e) => e.tagName.toLowerCase() + " '" + e.textContent.trim().slice(0, 30) + "' "
      + Math.round(e.getBoundingClientRect().height) + "px");
}"""
#: Cells of card tables that show a value without the name of its column.
UNLABELLED = """() => [...document.querySelectorAll("table.cards tbody td")]
  .filter((td) => td.textContent.trim() && !td.dataset.label
    && !td.classList.contains("card-title") && !td.classList.contains("card-actions"))
  .map((td) => td.closest("table").id + ": " + td.textContent.trim().slice(0, 30))"""


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("live-phone")
    yield from serve(tmp_path_factory, phone_seed, adjust=lambda s: adjust(s, folder))


@pytest.fixture(scope="module")
def owner(browser: Any, live_server: str) -> dict[str, Any]:
    """The owner's logged-in browser state, made once for the module."""
    context = browser.new_context(base_url=live_server)
    try:
        tab = context.new_page()
        tab.goto("/login")
        tab.fill("#email", "owner@example.com")
        tab.fill("#password", PASSWORD)
        tab.click("button[type=submit]")
        tab.wait_for_url("**/today")
        state: dict[str, Any] = context.storage_state()
        return state
    finally:
        context.close()


def _open(
    browser: Any, base: str, viewport: dict[str, int], state: dict[str, Any] | None, **extra: Any
) -> tuple[Any, Any, list[str]]:
    mobile = viewport["width"] < 500
    context = browser.new_context(
        viewport=viewport,
        base_url=base,
        storage_state=state,
        is_mobile=mobile,
        has_touch=mobile,
        **extra,
    )
    tab = context.new_page()
    errors: list[str] = []
    tab.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    tab.on("pageerror", lambda error: errors.append(str(error)))
    return context, tab, errors


def _watched(browser: Any, base: str, viewport: dict[str, int], state: Any) -> Iterator[Any]:
    """A tab whose console errors fail the test."""
    context, tab, errors = _open(browser, base, viewport, state)
    try:
        yield tab
        assert errors == [], f"browser console errors: {errors}"
    finally:
        context.close()


@pytest.fixture
def phone(browser: Any, live_server: str, owner: dict[str, Any]) -> Iterator[Any]:
    yield from _watched(browser, live_server, PHONE, owner)


@pytest.fixture
def desktop(browser: Any, live_server: str, owner: dict[str, Any]) -> Iterator[Any]:
    yield from _watched(browser, live_server, DESKTOP, owner)


def _visit(tab: Any, path: str) -> None:
    response = tab.goto(path)
    assert response is not None and response.status < 400, f"{path}: {response}"
    tab.wait_for_load_state("networkidle")


def _phone_problems(tab: Any, path: str) -> list[str]:
    problems = []
    if (overflow := tab.evaluate(OVERFLOW)) > 0:
        problems.append(f"{path}: {overflow}px wider than the screen")
    if small := tab.evaluate(SMALL_TARGETS):
        problems.append(f"{path}: too small to press: {small}")
    if unlabelled := tab.evaluate(UNLABELLED):
        problems.append(f"{path}: card values without a label: {unlabelled}")
    return problems


def test_the_menu_reaches_only_pages_this_test_visits(desktop: Any) -> None:
    _visit(desktop, "/today")
    links = desktop.locator(".menu-panel a")
    reached = {links.nth(k).get_attribute("href") for k in range(links.count())}
    assert reached <= set(PAGES), f"add to PAGES: {sorted(reached - set(PAGES))}"


def test_no_page_scrolls_sideways_on_a_phone_and_thumbs_can_press_everything(phone: Any) -> None:
    problems: list[str] = []
    for path in PAGES:
        _visit(phone, path)
        expect(phone.locator(".nav")).to_be_hidden()
        problems += _phone_problems(phone, path)
    _visit(phone, "/at-risk")
    phone.get_by_role("link", name="Include lapsed clients").click()
    phone.wait_for_load_state("networkidle")
    problems += _phone_problems(phone, phone.url)
    _visit(phone, "/clients?q=Wolkenkratzer")
    problems += _phone_problems(phone, "/clients?q=…")
    assert problems == []


def test_the_client_list_reads_as_labelled_cards_with_its_sort_links(phone: Any) -> None:
    _visit(phone, "/clients")
    first = phone.locator("table.clients tbody tr").first
    assert first.evaluate("tr => getComputedStyle(tr).display") == "grid"
    spend = first.locator("td[data-label='Total spend']")
    assert spend.evaluate("td => getComputedStyle(td, '::before').content") == '"Total spend"'
    phone.get_by_role("link", name="Total spend").click()
    phone.wait_for_url("**sort=spend**")
    expect(phone.locator("table.clients tbody tr").first).to_contain_text("Margaret Holloway")


def test_the_menu_button_opens_the_navigation_and_a_link_in_it_works(phone: Any) -> None:
    _visit(phone, "/clients")
    button = phone.locator("summary.menu-button")
    nav = phone.get_by_role("navigation", name="Sections")
    expect(nav).to_be_hidden()
    expect(button).to_have_attribute("aria-expanded", "false")
    assert button.bounding_box()["height"] >= 44
    button.click()
    expect(button).to_have_attribute("aria-expanded", "true")
    expect(nav).to_be_visible()
    expect(nav.get_by_role("link", name="Clients")).to_have_attribute("aria-current", "page")
    expect(phone.get_by_role("button", name="Log out")).to_be_visible()
    assert phone.evaluate(OVERFLOW) <= 0
    nav.get_by_role("link", name="Inbox").click()
    phone.wait_for_url("**/inbox")
    expect(phone.locator("h1")).to_have_text("Inbox")
    expect(nav).to_be_hidden()  # a new page starts with the menu closed


def test_the_menu_opens_and_closes_from_the_keyboard(phone: Any) -> None:
    _visit(phone, "/today")
    button = phone.locator("summary.menu-button")
    nav = phone.get_by_role("navigation", name="Sections")
    button.focus()
    phone.keyboard.press("Enter")
    expect(nav).to_be_visible()
    expect(button).to_have_attribute("aria-expanded", "true")
    phone.keyboard.press("Tab")
    expect(nav.get_by_role("link", name="Today")).to_be_focused()
    phone.keyboard.press("Escape")
    expect(nav).to_be_hidden()
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(button).to_be_focused()


def test_the_menu_works_without_javascript(
    browser: Any, live_server: str, owner: dict[str, Any]
) -> None:
    context, tab, _ = _open(browser, live_server, PHONE, owner, java_script_enabled=False)
    try:
        _visit(tab, "/clients/C-0001")
        nav = tab.get_by_role("navigation", name="Sections")
        expect(nav).to_be_hidden()
        tab.locator("summary.menu-button").click()
        expect(nav).to_be_visible()
        nav.get_by_role("link", name="At risk").click()
        tab.wait_for_url("**/at-risk")
        assert tab.evaluate(OVERFLOW) <= 0
    finally:
        context.close()


def test_the_calendar_link_the_feedback_form_and_the_login_fit_a_phone(
    browser: Any, live_server: str, phone: Any
) -> None:
    _visit(phone, "/today")
    phone.get_by_role("button", name="Make link").click()
    expect(phone.locator("#calendar input").first).to_be_visible()
    assert _phone_problems(phone, "calendar link") == []
    context, tab, errors = _open(browser, live_server, PHONE, None)
    try:
        for path in (LINKS["feedback"], "/login", "/reset"):
            _visit(tab, path)
            assert _phone_problems(tab, path) == []
        assert errors == []
    finally:
        context.close()


def test_what_clients_bring_up_reads_as_cards_with_their_trend_on_a_phone(phone: Any) -> None:
    _visit(phone, "/listening")
    topics = phone.locator("#listening-topics tbody tr")
    assert topics.count() >= 2
    first = topics.first
    expect(first.locator("th.card-title")).to_contain_text("·")
    expect(first.get_by_role("button", name="Make it a theme")).to_be_visible()
    card = first.bounding_box()
    chart = first.locator(".topic-trend svg").bounding_box()
    assert card and chart and chart["x"] >= card["x"] - 1
    assert chart["x"] + chart["width"] <= card["x"] + card["width"] + 1
    assert phone.evaluate(OVERFLOW) <= 0
    assert _phone_problems(phone, "/listening topics") == []


def test_insight_charts_follow_their_card_from_a_wide_screen_to_a_phone(desktop: Any) -> None:
    _visit(desktop, "/insights")
    desktop.wait_for_selector(".insights-chart canvas")
    widths = """() => [...document.querySelectorAll('.insights-chart')].map(
      (e) => [e.clientWidth, e.querySelector('.uplot').getBoundingClientRect().width])"""
    wide = desktop.evaluate(widths)
    assert wide and all(abs(box - plot) <= 1 and box > 400 for box, plot in wide)
    desktop.set_viewport_size(PHONE)
    desktop.wait_for_function(
        "() => [...document.querySelectorAll('.insights-chart .uplot')]"
        ".every((u) => u.getBoundingClientRect().width < 390)"
    )
    narrow = desktop.evaluate(widths)
    assert all(abs(box - plot) <= 1 for box, plot in narrow)
    assert desktop.evaluate(OVERFLOW) <= 0


def test_on_a_wide_screen_the_navigation_is_inline_and_tables_stay_tables(desktop: Any) -> None:
    problems: list[str] = []
    for path in PAGES:
        _visit(desktop, path)
        if desktop.evaluate(OVERFLOW) > 0:
            problems.append(f"{path}: wider than the window")
    assert problems == []
    _visit(desktop, "/clients")
    expect(desktop.locator("summary.menu-button")).to_be_hidden()
    nav = desktop.get_by_role("navigation", name="Sections")
    expect(nav).to_be_visible()
    tops = nav.locator("a").evaluate_all("links => links.map((a) => a.getBoundingClientRect().top)")
    assert len(set(tops)) == 1, "the navigation links sit on one line"
    expect(desktop.get_by_role("link", name="Olive Owner")).to_be_visible()
    row = desktop.locator("table.clients tbody tr").first
    assert row.evaluate("tr => getComputedStyle(tr).display") == "table-row"
    expect(desktop.locator("table.clients thead")).to_be_visible()


def test_the_client_page_on_a_phone_is_captured_for_the_readme(phone: Any) -> None:
    _visit(phone, "/clients/C-0001")
    expect(phone.locator("h1")).to_have_text("Margaret Holloway")
    target = repository_root() / "docs" / "screenshot-phone-client.png"
    phone.screenshot(path=str(target))
    assert target.stat().st_size > 10_000
