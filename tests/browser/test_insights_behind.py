"""On a phone, the insights page that shows the last figures while newer ones are worked out
says so in a note that fits the screen, and shows the newer figures once they are ready."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from goodwill.settings import Settings
from goodwill.store import insights_cache
from goodwill.store.insights_cache import wait_for_work
from goodwill.store.models import Client, Order
from tests.browser.conftest import log_in, serve
from tests.browser.test_insights import _demo, _values
from tests.conftest import NOW

pytestmark = pytest.mark.browser

_stores: list[sessionmaker[Session]] = []


def _seed(store: sessionmaker[Session], settings: Settings) -> None:
    _demo(store, settings)
    _stores.append(store)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from serve(tmp_path_factory, _seed)


def _buy_yesterday(store: sessionmaker[Session]) -> None:
    with store.begin() as session:
        client = session.scalars(select(Client).order_by(Client.id).limit(1)).one()
        session.add(
            Order(
                external_id="bought-yesterday",
                client_id=client.id,
                occurred_at=NOW - timedelta(days=1),
                currency="EUR",
                amount_minor=4_200,
            )
        )


def test_on_a_phone_the_last_figures_say_when_they_were_worked_out(
    browser: Any, live_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every answer counts as slow and the store as large, so a change shows the last figures.
    monkeypatch.setattr(insights_cache, "SLOW_SECONDS", 0.0)
    monkeypatch.setattr(insights_cache, "LARGE_STORE", 0)
    context = browser.new_context(viewport={"width": 390, "height": 844}, base_url=live_server)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    try:
        log_in(tab, "/insights")
        tab.wait_for_selector(".insights-chart canvas")
        assert tab.locator("#insights-behind").count() == 0
        before = [int(v) for v in _values(tab, "purchases")]

        _buy_yesterday(_stores[-1])
        tab.goto("/insights")
        tab.wait_for_selector(".insights-chart canvas")
        note = tab.locator("#insights-behind")
        assert note.is_visible()
        assert "These figures were worked out at" in note.inner_text()
        box = note.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
        assert tab.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
        assert [int(v) for v in _values(tab, "purchases")] == before

        wait_for_work()
        tab.goto("/insights")
        tab.wait_for_selector(".insights-chart canvas")
        assert tab.locator("#insights-behind").count() == 0
        assert sum(int(v) for v in _values(tab, "purchases")) == sum(before) + 1
        assert errors == []
    finally:
        context.close()
