"""The At risk page: regular clients past their usual rhythm, and what a year of them is worth.

The headline adds up each overdue client's overall rhythm (a year of their purchases); the chart
shows the biggest rows and the table below it holds every number the chart draws, a page of
``PAGE_ROWS`` rows at a time (store/at_risk.py reads only those). Rows for one
product category ("stopped buying: Equipment") are listed but not added to the headline: the
client still buys, so only part of that year is at risk. ``/at-risk.csv`` has the same rows.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from goodwill.store.at_risk import at_risk_page as list_page
from goodwill.store.cadence import OverdueClient
from goodwill.web.auth import PageStaff
from goodwill.web.charts import Bar, BarChart, bar_chart
from goodwill.web.rendering import client_url, estimate, query_url, render
from goodwill.web.state import Db, State
from goodwill.web.value_words import rhythm_words

router = APIRouter(include_in_schema=False)

#: Bars in the chart; the table below lists every row of the page.
CHART_ROWS = 15
#: Rows a page shows; the headline counts the whole list.
PAGE_ROWS = 100
CSV_COLUMNS = (
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
)


@dataclass(frozen=True)
class Headline:
    """Revenue at risk a year, summed over the clients' overall rhythms (None: no amounts)."""

    total: float | None
    clients: int
    currency: str


def chart_of(rows: Sequence[OverdueClient]) -> BarChart | None:
    """The biggest ``CHART_ROWS`` rows with a known amount, in the table's order."""
    bars = [
        Bar(
            label=r.name if r.category is None else f"{r.name} · {r.category}",
            value=r.revenue_at_risk,
            value_text=estimate(r.revenue_at_risk, r.currency, whole=True),
            href=client_url(r.client_id) + "#value",
            variant="" if r.category is None else "category",
        )
        for r in rows
        if r.revenue_at_risk is not None
    ][:CHART_ROWS]
    return bar_chart(bars) if bars else None


def csv_cell(value: object) -> object:
    """A CSV cell; text a spreadsheet would run as a formula (``=``, ``+``, ``@``...) is quoted."""
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


@router.get("/at-risk")
def at_risk_page(
    request: Request,
    staff: PageStaff,
    db: Db,
    state: State,
    lapsed: bool = False,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> Response:
    """One page of the list (``PAGE_ROWS`` rows); the headline and the count cover all of it."""
    found = list_page(
        db,
        state.settings,
        as_of=state.today(),
        include_lapsed=lapsed,
        limit=PAGE_ROWS,
        offset=(page - 1) * PAGE_ROWS,
    )
    rows = found.rows
    flag = 1 if lapsed else None
    return render(
        request,
        "at_risk.html",
        {
            "section": "at-risk",
            "rows": rows,
            "count": found.count,
            "headline": Headline(total=found.total, clients=found.clients, currency=found.currency),
            "chart": chart_of(rows) if page == 1 else None,
            "lapsed": lapsed,
            "max_cycles": int(state.settings.cadence["max_cycles"]),
            "rhythm_words": rhythm_words,
            "as_of": state.today(),
            "csv_url": query_url("/at-risk.csv", {"lapsed": flag}),
            "toggle_url": query_url("/at-risk", {"lapsed": None if lapsed else 1}),
            "page": page,
            "pages": max(1, -(-found.count // PAGE_ROWS)),
            "first_row": (page - 1) * PAGE_ROWS + 1,
            "prev_url": query_url("/at-risk", {"lapsed": flag, "page": page - 1})
            if page > 1
            else None,
            "next_url": query_url("/at-risk", {"lapsed": flag, "page": page + 1})
            if page * PAGE_ROWS < found.count
            else None,
        },
    )


@router.get("/at-risk.csv")
def at_risk_csv(staff: PageStaff, db: Db, state: State, lapsed: bool = False) -> Response:
    """The whole list as CSV (one line per row, amounts in major units, dates ISO 8601)."""
    today = state.today()
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in list_page(db, state.settings, as_of=today, include_lapsed=lapsed).rows:
        writer.writerow({k: csv_cell(v) for k, v in row.as_dict().items()})
    name = f"at-risk-{today.isoformat()}.csv"
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
