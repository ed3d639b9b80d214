"""The insights page in headless Chromium over the demo business: uPlot draws every chart (canvas
elements, no console errors), a filter changes the numbers, and the CSV download holds exactly
the numbers of the tables."""

from __future__ import annotations

import csv
import io
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from goodwill.actions.imports import import_file
from goodwill.demo import DEMO_STAFF, write_demo_files
from goodwill.domain.records import FileKind
from goodwill.settings import Settings
from tests.browser.conftest import log_in, repository_root, serve
from tests.conftest import NOW
from tests.web.sample import staff_user

pytestmark = pytest.mark.browser


def _demo(store: sessionmaker[Session], settings: Settings) -> None:
    """The owner and the demo coffee roaster's six years of clients, purchases and payments."""
    with store.begin() as session:
        staff_user(session, now=NOW)
        for email, name, role, _ in DEMO_STAFF:
            staff_user(session, email=email, name=name, role=role, now=NOW)
    with tempfile.TemporaryDirectory() as tmp:
        files = write_demo_files(Path(tmp), today=NOW.date(), clients=200)
        for kind, file in (
            (FileKind.CLIENTS, files.clients),
            (FileKind.PURCHASES, files.purchases),
            (FileKind.PAYMENTS, files.payments),
        ):
            summary = import_file(store, settings, kind, file, now=NOW)
            assert not summary.errors


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from serve(tmp_path_factory, _demo)


def _values(page: Any, series: str) -> list[str]:
    cells = page.locator(f'table.insights-table td[data-series="{series}"]')
    return [cells.nth(k).get_attribute("data-value") for k in range(cells.count())]


def test_the_insights_page_draws_its_charts_and_its_csv_matches_the_tables(page: Any) -> None:
    log_in(page, "/insights")
    page.wait_for_selector(".insights-chart canvas")
    drawn = page.locator(".insights-chart canvas")
    assert drawn.count() >= 5  # clients, flow, purchases, revenue, payments
    assert "No incidents yet." in page.inner_text("#chart-incidents")
    page.wait_for_load_state("networkidle")
    target = repository_root() / "docs" / "screenshot-insights.png"
    page.screenshot(path=str(target), full_page=False)
    assert target.stat().st_size > 10_000

    page.locator("#chart-purchases details summary").click()
    expect_rows = page.locator("#chart-purchases table tbody tr")
    assert expect_rows.first.is_visible()

    href = page.get_attribute("#csv-all", "href")
    response = page.request.get(href)
    assert response.ok
    rows = list(csv.DictReader(io.StringIO(response.text())))
    for series in ("active_clients", "purchases", "revenue", "revenue_at_risk", "late_payments"):
        assert [r[series] for r in rows] == _values(page, series), series


def test_a_filter_changes_the_numbers(page: Any) -> None:
    log_in(page, "/insights")
    everyone = _values(page, "purchases")
    page.select_option("#insights-filters select[name=tier]", "gold")
    page.click("#insights-filters button[type=submit]")
    page.wait_for_url("**tier=gold**")
    page.wait_for_selector(".insights-chart canvas")
    gold = _values(page, "purchases")
    assert len(gold) == len(everyone)
    assert sum(int(v) for v in gold) < sum(int(v) for v in everyone)


def _legend(page: Any, chart: str) -> str:
    return str(page.inner_text(f'.insights-chart[data-chart="{chart}"] .u-legend'))


def test_the_revenue_axis_reads_in_compact_whole_labels_on_its_own_chart(page: Any) -> None:
    log_in(page, "/insights")
    page.wait_for_selector('.insights-chart[data-chart="revenue"] canvas')
    labels = page.evaluate("goodwillInsights.plots.revenue.axes[1]._values")
    assert labels and all(re.fullmatch(r"-?\d[\d,]*(\.\d)?[kM]? EUR", t) for t in labels), labels
    assert max(len(t) for t in labels) <= len("9,000 EUR")
    assert page.evaluate("goodwillInsights.compact(12000)") == "12k"
    assert page.evaluate("goodwillInsights.compact(1250000)") == "1.3M"
    width = page.evaluate("goodwillInsights.plots.revenue.axes[1]._size")
    assert width >= 7 * max(len(t) for t in labels)
    # A year of money at risk is not on the same axis as a week's revenue.
    assert "Revenue at risk" not in _legend(page, "revenue")
    assert "Revenue at risk" in _legend(page, "at_risk")
    legend = _legend(page, "revenue")
    assert re.search(r"Revenue\W*[\d,]+ EUR", legend), legend


def test_the_legend_gives_the_latest_whole_week_and_the_running_week_is_apart(page: Any) -> None:
    log_in(page, "/insights")
    page.wait_for_selector('.insights-chart[data-chart="revenue"] canvas')
    legend = _legend(page, "clients")
    assert "--" not in legend, legend
    running = page.inner_text("#insights-running")
    week = running.split("week of ", 1)[1][:10]
    before = page.locator("#chart-clients tbody tr").nth(-2).get_attribute("data-week")
    assert before is not None and before in legend and week not in legend
    # The running week is not a point of the solid line, only of its dashed tail.
    line = page.evaluate("goodwillInsights.plots.clients.data[1]")
    tail = page.evaluate("goodwillInsights.plots.clients.data[2]")
    assert line[-1] is None and line[-2] is not None
    assert tail[-1] is not None and all(v is None for v in tail[:-2])
    assert page.evaluate("goodwillInsights.plots.purchases.data[1]")[-1] is None


def test_count_axes_tick_in_whole_numbers_in_the_colour_of_their_meaning(page: Any) -> None:
    log_in(page, "/insights")
    page.wait_for_selector('.insights-chart[data-chart="flow"] canvas')
    labels = page.evaluate("goodwillInsights.plots.flow.axes[1]._values")
    assert labels and all(re.fullmatch(r"\d[\d,]*k?", t) for t in labels), labels
    assert len(set(labels)) == len(labels)
    lost = page.evaluate("goodwillInsights.plots.flow.series[2].stroke()")
    assert lost == "#a2412d"  # --warn, as clients lost and open incidents are everywhere
