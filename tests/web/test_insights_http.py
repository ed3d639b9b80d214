"""The insights page and its CSV over HTTP: the numbers of the hand-worked business."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

import goodwill.web
from goodwill.engine.configuration import calendar_for, playbook_for
from goodwill.engine.passes import EnginePass
from goodwill.settings import Settings
from goodwill.store import insights_cache
from goodwill.store.insights_cache import forget_remembered, wait_for_work
from goodwill.store.models import InsightsAnswer
from goodwill.web import create_app
from tests.store.insights_data import EXPECTED, ZONE, buy_again, seed, utc
from tests.web.conftest import log_in
from tests.web.sample import staff_user

CLOCK = utc(2026, 11, 25, 12)
RANGE = {"since": "2026-11-02", "until": "2026-11-25"}


@pytest.fixture
def insights_http(web_settings: Settings, store: sessionmaker[Session]) -> Iterator[TestClient]:
    settings = dataclasses.replace(web_settings, timezone=ZONE)
    with store.begin() as session:
        staff_user(session, now=CLOCK)
        staff_user(session, email="staff@example.com", role="staff", now=CLOCK)
        seed(session)
    with TestClient(create_app(settings, clock=lambda: CLOCK), follow_redirects=False) as client:
        yield client


def _csv(client: TestClient, **params: str) -> list[dict[str, str]]:
    response = client.get("/insights.csv", params={**RANGE, **params})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.text)))


def _table_values(html: str, series: str) -> list[str]:
    return re.findall(rf'data-series="{series}" data-value="([^"]*)"', html)


def test_the_page_needs_a_login(insights_http: TestClient) -> None:
    response = insights_http.get("/insights")
    assert response.status_code in (303, 401)


def test_the_csv_has_every_week_and_series_and_matches_the_tables(
    insights_http: TestClient,
) -> None:
    assert log_in(insights_http).status_code == 303
    rows = _csv(insights_http)
    assert [r["week"] for r in rows] == ["2026-11-02", "2026-11-09", "2026-11-16", "2026-11-23"]
    assert [float(r["revenue"]) for r in rows] == EXPECTED["revenue"]
    assert [r["first_response_median_h"] for r in rows] == ["", "2.5", "", ""]
    page = insights_http.get("/insights", params=RANGE)
    assert page.status_code == 200
    for key in ("active_clients", "revenue", "revenue_at_risk", "late_payments", "sla_attainment"):
        assert _table_values(page.text, key) == [r[key] for r in rows], key
    assert 'id="insights-data"' in page.text and "/static/uPlot.iife.min.js" in page.text
    assert "No incidents yet." not in page.text


def test_a_filter_changes_the_numbers(insights_http: TestClient) -> None:
    assert log_in(insights_http).status_code == 303
    everyone = insights_http.get("/insights", params=RANGE).text
    gold = insights_http.get("/insights", params={**RANGE, "tier": "gold"}).text
    assert _table_values(everyone, "purchases") == ["1", "1", "1", "0"]
    assert _table_values(gold, "purchases") == ["0", "1", "0", "0"]
    assert 'value="gold" selected' in gold
    rows = _csv(insights_http, partner="CityTrips", series="purchases,revenue")
    assert list(rows[0]) == ["week", "purchases", "revenue"]
    assert [r["purchases"] for r in rows] == ["1", "0", "1", "0"]


def test_staff_see_the_page_too_and_a_bad_series_is_refused(insights_http: TestClient) -> None:
    assert log_in(insights_http, email="staff@example.com").status_code == 303
    assert insights_http.get("/insights").status_code == 200
    response = insights_http.get("/insights.csv", params={"series": "nonsense"})
    assert response.status_code in (400, 422)


def test_parts_without_data_say_so_instead_of_an_empty_chart(
    web_settings: Settings, store: sessionmaker[Session]
) -> None:
    with store.begin() as session:
        staff_user(session, now=CLOCK)
    with TestClient(create_app(web_settings, clock=lambda: CLOCK), follow_redirects=False) as http:
        assert log_in(http).status_code == 303
        page = http.get("/insights").text
    assert "No incidents yet." in page and "No conversations yet." in page
    assert 'class="insights-chart"' not in page


def test_a_date_that_does_not_read_shows_the_page_again_with_the_filters_as_typed(
    insights_http: TestClient,
) -> None:
    assert log_in(insights_http).status_code == 303
    page = insights_http.get(
        "/insights", params={"since": "2026-13-45", "until": "2026-11-25", "tier": "gold"}
    )
    assert page.status_code == 422
    assert "<h1>Insights</h1>" in page.text
    assert 'name="since" value="2026-13-45" aria-invalid="true"' in page.text
    assert re.search(r'class="field-error" id="since-error">[^<]+<', page.text)
    assert 'name="until" value="2026-11-25"' in page.text
    assert 'value="gold" selected' in page.text
    assert "until-error" not in page.text


def test_an_end_before_the_start_is_said_next_to_the_end(insights_http: TestClient) -> None:
    assert log_in(insights_http).status_code == 303
    page = insights_http.get("/insights", params={"since": "2026-11-20", "until": "2026-11-02"})
    assert page.status_code == 422
    assert 'name="until" value="2026-11-02" aria-invalid="true"' in page.text
    assert "comes before the start date" in page.text


def test_a_meaning_has_the_colour_the_incidents_chart_gives_it(insights_http: TestClient) -> None:
    assert log_in(insights_http).status_code == 303
    page = insights_http.get("/insights", params=RANGE).text
    found = re.search(r'<script type="application/json" id="insights-data">(.*?)</script>', page)
    assert found
    charts = {c["key"]: c for c in json.loads(found.group(1))["charts"]}
    css = (Path(goodwill.web.__file__).parent / "static" / "goodwill.css").read_text()
    for series in charts["recoveries"]["series"]:
        variant = series["key"].removeprefix("recoveries_").replace("_", "-")
        rule = re.search(rf"\.chart-seg-{variant} {{ fill: var\(--([a-z-]+)\)", css)
        assert rule and rule.group(1) == series["colour"], variant
        assert re.search(rf"--{series['colour']}: #[0-9a-f]{{6}};", css)


def test_on_a_slow_store_the_page_shows_the_last_figures_and_says_so(
    insights_http: TestClient, store: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Working the figures out takes longer than the page would wait: the last ones are shown,
    with when they were worked out, while the next are; the CSV always waits for them."""
    monkeypatch.setattr(insights_cache, "SLOW_SECONDS", 0.0)
    monkeypatch.setattr(insights_cache, "LARGE_STORE", 0)
    assert log_in(insights_http).status_code == 303
    first = insights_http.get("/insights", params=RANGE)
    assert 'id="insights-behind"' not in first.text
    with store.begin() as session:
        buy_again(session)
    behind = insights_http.get("/insights", params=RANGE)
    assert behind.status_code == 200
    assert "These figures were worked out at 13:00" in behind.text  # noon UTC in Amsterdam
    assert _table_values(behind.text, "purchases") == _table_values(first.text, "purchases")
    assert [r["purchases"] for r in _csv(insights_http)][-1] == str(
        int(_table_values(first.text, "purchases")[-1]) + 1
    )
    wait_for_work()
    fresh = insights_http.get("/insights", params=RANGE)
    assert 'id="insights-behind"' not in fresh.text
    assert (
        _table_values(fresh.text, "purchases")[-1]
        == [r["purchases"] for r in _csv(insights_http)][-1]
    )


def test_after_a_restart_the_page_shows_an_earlier_days_figures_with_their_date(
    insights_http: TestClient, store: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The answer kept in the store from yesterday is shown the next morning, dated, while
    today's is worked out; then today's."""
    monkeypatch.setattr(insights_cache, "SLOW_SECONDS", 0.0)
    monkeypatch.setattr(insights_cache, "LARGE_STORE", 0)
    assert log_in(insights_http).status_code == 303
    first = insights_http.get("/insights")
    wait_for_work()
    with store.begin() as session:
        session.execute(
            update(InsightsAnswer).values(
                asked="2026-11-24 2026-05-26 2026-11-24 26", figured_at=utc(2026, 11, 24, 16)
            )
        )
    forget_remembered()
    shown = insights_http.get("/insights")
    assert "These figures were worked out on 24 November at 17:00" in shown.text
    assert _table_values(shown.text, "purchases") == _table_values(first.text, "purchases")
    wait_for_work()
    fresh = insights_http.get("/insights")
    assert 'id="insights-behind"' not in fresh.text


def test_after_the_engines_pass_the_first_visitor_is_shown_todays_figures_at_once(
    insights_http: TestClient,
    store: sessionmaker[Session],
    web_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On a large store the engine's pass works out the page's first view ahead, so a restarted
    server shows today's figures without working them out or showing older ones."""
    monkeypatch.setattr(insights_cache, "LARGE_STORE", 0)
    settings = dataclasses.replace(web_settings, timezone=ZONE)
    playbook, calendar = playbook_for(settings), calendar_for(settings)
    EnginePass(store, settings, now=CLOCK, playbook=playbook, calendar=calendar).run()
    assert log_in(insights_http).status_code == 303
    expected = insights_http.get("/insights.csv")
    forget_remembered()

    def refuse(*args: object, **kwargs: object) -> object:
        raise AssertionError("the page worked the figures out itself")

    with monkeypatch.context() as patched:
        patched.setattr(insights_cache, "weekly_insights", refuse)
        shown = insights_http.get("/insights")
    assert shown.status_code == 200
    assert 'id="insights-behind"' not in shown.text
    last_week = list(csv.DictReader(io.StringIO(expected.text)))[-1]
    assert _table_values(shown.text, "purchases")[-1] == last_week["purchases"]
    assert len(_table_values(shown.text, "purchases")) == 26
