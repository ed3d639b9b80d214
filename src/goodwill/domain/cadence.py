"""Cadence watch: each client's purchase rhythm, and who is overdue beyond their own variability.

The model (docs/cadence.md has the derivation). A client's purchases on distinct days d_1 < ... <
d_n give k = n - 1 intervals; their logarithms y_j = ln(d_{j+1} - d_j) are Normal(mu, sigma^2)
with mu and sigma^2 the client's own. Across clients (per category when categories are given)
(mu, sigma^2) follow a normal-inverse-gamma prior NIG(m0, kappa0, a0, b0), fitted by the method of
moments on the units (clients, or client-category pairs) with at least two intervals. Each
unit's posterior is the conjugate update::

    kappa = kappa0 + k            m = (kappa0 m0 + k ybar) / kappa
    a = a0 + k / 2                b = b0 + S / 2 + kappa0 k (ybar - m0)^2 / (2 kappa)

with ybar the mean and S the sum of squared deviations of the unit's log-intervals. The usual
interval is exp(m), the median interval; the threshold at level q is the q-quantile of the
posterior predictive next interval, exp(m + t_q(2a) sqrt(b (kappa + 1) / (a kappa))), a Student-t
on the log scale. Few intervals give a wide threshold (the prior dominates, the t has few degrees
of freedom); years of steady buying give a tight one.

Units with fewer than ``min_purchases`` purchase days have no rhythm and are never overdue.
Purchases on one day count once (their amounts summed). Everything is vectorised: one sort of a
packed (unit, day) key, then bincount reductions; there is no Python loop over clients.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import cast

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import stdtrit  # type: ignore[import-untyped]

from goodwill.errors import InvalidInput

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
DayArray = NDArray[np.datetime64]

# A population prior is estimated from at least this many units with two or more intervals;
# below it the weak prior (one pseudo-interval, the business-wide spread) is used instead.
MIN_PRIOR_UNITS = 30
# The spread of log-intervals never goes below this (whole-day dates cannot resolve less:
# a monthly buyer's 28-31 day months already give 0.04).
MIN_LOG_SD = 0.05
# When no unit has two intervals, the spread is assumed to be this (intervals vary by ~1.6x).
DEFAULT_LOG_SD = 0.5
# Caps on the prior's weight: kappa0 pseudo-intervals for mu, 2 a0 for sigma^2.
MAX_KAPPA0 = 1000.0
MAX_SHAPE0 = 1000.0
# Dates farther apart than 2**MAX_DAY_BITS days (about 1.4 million years) are refused.
MAX_DAY_BITS = 29


@dataclass(frozen=True)
class CadenceSettings:
    """How sure we must be before calling a client overdue, and who counts as regular.

    ``level``: the posterior predictive probability that the next interval is shorter than the
    threshold (0 < level < 1; 0.9 flags about one cycle in ten of a client keeping their rhythm).
    ``min_purchases``: distinct purchase days a client needs to have a rhythm (at least 2).
    """

    level: float = 0.9
    min_purchases: int = 3

    def __post_init__(self) -> None:
        if not 0.0 < self.level < 1.0:
            raise InvalidInput("the cadence level must be between 0 and 1", field="level")
        if self.min_purchases < 2:
            raise InvalidInput(
                "a rhythm needs at least 2 purchases (one interval)", field="min_purchases"
            )


@dataclass(frozen=True)
class Prior:
    """The normal-inverse-gamma population prior of one category (``group`` None: everyone).

    ``estimated`` is False when too few units had two intervals and the weak prior was used.
    """

    group: object
    mean: float
    kappa: float
    shape: float
    scale: float
    units: int
    estimated: bool

    @property
    def typical_interval(self) -> float:
        """exp(m0): the median interval of a typical unit, in days."""
        return float(np.exp(self.mean))


@dataclass(frozen=True)
class Rhythms:
    """One row per unit (client, or client and category) with a rhythm, in unit order.

    Intervals are in days. ``expected`` is ``last`` plus the usual interval rounded to a day;
    ``due_by`` is ``last`` plus the whole days of the threshold: the last day on which the unit is
    not yet overdue. ``mean_value`` is the mean amount per purchase day (NaN without amounts).
    """

    client: NDArray[np.generic]
    group: NDArray[np.generic] | None
    purchases: IntArray
    last: DayArray
    usual_interval: FloatArray
    threshold: FloatArray
    expected: DayArray
    due_by: DayArray
    mean_value: FloatArray
    priors: tuple[Prior, ...]

    def __len__(self) -> int:
        return int(self.client.size)


@dataclass(frozen=True)
class Overdue:
    """The overdue rows of some Rhythms on ``as_of``, most revenue at risk first.

    ``cycle`` = floor((as_of - last) / usual_interval), at least 1: the number of usual intervals
    that have gone by without a purchase; the engine keys one purchase.missed event on (client,
    group, last, cycle). ``revenue_at_risk`` = mean_value x cycle (NaN without amounts).
    """

    as_of: np.datetime64
    client: NDArray[np.generic]
    group: NDArray[np.generic] | None
    last: DayArray
    expected: DayArray
    due_by: DayArray
    days_overdue: IntArray
    usual_interval: FloatArray
    cycle: IntArray
    revenue_at_risk: FloatArray

    def __len__(self) -> int:
        return int(self.client.size)


def learn(
    clients: ArrayLike,
    days: ArrayLike,
    amounts: ArrayLike | None = None,
    *,
    settings: CadenceSettings = CadenceSettings(),
    groups: ArrayLike | None = None,
    priors: tuple[Prior, ...] | None = None,
) -> Rhythms:
    """Each client's (or client and category's) rhythm from purchases (client, day[, amount]).

    ``days`` are ``datetime64[D]`` (or anything numpy reads as such: ISO strings, dates) or
    integer days since 1970-01-01. ``groups``, one category code per purchase, gives a rhythm per
    (client, category) pair, each shrunk toward its own category's prior. Rows come out sorted by
    client (then category); the input order does not matter.

    ``priors`` (from an earlier ``learn`` over everyone, without categories) shrinks toward a
    population learned before: one client's rhythm then needs only that client's purchases, and
    equals what ``learn`` over everyone gives for them.
    """
    if priors is not None and (groups is not None or len(priors) != 1):
        raise ValueError("given priors apply to rhythms without categories: exactly one prior")
    ids, day, money, cats = _columns(clients, days, amounts, groups)
    if ids.size == 0:
        return _no_rhythms(ids, cats)

    client_code, client_labels = _codes(ids, dense=False)
    if cats is None:
        unit = client_code
        n_groups = 1
        group_labels: NDArray[np.generic] | None = None
    else:
        group_code, group_labels = _codes(cats, dense=True)
        n_groups = int(group_labels.size)
        unit = client_code * n_groups + group_code
    n_units = int(unit.max()) + 1

    # One sort of a packed (unit, day) key orders the units and, within each, their days.
    base = int(day.min())
    offset = day - base
    day_bits = max(int(offset.max()).bit_length(), 1)
    if day_bits > MAX_DAY_BITS:
        raise InvalidInput("the purchase dates span too many years", field="days")
    unit_code: IntArray | None = None
    if n_units.bit_length() + day_bits > 63:
        # Many sparse (client, category) codes: number the units densely so the key fits.
        unit_code, inverse = np.unique(unit, return_inverse=True)
        unit = inverse.astype(np.int64).reshape(-1)
        n_units = int(unit_code.size)
    key = np.sort((unit << day_bits) | offset)

    key = key[_starts_run(key)]  # one row per purchase day
    unit_of_day = key >> day_bits
    when = (key & ((1 << day_bits) - 1)) + base
    new_unit = _starts_run(unit_of_day)
    starts = np.flatnonzero(new_unit)
    units = unit_of_day[starts]
    n_days = np.diff(starts, append=when.size).astype(np.int64)
    last = when[np.append(starts[1:], when.size) - 1]

    # Log-intervals between consecutive days; a gap of 1 (log 0) across units adds nothing.
    gap = np.diff(when)
    gap[new_unit[1:]] = 1
    log_gap = np.log(gap.astype(np.float64))
    owner = unit_of_day[1:]
    k = n_days - 1
    k_float = k.astype(np.float64)
    total = _sums(owner, log_gap, n_units)[units]
    sum_squares = _sums(owner, log_gap * log_gap, n_units)[units]
    ybar = np.divide(total, k_float, out=np.zeros(units.size), where=k > 0)
    # One pass (sum of squares minus k ybar^2): the error is far below the MIN_LOG_SD floor.
    squares = np.maximum(sum_squares - total * ybar, 0.0)

    code = units if unit_code is None else unit_code[units]  # client * n_groups + category
    group_of_unit = code % n_groups
    if priors is None:
        priors = _fit_priors(group_of_unit, n_groups, group_labels, k_float, ybar, squares)
    m0 = np.array([p.mean for p in priors])[group_of_unit]
    kappa0 = np.array([p.kappa for p in priors])[group_of_unit]
    a0 = np.array([p.shape for p in priors])[group_of_unit]
    b0 = np.array([p.scale for p in priors])[group_of_unit]

    regular = n_days >= settings.min_purchases
    k_r, ybar_r, squares_r = k_float[regular], ybar[regular], squares[regular]
    m0, kappa0, a0, b0 = m0[regular], kappa0[regular], a0[regular], b0[regular]
    kappa = kappa0 + k_r
    m = (kappa0 * m0 + k_r * ybar_r) / kappa
    a = a0 + k_r / 2.0
    b = b0 + squares_r / 2.0 + kappa0 * k_r * (ybar_r - m0) ** 2 / (2.0 * kappa)
    spread = np.sqrt(b * (kappa + 1.0) / (a * kappa))
    usual = np.exp(m)
    threshold = np.exp(m + _t_quantile(2.0 * a, settings.level) * spread)

    if money is None:
        mean_value = np.full(int(regular.sum()), np.nan)
    else:
        mean_value = (_sums(unit, money, n_units)[units] / n_days)[regular]

    code = code[regular]
    last_day = last[regular].astype("datetime64[D]")
    return Rhythms(
        client=client_labels[code // n_groups],
        group=None if group_labels is None else group_labels[code % n_groups],
        purchases=n_days[regular],
        last=last_day,
        usual_interval=usual,
        threshold=threshold,
        expected=last_day + np.rint(usual).astype(np.int64),
        due_by=last_day + np.floor(threshold).astype(np.int64),
        mean_value=mean_value,
        priors=priors,
    )


def overdue(rhythms: Rhythms, *, as_of: np.datetime64 | date | str) -> Overdue:
    """The units overdue on ``as_of`` (as_of > due_by), most revenue at risk first.

    Ties (and every row when there are no amounts) are ordered by days overdue, longest first,
    then by client and category.
    """
    today = cast(np.datetime64, np.asarray(as_of, dtype="datetime64[D]")[()])
    late = np.flatnonzero(today > rhythms.due_by)
    elapsed = (today - rhythms.last[late]).astype(np.int64)
    usual = rhythms.usual_interval[late]
    # The nudge makes 60 days of a 30-day rhythm two cycles whatever the last bit of exp(m).
    cycle = np.maximum(np.floor(elapsed / usual + 1e-9).astype(np.int64), 1)
    at_risk = rhythms.mean_value[late] * cycle
    days_overdue = (today - rhythms.expected[late]).astype(np.int64)
    # lexsort: last key first. NaN revenue sorts last (-NaN stays NaN, which sorts to the end).
    order = np.lexsort((np.arange(late.size), -days_overdue, -at_risk))
    rows = late[order]
    return Overdue(
        as_of=today,
        client=rhythms.client[rows],
        group=None if rhythms.group is None else rhythms.group[rows],
        last=rhythms.last[rows],
        expected=rhythms.expected[rows],
        due_by=rhythms.due_by[rows],
        days_overdue=days_overdue[order],
        usual_interval=usual[order],
        cycle=cycle[order],
        revenue_at_risk=at_risk[order],
    )


def _columns(
    clients: ArrayLike, days: ArrayLike, amounts: ArrayLike | None, groups: ArrayLike | None
) -> tuple[NDArray[np.generic], IntArray, FloatArray | None, NDArray[np.generic] | None]:
    """The input checked: ids, integer days since the epoch, amounts and categories."""
    ids = np.asarray(clients)
    raw = np.asarray(days)
    if raw.dtype.kind in "iu":
        day = raw.astype(np.int64)
    elif raw.dtype.kind in "fc":
        raise InvalidInput("days must be dates or whole days since 1970-01-01", field="days")
    else:
        day = raw.astype("datetime64[D]").astype(np.int64)
        if np.any(day == np.iinfo(np.int64).min):
            raise InvalidInput("a purchase has no date", field="days")
    if ids.ndim != 1 or day.shape != ids.shape:
        raise InvalidInput("clients and days must be columns of the same length")
    money = None
    if amounts is not None:
        money = np.asarray(amounts, dtype=np.float64)
        if money.shape != ids.shape:
            raise InvalidInput("amounts must be a column as long as the clients", field="amounts")
        if not np.all(np.isfinite(money)):
            raise InvalidInput("an amount is missing or not a number", field="amounts")
    cats = None
    if groups is not None:
        cats = np.asarray(groups)
        if cats.shape != ids.shape:
            raise InvalidInput("groups must be a column as long as the clients", field="groups")
    return ids, day, money, cats


def _codes(labels: NDArray[np.generic], *, dense: bool) -> tuple[IntArray, NDArray[np.generic]]:
    """Non-negative codes in label order, and the label of each code (all used when ``dense``).

    Integer labels spanning a range not much wider than their count are offset, not sorted
    (np.unique sorts, which costs more than the rest of ``learn`` together).
    """
    if labels.dtype.kind in "iu" and labels.size:
        low, high = int(labels.min()), int(labels.max())
        if high - low <= max(4 * labels.size, 1 << 16) and high < 1 << 63:
            code = labels.astype(np.int64) - low
            values = np.arange(low, high + 1).astype(labels.dtype)
            if not dense:
                return code, values
            present = np.zeros(values.size, dtype=bool)
            present[code] = True
            remap = np.cumsum(present) - 1
            return remap[code], values[present]
    uniques, inverse = np.unique(labels, return_inverse=True)
    return inverse.astype(np.int64).reshape(-1), uniques


def _fit_priors(
    group_of_unit: IntArray,
    n_groups: int,
    group_labels: NDArray[np.generic] | None,
    k: FloatArray,
    ybar: FloatArray,
    squares: FloatArray,
) -> tuple[Prior, ...]:
    """Method-of-moments NIG priors, one per category (one in all without categories).

    Over the units with k >= 2 intervals (s2 = S / (k - 1) their sample variance):
    M = sum S / sum (k - 1) estimates E[sigma^2]; V = (mean (s2 - M)^2 - 2 M^2 h) / (1 + 2h),
    h = mean 1/(k - 1), estimates Var(sigma^2), giving a0 = 2 + M^2 / V and b0 = M (a0 - 1).
    m0 = mean ybar; tau^2 = var ybar - M mean(1/k) estimates Var(mu), and kappa0 = M / tau^2.
    """
    floor = MIN_LOG_SD**2
    two = k >= 2
    pooled_dof = float((k[two] - 1).sum())
    business_var = (
        max(float(squares[two].sum()) / pooled_dof, floor) if pooled_dof else DEFAULT_LOG_SD**2
    )
    priors = []
    for g in range(n_groups):  # categories, not clients: a handful at most
        label = None if group_labels is None else group_labels[g].item()
        mine = group_of_unit == g
        sample = mine & two
        count = int(sample.sum())
        if count < MIN_PRIOR_UNITS:
            some = mine & (k >= 1)
            mean = float(ybar[some].mean()) if some.any() else 0.0  # no unit it applies to
            priors.append(Prior(label, mean, 1.0, 2.0, business_var, count, estimated=False))
            continue
        kk, yy, ss = k[sample], ybar[sample], squares[sample]
        big_m = max(float(ss.sum() / (kk - 1).sum()), floor)
        s2 = ss / (kk - 1)
        h = float(np.mean(1.0 / (kk - 1)))
        v = (float(np.mean((s2 - big_m) ** 2)) - 2 * big_m**2 * h) / (1 + 2 * h)
        shape = MAX_SHAPE0 if v <= 0 else min(2.0 + big_m**2 / v, MAX_SHAPE0)
        tau2 = float(np.var(yy)) - big_m * float(np.mean(1.0 / kk))
        kappa = MAX_KAPPA0 if tau2 <= 0 else min(big_m / tau2, MAX_KAPPA0)
        priors.append(
            Prior(label, float(yy.mean()), kappa, shape, big_m * (shape - 1), count, estimated=True)
        )
    return tuple(priors)


def _starts_run(values: IntArray) -> NDArray[np.bool_]:
    """True where a sorted array's value differs from the one before (and at the start)."""
    new = np.empty(values.size, dtype=bool)
    new[:1] = True
    np.not_equal(values[1:], values[:-1], out=new[1:])
    return new


def _sums(index: IntArray, weights: FloatArray, size: int) -> FloatArray:
    """Sums of ``weights`` by ``index`` (0 <= index < size)."""
    return np.asarray(np.bincount(index, weights=weights, minlength=size), dtype=np.float64)


def _t_quantile(dof: FloatArray, level: float) -> FloatArray:
    """Student-t quantiles, computed once per distinct number of degrees of freedom."""
    distinct, inverse = np.unique(dof, return_inverse=True)
    values: FloatArray = stdtrit(distinct, level)
    return values[inverse.reshape(-1)]


def _no_rhythms(ids: NDArray[np.generic], cats: NDArray[np.generic] | None) -> Rhythms:
    never = np.zeros(0, dtype="datetime64[D]")
    nothing = np.zeros(0)
    return Rhythms(
        client=ids[:0],
        group=None if cats is None else cats[:0],
        purchases=np.zeros(0, dtype=np.int64),
        last=never,
        usual_interval=nothing,
        threshold=nothing,
        expected=never,
        due_by=never,
        mean_value=nothing,
        priors=(),
    )


__all__ = [
    "CadenceSettings",
    "Overdue",
    "Prior",
    "Rhythms",
    "learn",
    "overdue",
]
