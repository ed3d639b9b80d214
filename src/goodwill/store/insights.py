"""Weekly series for the insights page, the CLI and the owner's digest, aggregated in the database.

A business wants trends it cannot read off an income statement: how many clients are active, who
came, who was lost, what is at risk, whether follow-ups and answers keep up. Every figure here is
one aggregate SQL statement over the store (a handful in all), never rows loaded into Python, and
the same statements run on SQLite and PostgreSQL with the same answers: instants are turned into
whole epoch seconds, the business's UTC offsets over the range are spelled out as a CASE, and week
numbers are integer divisions. Weeks start on Monday at midnight in the business's time zone.

Speed (bench/insights_page.py, docs/insights.md): the one statement that reads every order is
the per-client aggregate, from the orders' (client, time, currency, amount) index alone; the
purchases read one range of the (time, currency, amount, partner) index per week. Three look-ups
at the ends of the indexes say beforehand whether the orders hold a single currency and whether
any lies past the cutoff, so the usual case needs neither a currency test nor a time test per
order. Filters on instants compare the stored columns, and only the rows that pass are turned
into seconds.

Definitions (docs/insights.md has them in full). "Week end" is the end of the week, or the end of
the as-of day for the week that contains it. A client's rhythm here is the SQL stand-in for the
cadence watch: their mean interval between orders, (last - first) / (orders - 1), for clients with
at least ``cadence.min_purchases`` orders. Client-level series read each client's first and latest
order as known on the as-of day, so they describe the past as it looks now: a client who came
back after a year away counts as active through the gap, and one who was late then bought again
is not counted as at risk in the weeks they were late (revenue at risk is exact for the latest
week, a lower bound for the ones before).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Date, bindparam, text
from sqlalchemy.orm import Session

from goodwill.domain.money import exponent
from goodwill.errors import InvalidInput
from goodwill.settings import Settings
from goodwill.store.incidents import resolved_key
from goodwill.store.models import UTCDateTime
from goodwill.store.queries import figures_currency
from goodwill.store.week_grid import Grid, WeekSql, monday, week_grid

YEAR_S = 365 * 86400
#: A client is overdue once the time since their latest order passes this many mean intervals.
OVERDUE_NUM, OVERDUE_DEN = 3, 2
DEFAULT_WEEKS = 26


@dataclass(frozen=True)
class SeriesInfo:
    key: str
    label: str
    unit: str  # count | money | hours | share
    group: str  # the chart it is drawn in


#: Every series, in the order the page, the CLI and the JSON list them.
SERIES: tuple[SeriesInfo, ...] = (
    SeriesInfo("active_clients", "Active clients", "count", "clients"),
    SeriesInfo("new_clients", "New clients", "count", "flow"),
    SeriesInfo("clients_lost", "Clients lost", "count", "flow"),
    SeriesInfo("purchases", "Purchases", "count", "purchases"),
    SeriesInfo("revenue", "Revenue", "money", "revenue"),
    SeriesInfo("revenue_at_risk", "Revenue at risk (a year)", "money", "risk"),
    SeriesInfo("followups_created", "Follow-ups created", "count", "followups"),
    SeriesInfo("followups_done", "Follow-ups done", "count", "followups"),
    SeriesInfo("followups_overdue", "Follow-ups overdue", "count", "followups"),
    SeriesInfo("late_payments", "Late payments", "count", "payments"),
    SeriesInfo("first_response_median_h", "First response, median (h)", "hours", "response"),
    SeriesInfo("first_response_p90_h", "First response, 90th percentile (h)", "hours", "response"),
    SeriesInfo("sla_attainment", "First responses within target", "share", "sla"),
    SeriesInfo("incidents_tier_1", "Incidents, tier 1", "count", "incidents"),
    SeriesInfo("incidents_tier_2", "Incidents, tier 2", "count", "incidents"),
    SeriesInfo("incidents_tier_3", "Incidents, tier 3", "count", "incidents"),
    SeriesInfo("recoveries_recovered", "Recovered: every step taken", "count", "recoveries"),
    SeriesInfo("recoveries_follow_up_due", "Resolved, follow-up to come", "count", "recoveries"),
    SeriesInfo("recoveries_closed_short", "Closed with steps missing", "count", "recoveries"),
    SeriesInfo("recoveries_open", "Still open", "count", "recoveries"),
)
SERIES_KEYS = tuple(s.key for s in SERIES)


def value_text(value: float | None, unit: str, currency: str, *, hours: str = " h") -> str:
    """A series value as people read it: whole money with its currency, a share in per cent,
    hours to a tenth (followed by ``hours``), counts with thousands separators; "—" if none."""
    if value is None:
        return "—"
    if unit == "money":
        return f"{value:,.0f} {currency}"
    if unit == "share":
        return f"{value:.0%}"
    if unit == "hours":
        return f"{value:,.1f}{hours}"
    return f"{value:,.0f}"


Value = int | float | None


@dataclass(frozen=True)
class Filters:
    """Which clients the figures count: a value tier, and a partner or channel by name."""

    tier: str | None = None
    partner: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {"tier": self.tier, "partner": self.partner}


@dataclass(frozen=True)
class Insights:
    """Weekly series over ``weeks`` (Mondays in the business's zone), in the figures currency.

    Money is in major units; hours and shares are rounded to 2 and 3 places; ``None`` where a
    week has nothing to measure (no answered conversation, no decided response target).
    ``present`` says which parts of the business have any data at all.
    """

    weeks: tuple[date, ...]
    series: Mapping[str, tuple[Value, ...]]
    currency: str
    as_of: date
    filters: Filters = field(default_factory=Filters)
    present: Mapping[str, bool] = field(default_factory=dict)
    #: Set when these are the figures worked out at that instant, shown while newer ones are
    #: worked out (store/insights_cache.py); None: as the data stands.
    figured_at: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "weeks": [w.isoformat() for w in self.weeks],
            "series": {key: list(self.series[key]) for key in SERIES_KEYS},
        }

    def latest(self, key: str) -> Value:
        values = self.series[key]
        return values[-1] if values else None


@dataclass(frozen=True)
class _Scope:
    """The filters as SQL conditions on an orders alias and on a client-id column."""

    orders: str
    clients: str
    params: dict[str, Any]


def _scope(session: Session, settings: Settings, filters: Filters, currency: str) -> _Scope:
    orders: list[str] = []
    clients: list[str] = []
    params: dict[str, Any] = {}
    if filters.partner:
        orders.append("o.partner_id = (SELECT id FROM partners WHERE name = :partner)")
        clients.append(
            "{col} IN (SELECT client_id FROM orders WHERE partner_id = "
            "(SELECT id FROM partners WHERE name = :partner))"
        )
        params["partner"] = filters.partner
    if filters.tier:
        low, high = tier_bounds(settings, filters.tier, currency)
        having = ["SUM(amount_minor) >= :tier_low" if low is not None else "1 = 1"]
        if high is not None:
            having.append("SUM(amount_minor) < :tier_high")
        in_tier = (
            "{col} IN (SELECT client_id FROM orders WHERE currency = :currency "
            f"GROUP BY client_id HAVING {' AND '.join(having)})"
        )
        orders.append(in_tier.format(col="o.client_id"))
        clients.append(in_tier)
        params.update(tier_low=low, tier_high=high, currency=currency)
    return _Scope(
        orders="".join(f" AND {c}" for c in orders),
        clients="".join(f" AND {c}" for c in clients),
        params=params,
    )


def tier_bounds(settings: Settings, tier: str, currency: str) -> tuple[int | None, int | None]:
    """Lifetime spend in minor units that puts a client in ``tier``: [low, high); None: open."""
    scale = 10 ** exponent(currency)
    thresholds = sorted(settings.tiers.items(), key=lambda item: item[1])
    if tier == "bronze":
        return None, (thresholds[0][1] * scale if thresholds else None)
    for k, (name, threshold) in enumerate(thresholds):
        if name == tier:
            higher = [t for _, t in thresholds[k + 1 :] if t > threshold]
            return threshold * scale, (higher[0] * scale if higher else None)
    known = ", ".join(["bronze", *(name for name, _ in thresholds)])
    raise InvalidInput(f"no tier {tier!r} (tiers: {known})", field="tier")


def partner_names(session: Session) -> list[str]:
    return list(session.execute(text("SELECT name FROM partners ORDER BY name")).scalars())


def data_version(session: Session) -> tuple[Any, ...]:
    """What changes whenever a series could, each read at the end of an index.

    New rows show in the newest id of their table (imports, refunds, payments, merges and the
    engine all write the event log too); changed follow-ups, conversations and incidents in
    their newest change time; an import that only fills in invoices (a due date, settled) in
    the imports' newest id and number finished. Rows are deleted only by undoing an import,
    counted by the imports undone. Counting the rows of a table instead would read every index
    entry on each request (a million invoices: most of the page's time), and miss changes.
    """
    return tuple(
        session.execute(
            text(
                "SELECT (SELECT MAX(id) FROM events), (SELECT MAX(id) FROM imports), "
                "(SELECT COUNT(undone_at) FROM imports), (SELECT COUNT(finished_at) FROM imports), "
                # the fifth value: newest_order_id reads it
                "(SELECT MAX(id) FROM orders), (SELECT MAX(id) FROM followups), "
                "(SELECT MAX(updated_at) FROM followups), (SELECT MAX(id) FROM messages), "
                "(SELECT MAX(last_message_at) FROM conversations), "
                "(SELECT MAX(id) FROM invoices), (SELECT MAX(id) FROM payments), "
                "(SELECT MAX(id) FROM incident_steps), (SELECT MAX(id) FROM incidents), "
                "(SELECT MAX(COALESCE(closed_at, resolved_at, confirmed_at, opened_at)) "
                "FROM incidents), (SELECT MAX(id) FROM partners)"
            )
        ).one()
    )


def newest_order_id(version: tuple[Any, ...]) -> int:
    """The newest order's id in a :func:`data_version` answer (0 for none): the store's size."""
    return int(version[4] or 0)


def weekly_insights(
    session: Session,
    settings: Settings,
    *,
    as_of: date,
    weeks: int = DEFAULT_WEEKS,
    since: date | None = None,
    until: date | None = None,
    filters: Filters | None = None,
) -> Insights:
    """The series for the ``weeks`` weeks ending with the one containing ``until`` (default:
    ``as_of``), or for the weeks from ``since`` to ``until`` when ``since`` is given."""
    filters = filters or Filters()
    last = min(until or as_of, as_of)
    first = since or (monday(last) - timedelta(weeks=max(weeks, 1) - 1))
    grid = week_grid(settings.zone, first=first, last=last, as_of=as_of)
    glance = _glance(session, grid)
    single = glance.lowest is not None and glance.lowest == glance.highest
    # With a single currency in the orders, it is the one most orders are in.
    currency = (
        glance.lowest
        if single and glance.lowest and not settings.currency
        else figures_currency(session, settings)
    )
    scope = _scope(session, settings, filters, currency)
    sql = WeekSql(session, grid)
    n = len(grid.weeks)
    series: dict[str, list[Value]] = {key: [0] * n for key in SERIES_KEYS}
    present: dict[str, bool] = {}
    base: dict[str, Any] = {
        "start": grid.start,
        "cutoff": grid.cutoff,
        "currency": currency,
        "stale": False,
        **scope.params,
    }
    scale = 10 ** exponent(currency)
    # Every order in the figures currency: its amount is the spend, no test per order.
    spend = (
        "o.amount_minor"
        if single and glance.lowest == currency
        else "CASE WHEN o.currency = :currency THEN o.amount_minor ELSE 0 END"
    )
    # The kept client figures hold every order of a client: they serve unless the page counts
    # only some orders (a partner's, a tier's clients), some orders lie past the range, or the
    # engine has kept none yet (then every client's orders are grouped, the quicker way).
    kept = not (glance.past or filters.partner or filters.tier) and _any_kept(session, currency)
    _clients(session, settings, sql, scope, base, series, spend=spend, past=glance.past, kept=kept)
    _purchases(session, sql, scope, base, series, spend=spend)
    present["followups"] = _followups(session, sql, scope, base, series)
    present["payments"] = _late_payments(session, sql, scope, as_of, series)
    present["conversations"] = _responses(session, sql, scope, base, series)
    present["incidents"] = _incidents(session, sql, scope, base, series)
    present["purchases"] = any(series["purchases"]) or any(series["active_clients"])
    for key in ("revenue", "revenue_at_risk"):
        series[key] = [round(v / scale, 2) if v is not None else None for v in series[key]]
    return Insights(
        weeks=grid.weeks,
        series={k: tuple(v) for k, v in series.items()},
        currency=currency,
        as_of=as_of,
        filters=filters,
        present=present,
    )


@dataclass(frozen=True)
class _Glance:
    """What the ends of the orders' indexes tell: the lowest and highest currency (equal: a
    single one; None: no orders), and whether any order lies at or past the cutoff."""

    lowest: str | None
    highest: str | None
    past: bool


def _glance(session: Session, grid: Grid) -> _Glance:
    # Three subqueries, not one SELECT with three aggregates: each alone is an index look-up
    # (SQLite's min/max optimisation needs a single min() or max() in its query).
    row = _run(
        session,
        "SELECT (SELECT MIN(currency) FROM orders), (SELECT MAX(currency) FROM orders), "
        "CASE WHEN (SELECT MAX(occurred_at) FROM orders) >= :cutoff THEN 1 ELSE 0 END",
        {"cutoff": grid.cutoff},
    )[0]
    return _Glance(lowest=row[0], highest=row[1], past=bool(row[2]))


def _run(session: Session, statement: str, params: Mapping[str, Any]) -> Sequence[Any]:
    """Execute with the parameters the statement names; instants and days bound as the columns
    store them (SQLite compares them as text)."""
    names = set(re.findall(r"(?<![:\w]):(\w+)", statement))
    used = {k: v for k, v in params.items() if k in names}
    binds = [
        bindparam(k, type_=UTCDateTime() if isinstance(v, datetime) else Date())
        for k, v in used.items()
        if isinstance(v, date)
    ]
    return session.execute(text(statement).bindparams(*binds), used).all()


def _exists(query: str) -> str:
    """1 if ``query`` has a row, else 0: whether a part of the business has any data, without
    counting all of it."""
    return f"CASE WHEN EXISTS ({query}) THEN 1 ELSE 0 END"


def _add(target: list[Value], rows: Sequence[Any], *, column: int = 1) -> None:
    for row in rows:
        week = int(row[0])
        if 0 <= week < len(target):
            target[week] = (target[week] or 0) + int(row[column] or 0)


def _running(deltas: Sequence[Any], n: int) -> list[Value]:
    """Week-end levels from (week, change) rows; week -1 holds what was already there."""
    change = [0] * (n + 1)
    for week, delta in deltas:
        k = int(week)
        if -1 <= k < n:
            change[k + 1] += int(delta or 0)
    out: list[Value] = []
    level = change[0]
    for k in range(n):
        level += change[k + 1]
        out.append(level)
    return out


def _clients(
    session: Session,
    settings: Settings,
    sql: WeekSql,
    scope: _Scope,
    base: dict[str, Any],
    series: dict[str, list[Value]],
    *,
    spend: str,
    past: bool,
    kept: bool,
) -> None:
    """Active, new and lost clients and revenue at risk, from each client's first and latest
    order, count and spend: with ``kept``, the figures the engine keeps for each client (and
    the orders of the clients without a fresh row); else one pass over the orders' covering
    (client, time, ...) index.

    Each client becomes the weeks where they count (came: active from, and new when in the
    range; aged: a year after their latest order; lost; late: overdue), and the statement
    counts the clients per combination of those weeks: hundreds or a few thousand rows, however
    many clients. ``past``: some order lies past the cutoff, so the orders need a time test.
    """
    n = len(series["active_clients"])
    min_orders = int(settings.cadence["min_purchases"])
    lapse = int(settings.cadence["max_cycles"]) + 1
    gap = "((c.l - c.f) / NULLIF(c.n - 1, 0))"
    overdue_at = f"(c.l + {OVERDUE_NUM} * {gap} / {OVERDUE_DEN})"
    lost_at = f"(c.l + {lapse} * {gap})"
    # A year of the client's rhythm: the mean order times orders a year (365.25 days).
    yearly = f"(c.spend * 31557600 / NULLIF(c.n * {gap}, 0))"
    start, cut = sql.grid.start_s, sql.grid.cutoff_s
    aged = f"(c.l + {YEAR_S})"
    # A regular client (one with a rhythm) not yet lost when the range begins.
    regular = f"c.n >= {min_orders} AND {gap} > 0 AND {lost_at} >= {start}"
    statement = f"""
WITH {_client_figures(sql, scope, spend=spend, past=past, kept=kept)}, k AS (
  SELECT CASE WHEN {aged} >= {start} THEN {sql.bucket("c.f")} END AS came,
         CASE WHEN {aged} >= {start} AND {aged} < {cut} THEN {sql.bucket(aged)} END AS aged,
         CASE WHEN {regular} AND {lost_at} < {cut} THEN {sql.bucket(lost_at)} END AS lost,
         CASE WHEN {regular} AND {overdue_at} < {cut} THEN {sql.bucket(overdue_at)} END AS late,
         CASE WHEN {regular} AND {overdue_at} < {cut} THEN {yearly} END AS yearly
  FROM c
)
SELECT came, aged, lost, late, COUNT(*), SUM(yearly) FROM k GROUP BY came, aged, lost, late
"""
    active: list[tuple[Any, Any]] = []
    risk: list[tuple[Any, Any]] = []
    new: list[tuple[Any, Any]] = []
    lost: list[tuple[Any, Any]] = []
    for came, aged_week, lost_week, late_week, count, at_risk in _run(session, statement, base):
        if came is not None:
            active.append((came, count))
            new.append((came, count))  # the weeks before the range (-1) are left out
        if aged_week is not None:
            active.append((aged_week, -int(count)))
        if late_week is not None:  # lost implies late: a lost client was overdue first
            risk.append((late_week, at_risk))
        if lost_week is not None:
            lost.append((lost_week, count))
            risk.append((lost_week, -int(at_risk or 0)))
    series["active_clients"] = _running(active, n)
    series["revenue_at_risk"] = _running(risk, n)
    _add(series["new_clients"], new)
    _add(series["clients_lost"], lost)


def _any_kept(session: Session, currency: str) -> bool:
    return bool(
        _run(
            session,
            f"SELECT {_exists('SELECT 1 FROM client_figures x WHERE ' + _FRESH)}",
            {"stale": False, "currency": currency},
        )[0][0]
    )


#: A kept row that holds a client's orders in the figures currency as they stand.
_FRESH = "x.stale = :stale AND x.currency = :currency AND x.orders > 0"


def _client_figures(sql: WeekSql, scope: _Scope, *, spend: str, past: bool, kept: bool) -> str:
    """The CTE ``c``: each client's first and latest order (epoch seconds), count and spend.

    ``kept``: from the engine's fresh rows in the figures currency, and for the clients without
    one (they bought since the engine last ran, or it has not yet) from their own orders, as
    the client list sorts them (store/client_sort.py); the same numbers either way, without
    reading every order of every client (the most of a cold page at 100,000 clients).
    MATERIALIZED: the next CTE names each column many times, and a CTE merged into it would
    turn every stored instant into seconds once per mention."""
    if not kept:
        before = "o.occurred_at < :cutoff" if past else "1 = 1"
        return f"""c AS (
  SELECT {sql.epoch("MIN(o.occurred_at)")} AS f, {sql.epoch("MAX(o.occurred_at)")} AS l,
         COUNT(*) AS n, CAST(SUM({spend}) AS BIGINT) AS spend
  FROM orders o WHERE {before}{scope.orders}
  GROUP BY o.client_id
)"""
    return f"""figures AS (
  SELECT x.first_at AS f0, x.last_at AS l0, x.orders AS n, x.spend_minor AS spend
  FROM client_figures x WHERE {_FRESH}
  UNION ALL
  SELECT MIN(o.occurred_at), MAX(o.occurred_at), COUNT(*), CAST(SUM({spend}) AS BIGINT)
  FROM orders o
  WHERE o.client_id IN (SELECT y.id FROM clients y
                        WHERE NOT EXISTS (SELECT 1 FROM client_figures x
                                          WHERE x.client_id = y.id AND {_FRESH}))
  GROUP BY o.client_id
), c AS MATERIALIZED (
  SELECT {sql.epoch("f0")} AS f, {sql.epoch("l0")} AS l, n, spend FROM figures
)"""


def _purchases(
    session: Session,
    sql: WeekSql,
    scope: _Scope,
    base: dict[str, Any],
    series: dict[str, list[Value]],
    *,
    spend: str,
) -> None:
    """Orders and revenue per week: one range of the orders' (time, ...) index per week, read
    from the index alone, with no order's instant turned into a week number."""
    grid = sql.grid
    # PostgreSQL's planner cannot see into the weeks' bounds and guesses a third of the table
    # per week (and compiles the statement for it); the whole range, said again, tells it how
    # few orders that is. SQLite would read that whole range for every week instead.
    hint = " AND o.occurred_at >= :start AND o.occurred_at < :cutoff" if sql.postgres else ""
    bounds = (grid.start_s, *grid.week_ends_s)
    weeks = ", ".join(f"({k}, :w{k}, :w{k + 1})" for k in range(len(grid.weeks)))
    rows = _run(
        session,
        f"""
WITH w (k, low, high) AS (VALUES {weeks})
SELECT w.k, COUNT(*), SUM({spend})
FROM w JOIN orders o ON o.occurred_at >= w.low AND o.occurred_at < w.high{hint}{scope.orders}
GROUP BY w.k""",
        {**base, **{f"w{k}": datetime.fromtimestamp(b, UTC) for k, b in enumerate(bounds)}},
    )
    _add(series["purchases"], rows)
    _add(series["revenue"], rows, column=2)


def _followups(
    session: Session,
    sql: WeekSql,
    scope: _Scope,
    base: dict[str, Any],
    series: dict[str, list[Value]],
) -> bool:
    """Created and done per week; overdue at each week's end: due before it, not yet closed.

    Bounds in whole seconds are tested on the stored instants (``floor(s) < N`` is ``s < N``
    for a whole N), where indexes serve them, so only the rows that pass are turned into
    seconds."""
    n = len(series["followups_created"])
    where = scope.clients.format(col="f.client_id")
    created, closed = sql.epoch("f.created_at"), sql.epoch("f.closed_at")
    # Late from the later of due and created (the floor of the later is the later floor).
    late = sql.later("f.due_at", "f.created_at")
    late_from = sql.epoch(late)
    rows = _run(
        session,
        f"""
SELECT 'created', {sql.bucket(created)}, COUNT(*) FROM followups f
  WHERE f.created_at >= :start AND f.created_at < :cutoff{where} GROUP BY 2
UNION ALL
SELECT 'done', {sql.bucket(closed)}, COUNT(*) FROM followups f
  WHERE f.status = 'done' AND f.closed_at >= :start AND f.closed_at < :cutoff{where} GROUP BY 2
UNION ALL
SELECT 'overdue', {sql.bucket(late_from)}, COUNT(*) FROM followups f
  WHERE {late} < :cutoff
    AND (f.closed_at IS NULL OR (f.closed_at >= :start AND {closed} > {late_from})){where}
  GROUP BY 2
UNION ALL
SELECT 'overdue', {sql.bucket(closed)}, -COUNT(*) FROM followups f
  WHERE f.closed_at >= :start AND f.closed_at < :cutoff AND {late_from} < {closed}{where}
  GROUP BY 2
UNION ALL
SELECT 'any', 0, {_exists(f"SELECT 1 FROM followups f WHERE 1 = 1{where}")}
""",
        base,
    )
    by: dict[str, list[tuple[Any, Any]]] = {}
    for name, week, value in rows:
        by.setdefault(str(name), []).append((week, value))
    _add(series["followups_created"], by.get("created", []))
    _add(series["followups_done"], by.get("done", []))
    series["followups_overdue"] = _running(by.get("overdue", []), n)
    return any(int(v or 0) > 0 for _, v in by.get("any", []))


def _late_payments(
    session: Session, sql: WeekSql, scope: _Scope, as_of: date, series: dict[str, list[Value]]
) -> bool:
    """Invoices that became late in the week: the day after the due date, for those paid after
    it or still unpaid past it (by the as-of day). The late day falls from the first Monday to
    the as-of day: the due date from the day before the one to the day before the other."""
    first = sql.grid.weeks[0]
    late_day = f"({sql.days('i.due_on')} + 1)"
    where = scope.clients.format(col="i.client_id")
    params: dict[str, Any] = {
        **scope.params,
        "first_day": (first - date(1970, 1, 1)).days,
        "due_from": first - timedelta(days=1),
        "due_until": as_of - timedelta(days=1),
    }
    rows = _run(
        session,
        f"""
SELECT ({late_day} - :first_day) / 7, COUNT(*) FROM invoices i
WHERE i.due_on >= :due_from AND i.due_on <= :due_until
  AND (i.paid_on > i.due_on OR (i.paid_on IS NULL AND NOT i.settled)){where}
GROUP BY 1
UNION ALL
SELECT -1, {_exists(f"SELECT 1 FROM invoices i WHERE 1 = 1{where}")}
""",
        params,
    )
    _add(series["late_payments"], [r for r in rows if int(r[0]) >= 0])
    return any(int(r[0]) == -1 and int(r[1] or 0) > 0 for r in rows)


def _responses(
    session: Session,
    sql: WeekSql,
    scope: _Scope,
    base: dict[str, Any],
    series: dict[str, list[Value]],
) -> bool:
    """First-response times (median and 90th percentile, interpolated as percentile_cont does)
    and the share of decided first-response targets met, by the week a conversation began."""
    n = len(series["first_response_median_h"])
    where = scope.clients.format(col="c.client_id")
    week = sql.bucket(sql.epoch("c.created_at"))
    waited = f"({sql.epoch('c.first_response_at')} - {sql.epoch('c.created_at')})"
    median_i, p90_i = "((k.n - 1) * 5) / 10", "((k.n - 1) * 9) / 10"
    rows = _run(
        session,
        f"""
WITH r AS (
  SELECT {week} AS w, {waited} AS v FROM conversations c
  WHERE c.created_at >= :start AND c.created_at < :cutoff AND c.first_response_at IS NOT NULL
    AND c.first_response_at < :cutoff{where}
), k AS (
  SELECT w, v, ROW_NUMBER() OVER (PARTITION BY w ORDER BY v) - 1 AS i,
         COUNT(*) OVER (PARTITION BY w) AS n
  FROM r
)
SELECT k.w, k.n,
  SUM(CASE WHEN k.i = {median_i} THEN k.v END), SUM(CASE WHEN k.i = {median_i} + 1 THEN k.v END),
  SUM(CASE WHEN k.i = {p90_i} THEN k.v END), SUM(CASE WHEN k.i = {p90_i} + 1 THEN k.v END)
FROM k GROUP BY k.w, k.n
""",
        base,
    )
    median: list[Value] = [None] * n
    p90: list[Value] = [None] * n
    for w, count, m_lo, m_hi, p_lo, p_hi in rows:
        k = int(w)
        if 0 <= k < n:
            median[k] = _interpolate(int(count), 5, m_lo, m_hi)
            p90[k] = _interpolate(int(count), 9, p_lo, p_hi)
    series["first_response_median_h"] = median
    series["first_response_p90_h"] = p90
    # The engine keys a clock's breach "scan:sla/<conversation>/<clock>/breach"; clock 1 is the
    # first-response clock.
    breached = (
        "EXISTS (SELECT 1 FROM events e WHERE e.idempotency_key = "
        ":breach_prefix || CAST(c.id AS VARCHAR(20)) || '/1/breach' AND e.occurred_at < :cutoff)"
    )
    attained = _run(
        session,
        f"""
SELECT {week}, SUM(CASE WHEN {breached} THEN 0 ELSE 1 END), COUNT(*) FROM conversations c
WHERE c.created_at >= :start AND c.created_at < :cutoff AND c.sla_clock >= 1
  AND c.sla_policy IS NOT NULL
  AND ((c.first_response_at IS NOT NULL AND c.first_response_at < :cutoff) OR {breached}){where}
GROUP BY 1
UNION ALL
SELECT -1, 0, {_exists(f"SELECT 1 FROM conversations c WHERE 1 = 1{where}")}
""",
        {**base, "breach_prefix": "scan:sla/"},
    )
    share: list[Value] = [None] * n
    any_conversation = False
    for w, met, total in attained:
        k = int(w)
        if k == -1:
            any_conversation = int(total or 0) > 0
        elif 0 <= k < n and int(total or 0):
            share[k] = round(int(met or 0) / int(total), 3)
    series["sla_attainment"] = share
    return any_conversation


def _interpolate(count: int, tenths: int, low: Any, high: Any) -> float | None:
    """percentile_cont: the value at position (n - 1) p, between its two neighbours, in hours."""
    if low is None:
        return None
    fraction = ((count - 1) * tenths % 10) / 10
    upper = float(high) if high is not None else float(low)
    seconds = float(low) + fraction * (upper - float(low))
    return round(seconds / 3600, 2)


def _incidents(
    session: Session,
    sql: WeekSql,
    scope: _Scope,
    base: dict[str, Any],
    series: dict[str, list[Value]],
) -> bool:
    """Incidents opened per week by tier, and by how their recovery ended so far (the same four
    outcomes as the incidents page: every step taken, follow-up to come, closed short, open)."""
    where = scope.clients.format(col="i.client_id")
    week = sql.bucket(sql.epoch("i.opened_at"))
    prefix = resolved_key(0).removesuffix("0")
    steps = (
        "(SELECT COUNT(*) FROM incident_steps s WHERE s.incident_id = i.id "
        "AND s.step <> 'follow_up' AND (s.step <> 'restate' OR i.confirmed_at IS NOT NULL))"
    )
    followed = (
        "(EXISTS (SELECT 1 FROM incident_steps s WHERE s.incident_id = i.id "
        "AND s.step = 'follow_up') OR EXISTS (SELECT 1 FROM events e "
        "JOIN followup_events fe ON fe.event_id = e.id JOIN followups f ON f.id = fe.followup_id "
        "WHERE e.idempotency_key = :resolved_prefix || CAST(i.id AS VARCHAR(20)) "
        "AND f.status = 'done'))"
    )
    outcome = (
        f"CASE WHEN i.status = 'open' THEN 'open' "
        f"WHEN {steps} = 5 AND {followed} THEN 'recovered' "
        "WHEN i.status = 'closed' THEN 'closed_short' ELSE 'follow_up_due' END"
    )
    rows = _run(
        session,
        f"""
SELECT {week}, i.tier, {outcome}, COUNT(*) FROM incidents i
WHERE i.opened_at >= :start AND i.opened_at < :cutoff{where}
GROUP BY 1, 2, 3
UNION ALL
SELECT -1, 0, 'any', {_exists(f"SELECT 1 FROM incidents i WHERE 1 = 1{where}")}
""",
        {**base, "resolved_prefix": prefix},
    )
    n = len(series["incidents_tier_1"])
    found = False
    for w, tier, ended, count in rows:
        k = int(w)
        if k == -1:
            found = int(count or 0) > 0
            continue
        if not 0 <= k < n:
            continue
        tier_key = f"incidents_tier_{int(tier)}"
        if tier_key in series:
            series[tier_key][k] = int(series[tier_key][k] or 0) + int(count)
        outcome_key = f"recoveries_{ended}"
        series[outcome_key][k] = int(series[outcome_key][k] or 0) + int(count)
    return found


__all__ = [
    "DEFAULT_WEEKS",
    "SERIES",
    "SERIES_KEYS",
    "Filters",
    "Insights",
    "SeriesInfo",
    "data_version",
    "partner_names",
    "tier_bounds",
    "value_text",
    "weekly_insights",
]
