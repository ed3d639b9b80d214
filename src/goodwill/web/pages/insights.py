"""The insights page: the weekly series as charts, each with its numbers and a CSV one click away.

Charts are drawn in the browser by the vendored uPlot from the numbers embedded in the page (a
JSON block, not a script: the Content-Security-Policy runs only our own files); the same numbers
are in a table under every chart, and `/insights.csv` gives them with the same filters. The
series come from :func:`goodwill.store.insights.cached_insights`, aggregated in SQL.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from goodwill.domain.dates import DateError, parse_date
from goodwill.errors import InvalidInput
from goodwill.store import insights_cache
from goodwill.store.insights import (
    SERIES,
    SERIES_KEYS,
    Filters,
    Insights,
    SeriesInfo,
    partner_names,
    value_text,
)
from goodwill.store.insights_cache import cached_insights, first_day
from goodwill.web.auth import PageStaff
from goodwill.web.rendering import query_url, render
from goodwill.web.state import Db, State, WebState

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Chart:
    """One chart of the page: its series, what it is drawn as, and what to say when empty."""

    key: str
    title: str
    kind: str  # line | bars
    part: str  # which part of the business must have data: purchases, followups, ...
    empty: str
    note: str
    series: tuple[SeriesInfo, ...]


def _info(*keys: str) -> tuple[SeriesInfo, ...]:
    by = {s.key: s for s in SERIES}
    return tuple(by[k] for k in keys)


CHARTS: tuple[Chart, ...] = (
    Chart(
        "clients",
        "Active clients",
        "line",
        "purchases",
        "No purchases yet.",
        "Clients with a purchase in the 365 days up to the week's end.",
        _info("active_clients"),
    ),
    Chart(
        "flow",
        "New clients and clients lost",
        "bars",
        "purchases",
        "No purchases yet.",
        "New: first purchase that week. Lost: a regular client went past their rhythm for good.",
        _info("new_clients", "clients_lost"),
    ),
    Chart(
        "purchases",
        "Purchases",
        "bars",
        "purchases",
        "No purchases yet.",
        "Orders placed that week.",
        _info("purchases"),
    ),
    Chart(
        "revenue",
        "Revenue",
        "line",
        "purchases",
        "No purchases yet.",
        "The week's orders less refunds.",
        _info("revenue"),
    ),
    # A year of money at risk beside a week of revenue flattens the revenue line: its own chart.
    Chart(
        "at_risk",
        "Revenue at risk",
        "line",
        "purchases",
        "No purchases yet.",
        "A year of the rhythm of the regular clients who are overdue at the week's end and have "
        "not bought since.",
        _info("revenue_at_risk"),
    ),
    Chart(
        "followups",
        "Follow-ups",
        "line",
        "followups",
        "No follow-ups yet.",
        "Created and done that week; overdue: open past their date at the week's end.",
        _info("followups_created", "followups_done", "followups_overdue"),
    ),
    Chart(
        "payments",
        "Late payments",
        "bars",
        "payments",
        "No invoices yet.",
        "Invoices that became late that week (paid after their due date, or still unpaid).",
        _info("late_payments"),
    ),
    Chart(
        "response",
        "First-response times",
        "line",
        "conversations",
        "No conversations yet.",
        "Hours from a client's first message to our first answer, by the week it arrived.",
        _info("first_response_median_h", "first_response_p90_h"),
    ),
    Chart(
        "sla",
        "First responses within target",
        "line",
        "conversations",
        "No conversations yet.",
        "Share of first-response targets met (answered before a breach), by week.",
        _info("sla_attainment"),
    ),
    Chart(
        "incidents",
        "Incidents by tier",
        "bars",
        "incidents",
        "No incidents yet.",
        "Opened that week: tier 1 apology and fix, 2 fix and make-good, 3 rescue.",
        _info("incidents_tier_1", "incidents_tier_2", "incidents_tier_3"),
    ),
    Chart(
        "recoveries",
        "How recoveries ended",
        "bars",
        "incidents",
        "No incidents yet.",
        "Incidents by the week they were opened, by where their recovery stands now.",
        _info(
            "recoveries_recovered",
            "recoveries_follow_up_due",
            "recoveries_closed_short",
            "recoveries_open",
        ),
    ),
)


#: The colour of each series by its meaning, as a goodwill.css variable: the same one the
#: incidents chart gives that meaning (good outcomes teal, trouble red, caution gold).
COLOURS: dict[str, str] = {
    "clients_lost": "warn",
    "revenue_at_risk": "warn",
    "followups_done": "accent-mid",
    "followups_overdue": "warn",
    "late_payments": "warn",
    "first_response_p90_h": "gold",
    "incidents_tier_1": "accent",
    "incidents_tier_2": "gold",
    "incidents_tier_3": "warn",
    "recoveries_recovered": "accent",
    "recoveries_follow_up_due": "accent-mid",
    "recoveries_closed_short": "gold",
    "recoveries_open": "warn",
}
OTHER_COLOURS = ("accent", "gold", "ink-soft", "accent-mid")


def colour(chart: Chart, index: int) -> str:
    """The CSS variable naming the colour of a chart's ``index``-th series."""
    return COLOURS.get(chart.series[index].key, OTHER_COLOURS[index % len(OTHER_COLOURS)])


@dataclass(frozen=True)
class Query:
    since: date | None
    until: date | None
    tier: str | None
    partner: str | None

    def params(self) -> dict[str, object]:
        return {
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "tier": self.tier,
            "partner": self.partner,
        }


def _day(state: WebState, text: str | None) -> date | None:
    """A filter's date as typed, in the business's date order; None when left empty."""
    if not text or not text.strip():
        return None
    return parse_date(text.strip(), date_order=state.settings.date_order)


def _query(
    state: WebState, since: str | None, until: str | None, tier: str | None, partner: str | None
) -> Query:
    days: dict[str, date | None] = {}
    for name, text in (("since", since), ("until", until)):
        try:
            days[name] = _day(state, text)
        except DateError as exc:
            raise InvalidInput(f"{name}: {exc}", field=name) from exc
    return Query(days["since"], days["until"], tier or None, partner or None)


def _insights(db: Db, state: WebState, query: Query, *, last_will_do: bool = False) -> Insights:
    """The series asked for; ``last_will_do``: on a store slow to answer, the last answer while
    the next is worked out (the page says so; the CSV export always waits for the data as it
    stands)."""
    today = state.today()
    until = min(query.until or today, today)
    since = query.since or first_day(until)  # as the engine's page_view, for today
    return cached_insights(
        db,
        state.settings,
        as_of=today,
        since=since,
        until=until,
        filters=Filters(tier=query.tier, partner=query.partner),
        now=state.now(),
        slow_seconds=insights_cache.SLOW_SECONDS if last_will_do else None,
        large_store=insights_cache.LARGE_STORE,
    )


def _figured_at(result: Insights, state: WebState) -> str | None:
    """When the figures shown were worked out, when they are not the data as it stands: the
    time on the same day, the date too when they are from an earlier one."""
    if result.figured_at is None:
        return None
    at = result.figured_at.astimezone(state.settings.zone)
    if at.date() == state.today():
        return f"at {at:%H:%M}"
    return f"on {at.day} {at:%B} at {at:%H:%M}"


def cell(value: float | int | None) -> str:
    """A number as the table's data and the CSV write it: plain, no separators; empty if none."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def display(value: float | None, unit: str, currency: str) -> str:
    """A table cell: hours without their unit (the column says "(h)")."""
    return value_text(value, unit, currency, hours="")


def running(result: Insights) -> bool:
    """Whether the last week is still running (its figures are the week so far)."""
    return result.as_of < result.weeks[-1] + timedelta(days=6)


def _headline(result: Insights) -> list[dict[str, str]]:
    """The last whole week against the one before (a week still running would read as a fall)."""
    out = []
    partial = len(result.weeks) > 1 and running(result)
    last = len(result.weeks) - (2 if partial else 1)
    for key in ("active_clients", "new_clients", "revenue", "revenue_at_risk"):
        info = next(s for s in SERIES if s.key == key)
        values = result.series[key]
        latest = values[last] if values else None
        before = values[last - 1] if last > 0 else None
        change = ""
        if latest is not None and before is not None and before != 0:
            change = f"{(float(latest) / float(before) - 1):+.1%} on the week before"
        out.append(
            {
                "key": key,
                "label": info.label,
                "week": result.weeks[last].isoformat(),
                "value": display(latest, info.unit, result.currency),
                "change": change,
            }
        )
    return out


def _page_query(
    state: WebState, since: str | None, until: str | None, tier: str | None, partner: str | None
) -> tuple[Query, dict[str, str]]:
    """The page's filters and, for each date that does not read, what is wrong with it: the
    page is shown again without that date rather than as a bare error."""
    problems: dict[str, str] = {}
    days: dict[str, date | None] = {}
    for name, text in (("since", since), ("until", until)):
        try:
            days[name] = _day(state, text)
        except DateError as exc:
            problems[name] = str(exc)
            days[name] = None
    query = Query(days["since"], days["until"], tier or None, partner or None)
    if query.since and query.until and query.since > query.until:
        problems["until"] = "comes before the start date"
        query = Query(query.since, None, query.tier, query.partner)
    return query, problems


@router.get("/insights")
def insights_page(
    request: Request,
    staff: PageStaff,
    db: Db,
    state: State,
    since: str | None = None,
    until: str | None = None,
    tier: str | None = None,
    partner: str | None = None,
) -> Response:
    query, problems = _page_query(state, since, until, tier, partner)
    result = _insights(db, state, query, last_will_do=True)
    data = {
        "weeks": [w.isoformat() for w in result.weeks],
        "series": {k: list(v) for k, v in result.series.items()},
        "charts": [
            {
                "key": c.key,
                "kind": c.kind,
                "series": [
                    {"key": s.key, "label": s.label, "unit": s.unit, "colour": colour(c, i)}
                    for i, s in enumerate(c.series)
                ],
            }
            for c in CHARTS
        ],
        "currency": result.currency,
        "running": running(result),
    }
    tiers = ["bronze", *sorted(state.settings.tiers, key=lambda t: state.settings.tiers[t])]
    return render(
        request,
        "insights.html",
        {
            "section": "insights",
            "result": result,
            "charts": CHARTS,
            "data_json": json.dumps(data, separators=(",", ":")).replace("</", "<\\/"),
            "query": query,
            "typed": {"since": since or "", "until": until or ""},
            "problems": problems,
            "first": result.weeks[0],
            "last": result.weeks[-1],
            "tiers": tiers,
            "partners": partner_names(db),
            "zone": state.settings.timezone,
            "figured_at": _figured_at(result, state),
            "headline": _headline(result),
            "running": running(result),
            "cell": cell,
            "chart_rows": chart_rows,
            "display": display,
            "csv_url": lambda keys: query_url(
                "/insights.csv", {**query.params(), "series": ",".join(keys) if keys else None}
            ),
        },
        status=422 if problems else 200,
    )


@router.get("/insights.csv")
def insights_csv(
    staff: PageStaff,
    db: Db,
    state: State,
    since: str | None = None,
    until: str | None = None,
    tier: str | None = None,
    partner: str | None = None,
    series: str | None = None,
) -> Response:
    """The page's numbers: one row per week (its Monday), one column per series (all, or the
    comma-separated ``series``); money in major units, hours, shares from 0 to 1."""
    query = _query(state, since, until, tier, partner)
    result = _insights(db, state, query)
    keys = _series_keys(series)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["week", *keys])
    for k, week in enumerate(result.weeks):
        writer.writerow([week.isoformat(), *(cell(result.series[key][k]) for key in keys)])
    name = f"insights-{result.weeks[0].isoformat()}-{result.weeks[-1].isoformat()}.csv"
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _series_keys(text: str | None) -> Sequence[str]:
    if not text:
        return SERIES_KEYS
    keys = [k.strip() for k in text.split(",") if k.strip()]
    unknown = [k for k in keys if k not in SERIES_KEYS]
    if unknown:
        raise InvalidInput(f"no series {unknown[0]!r}", field="series", known=list(SERIES_KEYS))
    return keys


def chart_rows(result: Insights, chart: Chart) -> list[tuple[date, list[Any]]]:
    return [
        (week, [result.series[s.key][k] for s in chart.series])
        for k, week in enumerate(result.weeks)
    ]
