"""The calibration/holdout report: how well a count model, fitted on one period, predicts the next.

Two comparisons, as Fader, Hardie & Lee (2005) present them for CDNOW:

- **Tracking**: cumulative repeat transactions of the cohort, period by period from the first
  purchase to the observation end, against the model's unconditional expectation: for each
  customer, E[X(t)] with t the time since their own first purchase, summed over customers. It uses
  only the fitted population, not the customers' histories.
- **Conditional expectations**: customers grouped by their calibration repeat transactions
  x = 0, 1, ..., 7+; for each group, the mean actual holdout repeat transactions against the mean
  of the model's E[X(holdout) | x, t_x, T].

Repeat transactions are purchase days after a customer's first (as in ``summary.summarize``), and
the cohort is the customers in that summary. Period boundaries are whole days, counted back and
forward from the calibration end, so the calibration end is always a boundary.

The data functions are pure (numpy arrays in, frozen dataclasses out); ``render_html`` turns a
``ReportSummary`` into one self-contained page (inline SVG and CSS, no scripts, no links), and
``write_report`` does the reading, fitting and writing.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from html import escape
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from scipy.special import roots_jacobi  # type: ignore[import-untyped]

from goodwill.analysis.clv_comparison import comparison_section
from goodwill.analysis.clv_files import read_transactions
from goodwill.domain.btyd.choice import Candidate, compare
from goodwill.domain.btyd.clv import Params, count_model
from goodwill.domain.btyd.fit import FitResult, FloatArray, param_values
from goodwill.domain.btyd.summary import period_days, summarize
from goodwill.errors import InvalidInput

log = logging.getLogger(__name__)

REPORT_MODELS = ("bg-nbd", "pareto-nbd", "mbg-nbd")
MODEL_TITLES = {"bg-nbd": "BG/NBD", "pareto-nbd": "Pareto/NBD", "mbg-nbd": "MBG/NBD"}
# Calibration frequencies shown one by one; the last bucket holds this many and more (FHL: 7+).
TOP_FREQUENCY = 7
# Gauss-Jacobi nodes: 128 keep E[X(t)] within 1e-12 of the 2F1 form out to t = 520 periods
# (btyd's 48 suffice for its short horizons, not for a long tracking window). Cheap: one rule.
_JACOBI_NODES = 128
_EPOCH = date(1970, 1, 1)


@dataclass(frozen=True)
class TrackingPoint:
    """Cumulative repeat transactions at the end of one period (a whole day, inclusive)."""

    end: date
    periods: float  # since the start of the first period
    actual: int
    predicted: float


@dataclass(frozen=True)
class FrequencyRow:
    """Customers with ``frequency`` calibration repeat transactions (``or_more``: at least)."""

    frequency: int
    or_more: bool
    customers: int
    actual_mean: float
    predicted_mean: float

    @property
    def label(self) -> str:
        return f"{self.frequency}+" if self.or_more else str(self.frequency)


@dataclass(frozen=True)
class ReportSummary:
    """Everything the report shows; ``predicted_holdout`` sums the conditional expectations."""

    source: str
    model: str
    params: Mapping[str, float]
    log_likelihood: float
    n_customers: int
    period: str
    first_purchase: date
    calibration_end: date
    observation_end: date
    holdout_periods: float
    predicted_holdout: float
    actual_holdout: int
    by_frequency: tuple[FrequencyRow, ...]
    tracking: tuple[TrackingPoint, ...]
    calibration_index: int  # the tracking point at the calibration end
    comparison: tuple[Candidate, ...] = ()  # every count model on the same calibration

    @property
    def relative_error(self) -> float | None:
        """(predicted - actual) / actual over the holdout; None when nothing happened."""
        if self.actual_holdout == 0:
            return None
        return (self.predicted_holdout - self.actual_holdout) / self.actual_holdout


# --- the model's unconditional expectation -------------------------------------------------


def unconditional_expected(model: str, params: Params, t: FloatArray) -> FloatArray:
    """E[X(t)]: expected repeat purchases in the first ``t`` periods after a first purchase.

    btyd exposes only the conditional expectation (which needs T > 0), so this lives here.
    Pareto/NBD (Fader & Hardie's note, eq. 17): r beta / (alpha (s-1)) [1 - (beta/(beta+t))^(s-1)].
    BG/NBD (FHL 2005, eq. 7) is (a+b-1)/(a-1) [1 - (alpha/(alpha+t))^r 2F1(r, b; a+b-1;
    t/(alpha+t))]; like ``bgnbd.beta_posterior_purchases`` it is evaluated as the equal
    E_p[(1 - (1 + p t/alpha)^-r) / p] over p ~ Beta(a, b), which has no singularity at a = 1.
    MBG/NBD adds the dropout at the first purchase: b/(a+b) E_p[...] over p ~ Beta(a, b+1).
    """
    times = np.asarray(t, dtype=np.float64)
    if model == "pareto-nbd":
        r, alpha, s, beta = param_values(params, ("r", "alpha", "s", "beta"), model)
        horizon = np.log1p(times / beta)
        # The bracket over (s-1) by expm1, exact at s = 1 (limit: ln(1 + t/beta)).
        near_one = abs(s - 1.0) < 1e-12
        factor = horizon if near_one else -np.expm1(-(s - 1.0) * horizon) / (s - 1.0)
        pareto: FloatArray = r * beta / alpha * factor
        return pareto
    if model not in ("bg-nbd", "mbg-nbd"):
        raise InvalidInput(f"unknown model {model!r}; expected one of {', '.join(REPORT_MODELS)}")
    r, alpha, a, b = param_values(params, ("r", "alpha", "a", "b"), model)
    shift = 1 if model == "mbg-nbd" else 0
    u, w = roots_jacobi(_JACOBI_NODES, b + shift - 1.0, a - 1.0)
    p = (1.0 + u) / 2.0
    w = w / w.sum()
    g = -np.expm1(-r * np.log1p(np.outer(times / alpha, p))) / p
    survive = b / (a + b) if shift else 1.0
    family: FloatArray = survive * (g @ w)
    return family


# --- the report data --------------------------------------------------------------------------


def period_ends(
    first_purchase: int, calibration_end: int, observation_end: int, period: str
) -> NDArray[np.int64]:
    """Period ends (days since 1970-01-01), whole periods either side of the calibration end.

    The first end falls before the first purchase (its cumulative count is 0); the last is the
    observation end, which closes a shorter period when the holdout is not a whole number of them.
    """
    length = period_days(period)
    back = math.ceil((calibration_end - first_purchase + 1) / length)
    on = math.floor((observation_end - calibration_end) / length)
    ends = [calibration_end + round(k * length) for k in range(-back, on + 1)]
    if ends[-1] < observation_end:
        ends.append(observation_end)
    return np.asarray(ends, dtype=np.int64)


def tracking(
    first_days: NDArray[np.int64],
    repeat_days: NDArray[np.int64],
    ends: NDArray[np.int64],
    *,
    model: str,
    params: Params,
    period: str,
) -> tuple[TrackingPoint, ...]:
    """Cumulative actual and expected repeat transactions at each period end.

    ``first_days``: each cohort customer's first purchase day; ``repeat_days``: every repeat
    purchase day of the cohort (one entry per customer-day). Days are counts since 1970-01-01.
    """
    length = period_days(period)
    actual = np.searchsorted(np.sort(repeat_days), ends, side="right")
    cohort_days, cohort_sizes = np.unique(first_days, return_counts=True)
    lag = np.maximum(ends[:, None] - cohort_days[None, :], 0)
    lags, where = np.unique(lag, return_inverse=True)
    expected = unconditional_expected(model, params, lags / length)
    predicted = expected[where.reshape(lag.shape)] @ cohort_sizes
    return tuple(
        TrackingPoint(
            end=_EPOCH + timedelta(days=int(e)),
            periods=float((e - ends[0]) / length),
            actual=int(n),
            predicted=float(m),
        )
        for e, n, m in zip(ends, actual, predicted, strict=True)
    )


def by_frequency(
    frequency: FloatArray, actual: FloatArray, predicted: FloatArray, *, top: int = TOP_FREQUENCY
) -> tuple[FrequencyRow, ...]:
    """Mean actual and predicted holdout repeat transactions by calibration frequency 0..top+.

    A bucket with no customers has means of 0 (and 0 customers), so the table keeps its shape.
    """
    bucket = np.minimum(frequency, top).astype(np.int64)
    count = np.bincount(bucket, minlength=top + 1)
    actual_sum = np.bincount(bucket, weights=actual, minlength=top + 1)
    predicted_sum = np.bincount(bucket, weights=predicted, minlength=top + 1)
    safe = np.maximum(count, 1)
    return tuple(
        FrequencyRow(
            frequency=k,
            or_more=k == top,
            customers=int(count[k]),
            actual_mean=float(actual_sum[k] / safe[k]),
            predicted_mean=float(predicted_sum[k] / safe[k]),
        )
        for k in range(top + 1)
    )


def customer_days(
    customers: NDArray[np.generic], days: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Distinct purchase days per customer: (customer code, day), sorted by code then day."""
    _, code = np.unique(customers, return_inverse=True)
    base = int(days.min())
    span = int(days.max()) - base + 1
    keys = np.unique(code.astype(np.int64) * span + (days - base))
    return keys // span, keys % span + base


def report_data(
    customers: NDArray[np.generic],
    days: NDArray[np.int64],
    *,
    source: str,
    model: str,
    period: str,
    calibration_end: date,
    observation_end: date,
) -> ReportSummary:
    """Fit ``model`` on the calibration period and compare it with the holdout.

    ``days`` are counts since 1970-01-01. Raises ``InvalidInput`` for an unknown model or
    period, an observation end not after the calibration end, or data the model cannot fit.
    """
    counts = count_model(model)
    if observation_end <= calibration_end:
        raise InvalidInput("the observation end must be after the calibration end")
    cal_end = (calibration_end - _EPOCH).days
    obs_end = (observation_end - _EPOCH).days
    summary = summarize(
        customers,
        days.astype("datetime64[D]"),
        period=period,
        calibration_end=calibration_end,
        observation_end=observation_end,
    )
    if len(summary) == 0:
        raise InvalidInput("no customer made a first purchase before the calibration end")
    assert summary.frequency_holdout is not None and summary.duration_holdout is not None
    history = (summary.frequency, summary.recency, summary.T)
    holdout = {"frequency_holdout": summary.frequency_holdout}
    others = tuple(m for m in REPORT_MODELS if m != model)
    comparison = compare(
        *history, **holdout, duration_holdout=summary.duration_holdout, models=(model, *others)
    )
    fitted: FitResult | None = comparison[0].fit
    if fitted is None:
        raise InvalidInput(str(comparison[0].reason))
    expected = counts.expected_purchases(
        fitted, summary.duration_holdout, summary.frequency, summary.recency, summary.T
    )

    kept = days <= obs_end
    code, day = customer_days(customers[kept], days[kept])
    starts = np.flatnonzero(np.r_[True, code[1:] != code[:-1]])
    first = day[starts]
    first_of_row = np.repeat(first, np.diff(np.r_[starts, code.size]))
    in_cohort = first_of_row < cal_end  # the summary's rule: T > 0
    repeat = day[in_cohort & (day > first_of_row)]
    cohort_first = first[first < cal_end]
    ends = period_ends(int(cohort_first.min()), cal_end, obs_end, period)
    points = tracking(cohort_first, repeat, ends, model=model, params=fitted, period=period)
    return ReportSummary(
        source=source,
        model=model,
        params=dict(fitted.params),
        log_likelihood=fitted.log_likelihood,
        n_customers=len(summary),
        period=period,
        first_purchase=_EPOCH + timedelta(days=int(cohort_first.min())),
        calibration_end=calibration_end,
        observation_end=observation_end,
        holdout_periods=summary.duration_holdout,
        predicted_holdout=float(expected.sum()),
        actual_holdout=int(summary.frequency_holdout.sum()),
        by_frequency=by_frequency(summary.frequency, summary.frequency_holdout, expected),
        tracking=points,
        calibration_index=int(np.flatnonzero(ends == cal_end)[0]),
        comparison=tuple(sorted(comparison, key=lambda c: REPORT_MODELS.index(c.model))),
    )


def write_report(
    transactions: Path,
    *,
    out: Path,
    model: str = "bg-nbd",
    period: str = "week",
    calibration_end: date,
    observation_end: date,
) -> ReportSummary:
    """Read a transactions CSV (customer_id, date), fit, and write the HTML report to ``out``.

    Example: goodwill clv report --transactions tx.csv --calibration-end 1997-09-30
    --observation-end 1998-06-30 --out report.html
    """
    columns = read_transactions(transactions)
    if columns["date"].size == 0:
        raise InvalidInput(f"{transactions}: no transactions", file=str(transactions))
    summary = report_data(
        columns["customer_id"],
        columns["date"].astype(np.int64),
        source=transactions.name,
        model=model,
        period=period,
        calibration_end=calibration_end,
        observation_end=observation_end,
    )
    out.write_text(render_html(summary), encoding="utf-8")
    log.info(
        "clv report written: %s on %d customers from %s",
        model,
        summary.n_customers,
        transactions.name,
    )
    return summary


# --- words ------------------------------------------------------------------------------------


def _n(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}"


def _span(periods: float, period: str, *, adjective: bool = False) -> str:
    """'39 weeks', or '39-week' as an adjective."""
    whole = abs(periods - round(periods)) < 1e-9
    amount = _n(periods, 0 if whole else 1)
    if adjective:
        return f"{amount}-{period}"
    return f"{amount} {period}{'' if amount == '1' else 's'}"


def reading(summary: ReportSummary) -> str:
    """The headline in plain words: predicted against actual over the holdout."""
    name = MODEL_TITLES[summary.model]
    predicted = _n(summary.predicted_holdout)
    holdout = _span(summary.holdout_periods, summary.period, adjective=True)
    text = (
        f"Given each customer's calibration history, {name} predicts {predicted} repeat "
        f"purchases by the {_n(summary.n_customers)} customers in the {holdout} holdout; "
    )
    error = summary.relative_error
    if error is None:
        return text + "none happened."
    direction = "under" if error < 0 else "over"
    happened = _n(summary.actual_holdout)
    return text + f"{happened} happened ({abs(error):.1%} {direction})."


# --- charts -----------------------------------------------------------------------------------

ACTUAL_COLOUR = "#1d3557"
MODEL_COLOUR = "#d1495b"
_W, _H = 880, 380
_LEFT, _RIGHT, _TOP, _BOTTOM = 72, 24, 20, 58


@dataclass(frozen=True)
class Series:
    label: str
    xs: Sequence[float]
    ys: Sequence[float]
    colour: str
    dashed: bool
    hints: Sequence[str]  # one tooltip per point; empty for none


def nice_ticks(low: float, high: float, *, count: int = 6, whole: bool = False) -> list[float]:
    """Round tick values (1, 2, 2.5 or 5 times a power of ten) covering [low, high].

    ``whole``: whole numbers only (no 2.5 steps, no step below 1), for counts of periods.
    """
    span = high - low
    if span <= 0:
        return [low]
    raw = max(span / count, 1.0) if whole else span / count
    magnitude = 10 ** math.floor(math.log10(raw))
    steps = (1, 2, 5, 10) if whole else (1, 2, 2.5, 5, 10)
    step = next(m * magnitude for m in steps if m * magnitude >= raw)
    first = math.ceil(low / step - 1e-9)
    last = math.floor(high / step + 1e-9)
    return [k * step for k in range(first, last + 1)]


def _tick_text(value: float) -> str:
    return _n(value, 0 if value == round(value) else 1)


def line_chart(
    series: Sequence[Series],
    *,
    title: str,
    x_range: tuple[float, float],
    x_ticks: Sequence[tuple[float, str]],
    x_label: str,
    y_label: str,
    marker: tuple[float, str] | None = None,
    points: bool = False,
) -> str:
    """An inline SVG line chart: axes with ticks and labels, legend, optional vertical marker.

    Everything right of the marker is shaded as the holdout. All text is escaped.
    """
    x0, x1 = x_range
    y_max = max((max(s.ys, default=0.0) for s in series), default=0.0)
    y_ticks = nice_ticks(0.0, y_max if y_max > 0 else 1.0)
    if y_ticks[-1] < y_max or len(y_ticks) < 2:
        step = y_ticks[1] - y_ticks[0] if len(y_ticks) > 1 else 1.0
        y_ticks.append(y_ticks[-1] + step)
    y1 = y_ticks[-1]
    plot_w, plot_h = _W - _LEFT - _RIGHT, _H - _TOP - _BOTTOM

    def sx(x: float) -> float:
        return _LEFT + (x - x0) / (x1 - x0) * plot_w

    def sy(y: float) -> float:
        return _TOP + plot_h - y / y1 * plot_h

    parts = [
        f'<svg viewBox="0 0 {_W} {_H}" role="img" aria-label="{escape(title)}" '
        f'preserveAspectRatio="xMidYMid meet"><title>{escape(title)}</title>'
    ]
    if marker is not None:
        mx = sx(marker[0])
        parts.append(
            f'<rect x="{mx:.1f}" y="{_TOP}" width="{_LEFT + plot_w - mx:.1f}" height="{plot_h}" '
            'fill="#f3f1ec"/>'
        )
    for y in y_ticks:
        parts.append(
            f'<line x1="{_LEFT}" x2="{_LEFT + plot_w}" y1="{sy(y):.1f}" y2="{sy(y):.1f}" '
            f'stroke="{"#9aa0a6" if y == 0 else "#e3e3e3"}" stroke-width="1"/>'
            f'<text x="{_LEFT - 8}" y="{sy(y) + 4:.1f}" text-anchor="end" class="tick">'
            f"{escape(_tick_text(y))}</text>"
        )
    for x, text in x_ticks:
        parts.append(
            f'<line x1="{sx(x):.1f}" x2="{sx(x):.1f}" y1="{_TOP + plot_h}" '
            f'y2="{_TOP + plot_h + 5}" stroke="#9aa0a6"/>'
            f'<text x="{sx(x):.1f}" y="{_TOP + plot_h + 20}" text-anchor="middle" class="tick">'
            f"{escape(text)}</text>"
        )
    parts.append(
        f'<text x="{_LEFT + plot_w / 2:.1f}" y="{_H - 12}" text-anchor="middle" class="axis">'
        f"{escape(x_label)}</text>"
        f'<text transform="translate(18 {_TOP + plot_h / 2:.1f}) rotate(-90)" '
        f'text-anchor="middle" class="axis">{escape(y_label)}</text>'
    )
    if marker is not None:
        mx = sx(marker[0])
        parts.append(
            f'<line x1="{mx:.1f}" x2="{mx:.1f}" y1="{_TOP}" y2="{_TOP + plot_h}" '
            'stroke="#6b6b6b" stroke-width="1.2" stroke-dasharray="4 3"/>'
            f'<text x="{mx + 8:.1f}" y="{_TOP + 16}" class="marker">{escape(marker[1])}</text>'
        )
    for s in series:
        path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in zip(s.xs, s.ys, strict=True))
        dash = ' stroke-dasharray="7 5"' if s.dashed else ""
        parts.append(
            f'<polyline points="{path}" fill="none" stroke="{s.colour}" stroke-width="2.2" '
            f'stroke-linejoin="round"{dash}/>'
        )
        for x, y, hint in zip(s.xs, s.ys, s.hints, strict=False):
            radius, fill = (4, s.colour) if points else (6, "transparent")
            parts.append(
                f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="{radius}" fill="{fill}">'
                f"<title>{escape(hint)}</title></circle>"
            )
    legend_x, legend_y = _LEFT + 16, _TOP + 16
    for i, s in enumerate(series):
        y = legend_y + i * 20
        dash = ' stroke-dasharray="7 5"' if s.dashed else ""
        parts.append(
            f'<line x1="{legend_x}" x2="{legend_x + 28}" y1="{y}" y2="{y}" stroke="{s.colour}" '
            f'stroke-width="2.2"{dash}/>'
            f'<text x="{legend_x + 36}" y="{y + 4}" class="legend">{escape(s.label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def tracking_chart(summary: ReportSummary) -> str:
    points = summary.tracking
    xs = [p.periods for p in points]
    name = MODEL_TITLES[summary.model]
    unit = summary.period

    def hints(kind: str, values: Sequence[float]) -> list[str]:
        return [
            f"{kind}, {unit} {_tick_text(p.periods)} (to {p.end}): {_n(v)}"
            for p, v in zip(points, values, strict=True)
        ]

    actual = [float(p.actual) for p in points]
    predicted = [p.predicted for p in points]
    show = len(points) <= 250
    return line_chart(
        [
            Series(
                "Actual", xs, actual, ACTUAL_COLOUR, False, hints("Actual", actual) if show else []
            ),
            Series(name, xs, predicted, MODEL_COLOUR, True, hints(name, predicted) if show else []),
        ],
        title=f"Cumulative repeat transactions, actual and {name}",
        x_range=(0.0, xs[-1]),
        x_ticks=[(t, _tick_text(t)) for t in nice_ticks(0.0, xs[-1], count=8, whole=True)],
        x_label=f"{unit.capitalize()}s since {points[0].end}",
        y_label="Cumulative repeat transactions",
        marker=(
            points[summary.calibration_index].periods,
            f"calibration ends {summary.calibration_end}",
        ),
    )


def frequency_chart(summary: ReportSummary) -> str:
    rows = summary.by_frequency
    xs = [float(r.frequency) for r in rows]
    name = MODEL_TITLES[summary.model]
    actual = [r.actual_mean for r in rows]
    predicted = [r.predicted_mean for r in rows]
    return line_chart(
        [
            Series(
                "Actual",
                xs,
                actual,
                ACTUAL_COLOUR,
                False,
                [
                    f"x = {r.label}: actual {r.actual_mean:.2f} ({r.customers} customers)"
                    for r in rows
                ],
            ),
            Series(
                name,
                xs,
                predicted,
                MODEL_COLOUR,
                True,
                [f"x = {r.label}: {name} {r.predicted_mean:.2f}" for r in rows],
            ),
        ],
        title=f"Holdout repeat transactions by calibration frequency, actual and {name}",
        x_range=(-0.4, len(rows) - 0.6),
        x_ticks=[(float(r.frequency), r.label) for r in rows],
        x_label="Repeat transactions in the calibration period (x)",
        y_label="Mean repeat transactions in the holdout",
        points=True,
    )


# --- the page ---------------------------------------------------------------------------------

_CSS = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #faf9f6; color: #23262b; font-size: 15px; line-height: 1.55;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 960px; margin: 0 auto; padding: 40px 32px 56px; }
.eyebrow { margin: 0; color: #6b6f76; font-size: 13px; letter-spacing: .06em;
  text-transform: uppercase; }
h1 { margin: 4px 0 12px; font-size: 28px; font-weight: 650; letter-spacing: -.01em; }
h2 { margin: 0 0 4px; font-size: 19px; font-weight: 620; }
.lede { margin: 0 0 20px; font-size: 17px; max-width: 46em; }
.lede strong { font-weight: 650; }
.facts { display: grid; grid-template-columns: repeat(3, 1fr); gap: 1px; margin: 0;
  background: #e4e1da; border: 1px solid #e4e1da; border-radius: 8px; overflow: hidden; }
.facts div { background: #fff; padding: 10px 14px; }
.facts dt { color: #6b6f76; font-size: 12px; text-transform: uppercase; letter-spacing: .05em; }
.facts dd { margin: 2px 0 0; font-variant-numeric: tabular-nums; }
section { margin-top: 28px; background: #fff; border: 1px solid #e4e1da; border-radius: 8px;
  padding: 22px 24px 18px; }
.note { margin: 0 0 12px; color: #4f535a; max-width: 52em; }
svg { display: block; width: 100%; height: auto; margin: 4px 0 12px;
  font-family: inherit; }
svg .tick { font-size: 12px; fill: #5f636a; font-variant-numeric: tabular-nums; }
svg .axis { font-size: 13px; fill: #3b3f45; }
svg .legend { font-size: 13px; fill: #23262b; }
svg .marker { font-size: 12px; fill: #4f535a; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 4px;
  font-variant-numeric: tabular-nums; }
th, td { padding: 6px 10px; border-bottom: 1px solid #ebe8e2; text-align: right; }
th:first-child, td:first-child { text-align: left; }
thead th { font-size: 12px; font-weight: 600; color: #5f636a; text-transform: uppercase;
  letter-spacing: .04em; border-bottom: 1px solid #cfcac0; vertical-align: bottom; }
tfoot td { font-weight: 600; border-top: 1px solid #cfcac0; border-bottom: none; }
tr.split td { border-bottom: 2px solid #9aa0a6; }
details { margin-top: 10px; }
summary { cursor: pointer; color: #3b3f45; }
.under { color: #9c2f3c; } .over { color: #2f5f9c; }
footer { margin-top: 28px; color: #5f636a; font-size: 13px; max-width: 58em; }
footer p { margin: 0 0 8px; }
@media print { body { background: #fff; } section { break-inside: avoid; } }
"""


def _difference(predicted: float, actual: float) -> str:
    if actual == 0:
        return "–"
    error = (predicted - actual) / actual
    kind = "under" if error < 0 else "over"
    return f'<span class="{kind}">{error:+.1%}</span>'


def _tracking_tables(summary: ReportSummary) -> str:
    points = summary.tracking
    cal = points[summary.calibration_index]
    last = points[-1]
    unit = summary.period
    rows = [
        (
            f"Calibration ({unit}s 0–{_tick_text(cal.periods)})",
            cal.actual,
            cal.predicted,
        ),
        (
            f"Holdout ({unit}s {_tick_text(cal.periods)}–{_tick_text(last.periods)})",
            last.actual - cal.actual,
            last.predicted - cal.predicted,
        ),
    ]
    body = "".join(
        f"<tr><td>{escape(label)}</td><td>{_n(a)}</td><td>{_n(p, 1)}</td>"
        f"<td>{_difference(p, a)}</td></tr>"
        for label, a, p in rows
    )
    name = escape(MODEL_TITLES[summary.model])
    totals = (
        f"<tfoot><tr><td>Both</td><td>{_n(last.actual)}</td><td>{_n(last.predicted, 1)}</td>"
        f"<td>{_difference(last.predicted, last.actual)}</td></tr></tfoot>"
    )
    table = (
        f"<table><thead><tr><th>Repeat transactions</th><th>Actual</th><th>{name}</th>"
        f"<th>Difference</th></tr></thead><tbody>{body}</tbody>{totals}</table>"
    )
    period_rows = []
    previous = points[0]
    for i, p in enumerate(points[1:], start=1):
        split = ' class="split"' if i == summary.calibration_index else ""
        period_rows.append(
            f"<tr{split}><td>{_tick_text(p.periods)}</td><td>{p.end}</td>"
            f"<td>{_n(p.actual - previous.actual)}</td>"
            f"<td>{_n(p.predicted - previous.predicted, 1)}</td>"
            f"<td>{_n(p.actual)}</td><td>{_n(p.predicted, 1)}</td></tr>"
        )
        previous = p
    detail = (
        f"<details><summary>Every {escape(unit)} ({len(points) - 1} rows)</summary>"
        f"<table><thead><tr><th>{escape(unit.capitalize())}</th><th>Ending</th>"
        f"<th>Actual</th><th>{name}</th><th>Actual, cumulative</th>"
        f"<th>{name}, cumulative</th></tr></thead><tbody>{''.join(period_rows)}</tbody>"
        "</table></details>"
    )
    return table + detail


def _frequency_table(summary: ReportSummary) -> str:
    name = escape(MODEL_TITLES[summary.model])
    body = "".join(
        f"<tr><td>{escape(r.label)}</td><td>{_n(r.customers)}</td>"
        f"<td>{r.actual_mean:.3f}</td><td>{r.predicted_mean:.3f}</td>"
        f"<td>{_n(r.actual_mean * r.customers)}</td>"
        f"<td>{_n(r.predicted_mean * r.customers, 1)}</td>"
        f"<td>{_difference(r.predicted_mean, r.actual_mean)}</td></tr>"
        for r in summary.by_frequency
    )
    n = max(summary.n_customers, 1)
    totals = (
        f"<tfoot><tr><td>All</td><td>{_n(summary.n_customers)}</td>"
        f"<td>{summary.actual_holdout / n:.3f}</td><td>{summary.predicted_holdout / n:.3f}</td>"
        f"<td>{_n(summary.actual_holdout)}</td><td>{_n(summary.predicted_holdout, 1)}</td>"
        f"<td>{_difference(summary.predicted_holdout, summary.actual_holdout)}</td></tr></tfoot>"
    )
    return (
        "<table><thead><tr><th>Calibration repeat transactions (x)</th><th>Customers</th>"
        f"<th>Actual, mean</th><th>{name}, mean</th><th>Actual, total</th>"
        f"<th>{name}, total</th><th>Difference</th></tr></thead>"
        f"<tbody>{body}</tbody>{totals}</table>"
    )


def _facts(summary: ReportSummary) -> str:
    cal = summary.tracking[summary.calibration_index]
    # No-break spaces keep each "name = value" on one line.
    params = ", ".join(f"{k}\u00a0=\u00a0{v:.4g}" for k, v in summary.params.items())
    holdout_start = summary.calibration_end + timedelta(days=1)
    facts = [
        ("Model", MODEL_TITLES[summary.model]),
        ("Parameters", params),
        ("Log-likelihood", _n(summary.log_likelihood, 2)),
        ("Customers", f"{_n(summary.n_customers)} (first purchase before the calibration end)"),
        (
            "Calibration",
            f"{summary.first_purchase} to {summary.calibration_end} "
            f"({_span(cal.periods, summary.period)})",
        ),
        (
            "Holdout",
            f"{holdout_start} to {summary.observation_end} "
            f"({_span(summary.holdout_periods, summary.period)})",
        ),
    ]
    cells = "".join(f"<div><dt>{escape(k)}</dt><dd>{escape(v)}</dd></div>" for k, v in facts)
    return f'<dl class="facts">{cells}</dl>'


def render_html(summary: ReportSummary) -> str:
    """The report as one self-contained HTML page: no scripts, fonts, images or links."""
    name = MODEL_TITLES[summary.model]
    title = f"{name} calibration and holdout: {summary.source}"
    unit = escape(summary.period)
    customers = escape(_n(summary.n_customers))
    days = escape(_n(period_days(summary.period), 4).rstrip("0").rstrip("."))
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<style>{_CSS}</style>
</head>
<body>
<main>
<header>
<p class="eyebrow">Calibration and holdout report</p>
<h1>{escape(name)} on {escape(summary.source)}</h1>
<p class="lede">{escape(reading(summary))}</p>
{_facts(summary)}
</header>
<section>
<h2>Cumulative repeat transactions</h2>
<p class="note">All repeat transactions of the {customers} customers, {unit}
by {unit}, against what {escape(name)} expects from the fitted population alone: for each
customer, the expected repeat transactions since their first purchase, summed. Left of the dashed
line the model was fitted; the shaded part is the holdout it never saw.</p>
{tracking_chart(summary)}
{_tracking_tables(summary)}
</section>
<section>
<h2>Conditional expectations</h2>
<p class="note">Customers grouped by their repeat transactions in the calibration period. For each
group, the mean repeat transactions they actually made in the holdout, against {escape(name)}'s
expectation given each customer's own history (frequency, recency and age).</p>
{frequency_chart(summary)}
{_frequency_table(summary)}
</section>
{comparison_section(summary.comparison)}
<footer>
<p>A repeat transaction is a purchase day after a customer's first; several purchases on one day
count once. {unit.capitalize()}s are {days} days, counted back and forward from the calibration
end.</p>
<p>The two comparisons follow Fader, Hardie &amp; Lee (2005), “Counting your customers” the easy
way: an alternative to the Pareto/NBD model, <i>Marketing Science</i> 24(2), 275–284.
Generated by goodwill.</p>
</footer>
</main>
</body>
</html>
"""


__all__ = [
    "REPORT_MODELS",
    "FrequencyRow",
    "ReportSummary",
    "TrackingPoint",
    "by_frequency",
    "period_ends",
    "render_html",
    "report_data",
    "tracking",
    "unconditional_expected",
    "write_report",
]
