"""Client value and revenue at risk over HTTP: the value panel, the At risk page, its CSV, the API.

The store holds the rhythm business (tests/web/rhythms.py) after one engine pass at NOW, seeded
once per module on SQLite and on PostgreSQL; the tests only read it.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

from goodwill.settings import Settings
from goodwill.web import create_app
from tests.conftest import NOW
from tests.web.rhythms import (
    CATEGORY_CLIENT,
    CATEGORY_CLIENT_NAME,
    LAPSED,
    LEAD,
    STOPPED,
    STOPPED_AMOUNT_MINOR,
    STOPPED_DAYS_AGO,
    STOPPED_NAME,
    STOPPED_TOO,
    TOO_FEW,
)

TODAY = NOW.date()
VALUE_KEYS = {
    "usual_interval_days",
    "expected_next",
    "overdue_days",
    "p_alive",
    "expected_purchases_year",
    "expected_spend",
    "clv",
    "currency",
    "value_missing",
    "fit_note",
}
AT_RISK_KEYS = {
    "client_id",
    "name",
    "category",
    "last_purchase",
    "expected_at",
    "days_overdue",
    "usual_interval_days",
    "cycle",
    "revenue_at_risk",
    "missed_so_far",
    "currency",
}


class _Table(HTMLParser):
    """The rows of the At risk table: (data attributes, cell texts)."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[tuple[dict[str, str], list[str]]] = []
        self._in_body = False
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body:
            self.rows.append(({k: v or "" for k, v in attrs if k.startswith("data-")}, []))
        elif tag == "td" and self._in_body:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None:
            self.rows[-1][1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tbody":
            self._in_body = False

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def table(html: str) -> list[tuple[dict[str, str], list[str]]]:
    parser = _Table()
    parser.feed(html)
    return parser.rows


def amount(text: str) -> Decimal:
    """``2,986.22 EUR`` → Decimal."""
    return Decimal(text.split()[0].replace(",", ""))


def api(http: TestClient, path: str, token: str) -> object:
    response = http.get(path, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return response.json()


def value_of(http: TestClient, token: str, ref: str) -> dict[str, object]:
    body = api(http, f"/api/v1/clients/{ref}/value", token)
    assert isinstance(body, dict)
    return body


# -- the client page's value panel ------------------------------------------------------------


def test_a_client_who_stopped_shows_their_rhythm_the_overdue_warning_and_p_alive(
    rhythm_http: TestClient, rhythm_token: str
) -> None:
    value = value_of(rhythm_http, rhythm_token, STOPPED)
    page = rhythm_http.get(f"/clients/{STOPPED}")
    assert page.status_code == 200
    panel = page.text.split('id="value"', 1)[1].split("</section>", 1)[0]
    interval = value["usual_interval_days"]
    assert isinstance(interval, float) and 28 <= interval <= 31
    assert f"buys every ~{round(interval)} days" in panel
    expected = date.fromisoformat(str(value["expected_next"]))
    assert expected == TODAY - timedelta(days=STOPPED_DAYS_AGO) + timedelta(days=round(interval))
    late = (TODAY - expected).days
    assert f"{late} days past their usual rhythm" in panel
    assert expected.isoformat() in panel
    p_alive = value["p_alive"]
    assert isinstance(p_alive, float) and 0 < p_alive < 1
    assert f"{round(p_alive * 100)}%" in panel
    assert 'class="pbar-fill' in panel
    clv = value["clv"]
    assert isinstance(clv, float)
    assert f"{Decimal(repr(clv)).quantize(Decimal(1)):,} EUR" in panel  # whole units
    assert f"{value['expected_spend']:,.2f} EUR" in panel
    assert "3-year CLV" in panel


def test_a_regular_client_in_rhythm_has_no_warning(rhythm_http: TestClient) -> None:
    panel = rhythm_http.get("/clients/R-0001").text.split('id="value"', 1)[1]
    panel = panel.split("</section>", 1)[0]
    assert "buys every ~" in panel
    assert "past their usual rhythm" not in panel
    assert "%" in panel


def test_a_lead_shows_no_purchases_yet(rhythm_http: TestClient, rhythm_token: str) -> None:
    panel = rhythm_http.get(f"/clients/{LEAD}").text.split('id="value"', 1)[1]
    assert "no purchases yet" in panel.split("</section>", 1)[0]
    value = value_of(rhythm_http, rhythm_token, LEAD)
    assert set(value) == VALUE_KEYS
    assert {k for k, v in value.items() if v is not None} == {"currency", "value_missing"}
    assert value["value_missing"] == "lead"


def test_a_client_with_two_purchases_has_a_value_but_no_rhythm_yet(
    rhythm_http: TestClient,
) -> None:
    panel = rhythm_http.get(f"/clients/{TOO_FEW}").text.split('id="value"', 1)[1]
    panel = panel.split("</section>", 1)[0]
    assert "too few purchases for a rhythm" in panel
    assert "3-year CLV" in panel


def test_before_the_engine_first_pass_the_panel_says_when_value_appears(
    logged_in: TestClient,
) -> None:
    panel = logged_in.get("/clients/C-0001").text.split('id="value"', 1)[1]
    panel = panel.split("</section>", 1)[0]
    assert "buys every ~61 days" in panel  # Margaret: every 61 days, no model fit yet
    assert "value appears after the engine's first pass" in panel


# -- the At risk page ---------------------------------------------------------------------------


def test_the_stopped_client_is_first_at_risk_with_the_numbers_of_the_api(
    rhythm_http: TestClient, rhythm_token: str
) -> None:
    page = rhythm_http.get("/at-risk")
    assert page.status_code == 200
    rows = table(page.text)
    listed = api(rhythm_http, "/api/v1/at-risk", rhythm_token)
    assert isinstance(listed, list)
    assert [r[0]["data-client"] for r in rows] == [r["client_id"] for r in listed]
    attrs, cells = rows[0]
    first = listed[0]
    assert attrs["data-client"] == STOPPED and STOPPED_NAME in cells[0]
    assert first["last_purchase"] == (TODAY - timedelta(days=STOPPED_DAYS_AGO)).isoformat()
    assert cells[2] == first["last_purchase"] and cells[3] == first["expected_at"]
    assert first["days_overdue"] == (TODAY - date.fromisoformat(first["expected_at"])).days
    assert cells[4] == str(first["days_overdue"])
    assert first["cycle"] == 2 and cells[5] == "2"
    assert amount(cells[6]) == Decimal(str(first["revenue_at_risk"]))
    per_year = STOPPED_AMOUNT_MINOR / 100 * 365.25 / first["usual_interval_days"]
    assert first["revenue_at_risk"] == pytest.approx(per_year, rel=0.03)
    assert cells[1] == f"~{round(first['usual_interval_days'])} days"


def test_the_headline_is_the_sum_of_the_overall_rows(rhythm_http: TestClient) -> None:
    page = rhythm_http.get("/at-risk").text
    overall = [cells for attrs, cells in table(page) if "data-category" not in attrs]
    assert {STOPPED, STOPPED_TOO} <= {a["data-client"] for a, _ in table(page)}
    total = sum((amount(cells[6]) for cells in overall), Decimal(0))
    headline = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", page.split('id="headline">', 1)[1]))
    match = re.match(r" ?Revenue at risk: ([\d,]+) EUR a year across (\d+) clients", headline)
    assert match, headline
    assert Decimal(match.group(1).replace(",", "")) == total.quantize(Decimal(1))
    assert int(match.group(2)) == len(overall) >= 2


def test_a_category_the_client_stopped_buying_is_marked(rhythm_http: TestClient) -> None:
    rows = table(rhythm_http.get("/at-risk").text)
    [(attrs, cells)] = [r for r in rows if r[0].get("data-category")]
    assert attrs == {"data-client": CATEGORY_CLIENT, "data-category": "Equipment"}
    assert cells[0] == f"{CATEGORY_CLIENT_NAME} (stopped buying: Equipment)"
    assert cells[1] == "~60 days"


def test_lapsed_clients_are_listed_only_when_asked(
    rhythm_http: TestClient, rhythm_token: str
) -> None:
    plain = {a["data-client"] for a, _ in table(rhythm_http.get("/at-risk").text)}
    page = rhythm_http.get("/at-risk?lapsed=1").text
    with_lapsed = {a["data-client"] for a, _ in table(page)}
    assert LAPSED not in plain and LAPSED in with_lapsed and plain < with_lapsed
    assert "Hide lapsed clients" in page and 'href="/at-risk.csv?lapsed=1"' in page
    listed = api(rhythm_http, "/api/v1/at-risk?lapsed=true", rhythm_token)
    assert isinstance(listed, list)
    assert {r["client_id"] for r in listed} == with_lapsed


def test_the_chart_draws_a_bar_per_row_above_the_table(rhythm_http: TestClient) -> None:
    for path, bars in (("/at-risk", 3), ("/at-risk?lapsed=1", 15)):
        page = rhythm_http.get(path).text
        svg = page.split('<svg class="chart"', 1)[1].split("</svg>", 1)[0]
        assert page.index('class="chart"') < page.index('id="at-risk-table"')
        assert svg.count('<g class="chart-bar') == bars == min(15, len(table(page)))
        assert svg.count("<rect ") == bars
        assert f'href="/clients/{STOPPED}#value"' in svg
        assert "chart-bar-category" in svg


def test_the_csv_download_has_the_same_rows_as_the_page(
    rhythm_http: TestClient, rhythm_token: str
) -> None:
    for query in ("", "?lapsed=1"):
        response = rhythm_http.get(f"/at-risk.csv{query}")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        assert "attachment" in response.headers["content-disposition"]
        lines = list(csv.DictReader(io.StringIO(response.text)))
        listed = api(rhythm_http, f"/api/v1/at-risk?lapsed={bool(query)}", rhythm_token)
        assert isinstance(listed, list)
        page_rows = table(rhythm_http.get(f"/at-risk{query}").text)
        assert [line["client_id"] for line in lines] == [a["data-client"] for a, _ in page_rows]
        assert lines == [{k: "" if v is None else str(v) for k, v in row.items()} for row in listed]


def test_the_at_risk_page_has_its_nav_link_after_today(rhythm_http: TestClient) -> None:
    page = rhythm_http.get("/at-risk").text
    nav = page.split('<nav class="nav"', 1)[1].split("</nav>", 1)[0]
    assert nav.index(">Today<") < nav.index(">At risk<") < nav.index(">Clients<")
    assert 'href="/at-risk" aria-current="page"' in nav


def test_nobody_is_at_risk_before_anyone_is_late(
    rhythm_http: TestClient, rhythm_token: str
) -> None:
    assert api(rhythm_http, "/api/v1/at-risk?as_of=2026-06-01", rhythm_token) == []


# -- the API ------------------------------------------------------------------------------------


def test_the_value_endpoint_returns_the_documented_shape(
    rhythm_http: TestClient, rhythm_token: str, rhythm_settings: Settings
) -> None:
    value = value_of(rhythm_http, rhythm_token, STOPPED)
    assert set(value) == VALUE_KEYS
    assert value["currency"] == "EUR"
    assert isinstance(value["overdue_days"], int) and value["overdue_days"] > 0
    assert all(
        isinstance(value[k], float)
        for k in VALUE_KEYS - {"expected_next", "currency", "value_missing", "fit_note"}
        if k != "overdue_days"
    )
    assert value["value_missing"] is None
    in_rhythm = value_of(rhythm_http, rhythm_token, "R-0001")
    assert in_rhythm["overdue_days"] is None
    missing = rhythm_http.get(
        "/api/v1/clients/NOPE/value", headers={"Authorization": f"Bearer {rhythm_token}"}
    )
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"


def test_the_at_risk_endpoint_returns_the_documented_shape(
    rhythm_http: TestClient, rhythm_token: str
) -> None:
    listed = api(rhythm_http, f"/api/v1/at-risk?as_of={TODAY.isoformat()}", rhythm_token)
    assert isinstance(listed, list) and listed
    assert all(set(row) == AT_RISK_KEYS for row in listed)
    risks = [row["revenue_at_risk"] for row in listed]
    assert risks == sorted(risks, reverse=True)
    bad = rhythm_http.get(
        "/api/v1/at-risk?as_of=yesterday", headers={"Authorization": f"Bearer {rhythm_token}"}
    )
    assert bad.status_code == 422 and bad.json()["code"] == "invalid"


def test_the_schema_documents_both_endpoints(rhythm_http: TestClient) -> None:
    paths = rhythm_http.get("/openapi.json").json()["paths"]
    value = paths["/api/v1/clients/{ref}/value"]["get"]["responses"]["200"]
    assert value["content"]["application/json"]["schema"]["$ref"].endswith("/ClientValueOut")
    assert "/api/v1/at-risk" in paths
    assert "/at-risk" not in paths and "/at-risk.csv" not in paths


@pytest.mark.parametrize("path", ["/api/v1/at-risk", f"/api/v1/clients/{STOPPED}/value"])
def test_the_api_needs_a_token(rhythm_http: TestClient, path: str) -> None:
    response = rhythm_http.get(path)
    assert response.status_code == 401
    assert response.json()["code"] == "not_allowed"
    forged = rhythm_http.get(path, headers={"Authorization": "Bearer not-a-token"})
    assert forged.status_code == 401


def test_the_pages_need_a_login(rhythm_settings: Settings) -> None:
    with TestClient(create_app(rhythm_settings, clock=lambda: NOW)) as anonymous:
        for path in ("/at-risk", "/at-risk.csv?lapsed=1", f"/clients/{STOPPED}"):
            response = anonymous.get(path, follow_redirects=False)
            assert response.status_code == 303
            assert response.headers["location"].startswith("/login?next=")
