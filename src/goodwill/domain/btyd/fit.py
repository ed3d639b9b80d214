"""Maximum-likelihood fitting shared by the population models: checks, compression, optimiser.

Every model hands this module a function returning the summed negative log-likelihood and its
analytic gradient with respect to the *logarithms* of its parameters. The optimiser is L-BFGS-B on
log-parameters (so every parameter stays positive) with wide bounds; a parameter that runs to a
bound means the data cannot identify the model, and that is reported as ``InvalidInput`` rather
than returned as a fit.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from goodwill.errors import InvalidInput

FloatArray = NDArray[np.float64]
Objective = Callable[[FloatArray], tuple[float, FloatArray]]

MIN_CUSTOMERS = 10
# Parameters live in [e^-LOG_BOUND, e^LOG_BOUND]; an optimum on that edge is not an estimate.
LOG_BOUND = 18.0


@dataclass(frozen=True)
class FitResult:
    """A fitted model: parameters named as in the papers, and how the fit went."""

    model: str
    params: dict[str, float]
    log_likelihood: float
    n_customers: int
    converged: bool
    iterations: int

    def as_dict(self) -> dict[str, object]:
        """The JSON shape the CLI prints."""
        return {
            "model": self.model,
            "params": dict(self.params),
            "log_likelihood": self.log_likelihood,
            "n_customers": self.n_customers,
            "converged": self.converged,
        }


@dataclass(frozen=True)
class Counts:
    """Per-customer purchase counts, checked: x repeat purchases, recency t_x and age T."""

    x: FloatArray
    t_x: FloatArray
    T: FloatArray
    weight: FloatArray

    @property
    def n_customers(self) -> int:
        return round(float(self.weight.sum()))


def dot(u: NDArray[Any], v: NDArray[Any]) -> float:
    """The sum of u * v over a column, without BLAS.

    BLAS's dot splits a long column over threads; on a busy machine those threads wait for a
    core and a fit's hundred dot products cost ten times the arithmetic (measured: 460 us
    against 4 us for 20,000 rows at a load of 13 on 2 cores). The work is memory-bound, so a
    single-threaded einsum loses nothing on an idle machine and the fit no longer depends on
    the machine's other work or on the BLAS thread settings of the process.
    """
    return float(np.einsum("i,i->", u, v))


def by_count(x: FloatArray, weight: FloatArray) -> tuple[FloatArray, NDArray[np.int64], FloatArray]:
    """The distinct purchase counts, each row's place among them, and the weight of each.

    Counts are whole numbers, so a bincount groups them in one pass where np.unique would
    sort every row (a third of a second at a million rows).
    """
    present, inverse = count_places(x)
    weight_by_x = np.bincount(inverse, weights=weight, minlength=present.size).astype(np.float64)
    return present.astype(np.float64), inverse, weight_by_x


def count_places(x: FloatArray) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """The distinct whole counts in ``x`` and each row's place among them.

    A bincount over the counts' range, unless the range is far wider than the rows (a few huge
    counts): then a sort, so that one absurd count cannot ask for terabytes.
    """
    whole = x.astype(np.int64)
    if whole.size and int(whole.max()) > 4 * whole.size + (1 << 16):
        present, inverse = np.unique(whole, return_inverse=True)
        return present, inverse.astype(np.int64)
    present = np.flatnonzero(np.bincount(whole))
    lookup = np.zeros(int(present[-1]) + 1 if present.size else 1, dtype=np.int64)
    lookup[present] = np.arange(present.size)
    return present.astype(np.int64), lookup[whole]


def as_array(values: ArrayLike, name: str) -> FloatArray:
    """A 1-d float array of finite values, or ``InvalidInput`` naming the column."""
    array = np.atleast_1d(np.asarray(values, dtype=np.float64))
    if array.ndim != 1:
        raise InvalidInput(f"{name} must be a one-dimensional column of numbers", field=name)
    if not np.all(np.isfinite(array)):
        raise InvalidInput(f"{name} has a missing or non-finite value", field=name)
    return array


def check_counts(
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    *,
    weights: ArrayLike | None = None,
) -> Counts:
    """Validate the (x, t_x, T) summary columns; shapes must agree and 0 <= t_x <= T."""
    x = as_array(frequency, "frequency")
    t_x = as_array(recency, "recency")
    age = as_array(T, "T")
    if not (x.shape == t_x.shape == age.shape):
        raise InvalidInput("frequency, recency and T must have the same length")
    weight = np.ones_like(x) if weights is None else as_array(weights, "weights")
    if weight.shape != x.shape or np.any(weight < 0):
        raise InvalidInput("weights must be non-negative counts, one per customer")
    if np.any(x < 0) or np.any(x != np.floor(x)):
        raise InvalidInput("frequency must be a whole number of repeat purchases, 0 or more")
    if np.any(t_x < 0):
        raise InvalidInput("recency must be 0 or more")
    if np.any(age <= 0):
        raise InvalidInput("T must be more than 0 (time from first purchase to the end)")
    if np.any(t_x > age * (1 + 1e-12)):
        raise InvalidInput("recency must not be larger than T")
    if np.any((x == 0) & (t_x != 0)):
        raise InvalidInput("recency must be 0 for customers with no repeat purchase")
    return Counts(x=x, t_x=np.minimum(t_x, age), T=age, weight=weight)


def check_horizons(horizons: Sequence[float]) -> None:
    """Prediction horizons are periods from the end of calibration: finite, 0 or more."""
    for t in horizons:
        if not (np.isfinite(t) and t >= 0):
            raise ValueError("t must be a non-negative number of periods")


def check_identifiable(counts: Counts, model: str) -> None:
    """Refuse data from which no count model can be estimated."""
    n = counts.n_customers
    if n < MIN_CUSTOMERS:
        raise InvalidInput(
            f"{model} needs at least {MIN_CUSTOMERS} customers to be estimated; got {n}"
        )
    if not np.any((counts.x > 0) & (counts.weight > 0)):
        raise InvalidInput(
            f"{model} cannot be estimated: no customer made a repeat purchase "
            "(every frequency is 0), so purchase rates and dropout cannot be told apart"
        )


def compress(
    columns: Sequence[FloatArray], weight: FloatArray
) -> tuple[list[FloatArray], FloatArray]:
    """Collapse identical rows into one row with the summed weight.

    Summaries computed from dates repeat the same (x, t_x, T) often (every one-time buyer of a
    cohort shares one row), and the likelihood is a weighted sum over rows, so fitting on unique
    rows is exact and usually much faster. Rows are grouped by one sort of a 64-bit hash of their
    values (several times faster than a lexicographic sort of the columns); equal hashes are then
    checked to hold equal rows, and a collision falls back to the lexicographic sort.
    """
    if columns[0].size == 0:
        return list(columns), weight
    grid = _grid_merge(columns, weight)
    if grid is not None:
        return grid
    hashed = np.zeros(columns[0].size, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for multiplier, c in zip(_HASH_MULTIPLIERS, columns, strict=False):
            # + 0.0 turns -0.0 into 0.0 so that equal values have equal bits.
            bits = (np.ascontiguousarray(c, dtype=np.float64) + 0.0).view(np.uint64)
            hashed = (hashed ^ bits) * np.uint64(multiplier)
            hashed ^= hashed >> np.uint64(29)
    if len(columns) <= len(_HASH_MULTIPLIERS):
        order = np.argsort(hashed)
        sorted_hash = hashed[order]
        change = np.empty(order.size, dtype=bool)
        change[0] = True
        np.not_equal(sorted_hash[1:], sorted_hash[:-1], out=change[1:])
        sorted_cols = [c[order] for c in columns]
        same = np.ones(order.size, dtype=bool)
        for c in sorted_cols:
            same[1:] &= (c[1:] == c[:-1]) | change[1:]
        if bool(np.all(same)):
            return _merged(sorted_cols, weight[order], change)
    order = np.lexsort(tuple(reversed(columns)))
    sorted_cols = [c[order] for c in columns]
    change = np.zeros(order.size, dtype=bool)
    change[0] = True
    for c in sorted_cols:
        change[1:] |= c[1:] != c[:-1]
    return _merged(sorted_cols, weight[order], change)


_PROBE = 10_000


def _ranks(c: FloatArray, limit: int) -> tuple[NDArray[np.int64], int] | None:
    """Each row's place on its column's grid of values, and how many places there are.

    Whole counts and times rounded to days sit on an even grid: its step is read off the
    distinct values of a sample, and each row's step number is one division, with no sort or
    binary search over the rows. Columns off any grid with few distinct values are ranked by
    a binary search among them; None when a column has too many distinct values to pay.
    """
    n = c.size
    probe = c[:: max(n // _PROBE, 1)]
    sample = np.unique(probe)
    if sample.size > probe.size // 8 + 16:
        return None
    low, high = float(c.min()), float(c.max())
    if sample.size > 1:
        step = float(np.min(np.diff(sample)))
        span = (high - low) / step
        if span <= limit:
            scaled = (c - low) / step
            rank = np.rint(scaled)
            if float(np.max(np.abs(scaled - rank))) < 0.01:
                return rank.astype(np.int64), round(span) + 1
    values = np.unique(c)
    if values.size > n // 8 + 16:
        return None
    return np.searchsorted(values, c), int(values.size)


def _grid_merge(
    columns: Sequence[FloatArray], weight: FloatArray
) -> tuple[list[FloatArray], FloatArray] | None:
    """Identical rows merged without sorting the rows, when each column has few distinct values.

    Times rounded to days and whole purchase counts take a few hundred values each. Each row
    gets its value's place in each column (``_ranks``), and the places are combined column by
    column into a row key, compacted after each column so that keys stay below a few times the
    row count; a bincount then sums the weights of each key. Every row is finally checked to
    equal the row standing for its key, so the merge is exact whatever the grid looked like.
    None when the data are not of that kind (the caller then sorts).
    """
    n = columns[0].size
    limit = max(4 * n, 1 << 16)
    key = np.zeros(n, dtype=np.int64)
    size = 1
    for c in columns:
        ranked = _ranks(c, limit)
        if ranked is None:
            return None
        rank, count = ranked
        if size * count > limit:
            present = np.flatnonzero(np.bincount(key, minlength=size))
            if present.size * count > limit:
                return None
            lookup = np.zeros(size, dtype=np.int64)
            lookup[present] = np.arange(present.size)
            key = lookup[key]
            size = present.size
        key = key * count + rank
        size *= count
    summed = np.bincount(key, weights=weight, minlength=size)
    keep = np.flatnonzero(summed > 0)
    representative = np.zeros(size, dtype=np.int64)
    representative[key] = np.arange(n)
    standing = representative[key]
    for c in columns:
        if not np.array_equal(c, c[standing]):
            return None
    rows = representative[keep]
    return [np.asarray(c[rows], dtype=np.float64) for c in columns], np.asarray(
        summed[keep], dtype=np.float64
    )


_HASH_MULTIPLIERS = (0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB, 0xD6E8FEB86659FD93)


def _merged(
    sorted_cols: list[FloatArray], sorted_weight: FloatArray, change: NDArray[np.bool_]
) -> tuple[list[FloatArray], FloatArray]:
    starts = np.flatnonzero(change)
    summed = np.add.reduceat(sorted_weight, starts)
    keep = summed > 0
    return [c[starts][keep] for c in sorted_cols], summed[keep]


def mostly_distinct(columns: Sequence[FloatArray]) -> bool:
    """Whether 10,000 evenly spaced rows of large data show almost no repeats.

    Then (times measured continuously, spend to the cent) merging identical rows would cost a
    sort of every row and save nothing.
    """
    n = columns[0].size
    if n < _PROBE * 20:
        return False
    step = n // _PROBE
    probe = np.stack([c[::step] for c in columns], axis=1)
    return bool(np.unique(probe, axis=0).shape[0] > 0.98 * probe.shape[0])


def compressed(counts: Counts) -> Counts:
    """The same counts with identical rows merged (an exactly equivalent likelihood).

    Rows that are ``mostly_distinct`` are used as they are.
    """
    if mostly_distinct([counts.x, counts.t_x, counts.T]):
        return counts
    (x, t_x, age), weight = compress([counts.x, counts.t_x, counts.T], counts.weight)
    return Counts(x=x, t_x=t_x, T=age, weight=weight)


def maximise_counts(
    model: str,
    names: Sequence[str],
    build: Callable[[Counts], Objective],
    counts: Counts,
    start: Sequence[float],
) -> FitResult:
    """Maximum likelihood for a count model, warm-started from a subsample on large data.

    With 20,000 distinct rows or more, the model is first fitted (by Newton steps) to a
    Poisson-thinned subsample of up to ``SUBSAMPLE`` customers and a quarter as many as the rows
    (a fixed seed, so fits are reproducible); its optimum and a
    finite-difference Hessian of its objective start a quasi-Newton polish on the full data.
    The per-customer Hessian of a subsample is close to the full data's, so a few full
    evaluations reach the full-data optimum (to the same gradient tolerance as L-BFGS-B) instead
    of the twenty or so a cold L-BFGS-B run needs. Any trouble on the way (a subsample the
    model cannot be fitted to, a polish that stalls) falls back to L-BFGS-B on the full data.
    """
    counts = compressed(counts)
    n = counts.n_customers
    full = build(counts)
    sample = _subsample(counts)
    if sample is not None:
        objective, scale = build(sample), 1.0 / sample.weight.sum()
        first = _newton(objective, np.log(np.asarray(start, dtype=np.float64)), scale)
        if first is None:
            try:
                fitted = maximise(model, names, objective, start, n_customers=sample.n_customers)
                theta0 = np.log(np.array([fitted.params[k] for k in names]))
                first = theta0, fitted.iterations
            except InvalidInput:
                first = None
        if first is not None:
            theta0, steps = first
            hessian = _hessian(objective, theta0, scale)
            polished = _polish(full, theta0, hessian, 1.0 / max(n, 1))
            if polished is not None:
                theta, value, iterations = polished
                return _result(model, names, theta, value, n, steps + iterations)
            start = list(np.exp(theta0))
    return maximise(model, names, full, start, n_customers=n)


# Subsample size for the warm start, and how many more distinct rows the data must have to be
# worth it (the subsample's fit must cost a small fraction of a full-data evaluation series).
SUBSAMPLE = 20_000
_SUBSAMPLE_GAIN = 4.0


def _subsample(counts: Counts) -> Counts | None:
    """About ``SUBSAMPLE`` customers, or fewer (down to a quarter of it) for fewer rows.

    A smaller subsample starts the polish a little further from the optimum (a pass more,
    perhaps) but its own fit costs a fraction of the twenty-odd passes of a cold one.
    """
    total = float(counts.weight.sum())
    size = min(SUBSAMPLE, counts.x.size / _SUBSAMPLE_GAIN)
    if size < SUBSAMPLE / 4 or total < 4 * size:
        return None
    rng = np.random.default_rng(20050101)
    thinned = rng.poisson(counts.weight * (size / total)).astype(np.float64)
    keep = thinned > 0
    if np.count_nonzero(keep) * _SUBSAMPLE_GAIN > counts.x.size:
        return None
    sample = Counts(x=counts.x[keep], t_x=counts.t_x[keep], T=counts.T[keep], weight=thinned[keep])
    if sample.n_customers < MIN_CUSTOMERS or not np.any(sample.x > 0):
        return None
    return sample


def _newton(objective: Objective, theta: FloatArray, scale: float) -> tuple[FloatArray, int] | None:
    """The subsample's optimum by Newton steps on a finite-difference Hessian; None if stuck.

    Once that Hessian is positive definite the rest is ``_polish``: BFGS updates from there
    cost no pass, where new differences cost four (a pass over a 20,000-client subsample is a
    fifth of a Pareto/NBD pass over 100,000 clients).

    With four parameters the Hessian is four more gradient passes over the subsample, cheap at
    its size, and Newton needs no optimiser from scipy: importing scipy.optimize (and the
    scipy.linalg it loads) adds a tenth of a second or more to every ``clv fit``. Where the
    Hessian is not positive definite (far from the optimum) its eigenvalues are lifted, a
    damped step; any trouble returns None and the caller uses L-BFGS-B instead.
    """
    value, grad = objective(theta)
    if not np.isfinite(value):
        return None
    f, g = value * scale, grad * scale
    for iteration in range(_NEWTON_STEPS):
        h = _gradient_differences(objective, theta, g, scale)
        if h is None:
            return None
        low = float(np.linalg.eigvalsh(h)[0])
        if low > 1e-8:
            # Positive definite: from here BFGS updates serve as well as new differences,
            # at no extra pass (a pass over the subsample is a fifth of one over 100,000 rows).
            polished = _polish(objective, theta, h, scale, first=(value, grad))
            if polished is None or np.any(np.abs(polished[0]) > LOG_BOUND):
                return None
            return polished[0], iteration + polished[2]
        h = h + (abs(low) + 1e-3) * np.eye(theta.size)
        step = -np.linalg.solve(h, g)
        moved = _descend(objective, theta, step, f, g, scale, shortest=1e-6)
        if moved is None:
            return None
        theta, value, grad, _ = moved
        f, g = value * scale, grad * scale
    return None


def _descend(
    objective: Objective,
    theta: FloatArray,
    step: NDArray[np.floating[Any]],
    f: float,
    g: FloatArray,
    scale: float,
    *,
    shortest: float,
) -> tuple[FloatArray, float, FloatArray, int] | None:
    """A step of at most 1 in every log-parameter, halved until the objective falls enough.

    Returns the new point, the unscaled objective and gradient there and the number of
    evaluations; None if the step does not descend or must be cut below ``shortest``.
    """
    length = float(np.max(np.abs(step)))
    if length > 1.0:
        step = step / length
    slope = float(g @ step)
    if slope >= 0:
        return None
    # Rounding in a sum over a million rows is about 1e-13 of it: no better than that.
    noise = 1e-13 * abs(f)
    t, evaluations = 1.0, 0
    while t >= shortest:
        trial = theta + t * step
        value, grad = objective(trial)
        evaluations += 1
        if np.isfinite(value) and value * scale <= f + 1e-4 * t * slope + noise:
            return trial, value, grad, evaluations
        t /= 2.0
    return None


_NEWTON_STEPS = 60


def _gradient_differences(
    objective: Objective, theta: FloatArray, g0: FloatArray, scale: float
) -> FloatArray | None:
    """The scaled objective's Hessian by forward differences of its analytic gradient."""
    step = 1e-5
    columns = []
    for e in np.eye(theta.size):
        _, g = objective(theta + step * e)
        columns.append((g * scale - g0) / step)
    h = np.array(columns)
    h = (h + h.T) / 2.0
    return h if np.all(np.isfinite(h)) else None


def _hessian(objective: Objective, theta: FloatArray, scale: float) -> FloatArray | None:
    """Finite-difference Hessian of the scaled objective from its analytic gradient."""
    _, g0 = objective(theta)
    h = _gradient_differences(objective, theta, g0 * scale, scale)
    if h is None or np.linalg.eigvalsh(h)[0] <= 0:
        return None
    return h


def _polish(
    objective: Objective,
    theta: FloatArray,
    hessian: FloatArray | None,
    scale: float,
    *,
    first: tuple[float, FloatArray] | None = None,
) -> tuple[FloatArray, float, int] | None:
    """Newton steps with a BFGS-updated Hessian from a good start; None if they go wrong.

    Stops when the Newton step itself (the predicted distance to the optimum) is below
    ``_STEP_TOLERANCE`` in every log-parameter, i.e. every parameter is within that relative
    distance of the maximum. A gradient threshold cannot be used here: on a million rows the
    summed gradient is rounding noise well above any fixed tolerance, and a line search chasing
    that noise stalls. Returns the optimum, the unscaled objective there and the number of
    full-data evaluations.
    """
    if hessian is None:
        return None
    h = hessian
    value, grad = objective(theta) if first is None else first
    if not np.isfinite(value):
        return None
    evaluations = 1 if first is None else 0
    f, g = value * scale, grad * scale
    previous = math.inf
    for _ in range(_POLISH_STEPS):
        step = -np.linalg.solve(h, g)
        length = float(np.max(np.abs(step)))
        if length < _STEP_TOLERANCE:
            return theta, value, evaluations
        if length < 1e-4 and length * (length / previous) < _STEP_TOLERANCE:
            # The steps shrink by length / previous each time, so the one after this would be
            # below the tolerance: take this one without another pass over the data, and the
            # objective there from the quadratic model (its error is of the order of the
            # next step squared, far below the sum's rounding).
            return theta + step, value - 0.5 * float(step @ h @ step) / scale, evaluations
        moved = _descend(objective, theta, step, f, g, scale, shortest=1e-3)
        if moved is None:
            return None
        trial, value_t, grad_t, used = moved
        evaluations += used
        previous = length if used == 1 else math.inf
        f_t = value_t * scale
        s, y = trial - theta, grad_t * scale - g
        sy = float(s @ y)
        if sy > 1e-300:
            hs = h @ s
            h = h - np.outer(hs, hs) / float(s @ hs) + np.outer(y, y) / sy
        theta, value, f, g = trial, value_t, f_t, grad_t * scale
    return None


_POLISH_STEPS = 20
# Newton steps below this (in log-parameters) mean every parameter is within 1e-7 relative.
_STEP_TOLERANCE = 1e-7


def maximise(
    model: str,
    names: Sequence[str],
    objective: Objective,
    start: Sequence[float],
    *,
    n_customers: int,
    max_iterations: int = 2000,
) -> FitResult:
    """Minimise ``objective`` (summed negative log-likelihood over log-parameters).

    The objective is scaled by the number of customers so that the optimiser's tolerances mean
    the same for 2,000 and for 2,000,000 customers. Raises ``InvalidInput`` when the optimiser
    fails, the likelihood is not finite, or a parameter runs to the edge of its range.
    """
    scale = 1.0 / max(n_customers, 1)

    def scaled(theta: FloatArray) -> tuple[float, FloatArray]:
        value, grad = objective(theta)
        if not np.isfinite(value):
            # Let the line search back off instead of stopping the fit.
            return 1e300, np.zeros_like(theta)
        return value * scale, grad * scale

    theta0 = np.log(np.asarray(start, dtype=np.float64))
    first, _ = objective(theta0)
    if not np.isfinite(first):
        raise InvalidInput(f"{model}: the likelihood is not finite at the starting values")
    # Imported here: a large fit usually finds its way by Newton steps and never needs it.
    from scipy.optimize import minimize  # type: ignore[import-untyped]

    result = minimize(
        scaled,
        theta0,
        jac=True,
        method="L-BFGS-B",
        bounds=[(-LOG_BOUND, LOG_BOUND)] * len(names),
        options={"maxiter": max_iterations, "ftol": 1e-14, "gtol": 1e-9, "maxcor": 20},
    )
    theta = np.asarray(result.x, dtype=np.float64)
    value, grad = objective(theta)
    gradient_small = bool(np.max(np.abs(grad * scale)) < 1e-4)
    if not np.isfinite(value) or not (result.success or gradient_small):
        raise InvalidInput(
            f"{model} did not converge after {result.nit} iterations: {result.message}",
            iterations=int(result.nit),
        )
    return _result(model, names, theta, value, n_customers, int(result.nit))


def _result(
    model: str,
    names: Sequence[str],
    theta: FloatArray,
    value: float,
    n_customers: int,
    iterations: int,
) -> FitResult:
    """The fit at ``theta``, or ``InvalidInput`` when a parameter ran to the edge of its range."""
    at_edge = [n for n, t in zip(names, theta, strict=True) if abs(t) > LOG_BOUND - 0.5]
    if at_edge:
        raise InvalidInput(
            f"{model} cannot be identified from these data: "
            f"{', '.join(at_edge)} ran to the edge of its range (0 or infinity)",
            parameters=at_edge,
        )
    params = {n: float(v) for n, v in zip(names, np.exp(theta), strict=True)}
    return FitResult(
        model=model,
        params=params,
        log_likelihood=float(-value),
        n_customers=n_customers,
        converged=True,
        iterations=iterations,
    )


def param_values(
    params: Mapping[str, float] | FitResult, names: Sequence[str], model: str
) -> list[float]:
    """The named parameters as floats, each positive, or ``InvalidInput``."""
    values = params.params if isinstance(params, FitResult) else params
    missing = [n for n in names if n not in values]
    if missing:
        raise InvalidInput(f"{model} needs parameters {', '.join(missing)}")
    out = [float(values[n]) for n in names]
    if not all(np.isfinite(v) and v > 0 for v in out):
        raise InvalidInput(f"{model} parameters must be positive numbers: {values}")
    return out
