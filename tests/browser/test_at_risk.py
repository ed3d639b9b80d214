"""The At risk page in headless Chromium: the chart above its table, then one client's value.

The server's store holds the rhythm business and nine more regulars who stopped buying, after
one engine pass at NOW (fits made, purchase.missed emitted); the chart is inline SVG drawn on
the server.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from goodwill.settings import Settings
from tests.browser.conftest import expect, log_in, repository_root, serve
from tests.conftest import NOW
from tests.web.rhythms import STOPPED, STOPPED_NAME, more_stopped, rhythm_business
from tests.web.touchpoints import run_engine

pytestmark = pytest.mark.browser


def _seed(store: sessionmaker[Session], settings: Settings) -> None:
    """The rhythm business with a dozen overdue regulars, so the chart has something to say."""
    with store.begin() as session:
        rhythm_business(session, now=NOW)
        more_stopped(session, now=NOW)
    run_engine(store, settings, now=NOW)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from serve(tmp_path_factory, _seed)


def test_the_owner_sees_revenue_at_risk_and_clicks_through_to_the_client(page: Any) -> None:
    log_in(page, "/at-risk")
    assert "Revenue at risk:" in page.inner_text("#headline")
    chart = page.locator("svg.chart")
    expect(chart).to_be_visible()
    bars = chart.locator("g.chart-bar rect")
    assert bars.count() >= 3
    assert float(bars.first.get_attribute("width")) > float(bars.nth(1).get_attribute("width"))
    rows = page.locator("#at-risk-table tbody tr")
    assert rows.count() == bars.count()
    assert STOPPED_NAME in rows.first.inner_text()
    assert "(stopped buying: Equipment)" in page.inner_text("#at-risk-table")

    page.wait_for_load_state("networkidle")
    target = repository_root() / "docs" / "screenshot-at-risk.png"
    page.screenshot(path=str(target))
    assert target.stat().st_size > 10_000

    rows.first.get_by_role("link", name=STOPPED_NAME).click()
    page.wait_for_url(f"**/clients/{STOPPED}")
    panel = page.locator("#value")
    expect(panel).to_be_visible()
    text = panel.inner_text()
    assert "buys every ~29 days" in text
    assert "days past their usual rhythm" in text
    assert "%" in text and "3-YEAR CLV" in text.upper()
    expect(panel.locator("svg.pbar")).to_have_count(1)
