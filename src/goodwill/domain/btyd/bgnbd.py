"""BG/NBD: beta-geometric dropout after each repeat purchase, gamma-Poisson purchasing.

Fader, Hardie & Lee (2005), "Counting your customers the easy way". While alive a customer buys at
rate lambda ~ Gamma(r, alpha); after each repeat purchase they drop out with probability
p ~ Beta(a, b). Inputs are the standard summary: x repeat purchases, recency t_x and age T in
periods from the first purchase.

Log-likelihood per customer (FHL 2005, eq. 6), evaluated in log space::

    ln L = ln G(r+x) - ln G(r) + r ln alpha
           + logaddexp( ln B(a, b+x) - ln B(a, b) - (r+x) ln(alpha+T),
                        [x>0] ln B(a+1, b+x-1) - ln B(a, b) - (r+x) ln(alpha+t_x) )

The MBG/NBD model (``mbgnbd``) differs only by allowing dropout at the first purchase too, so both
share the implementation here with a ``shift`` of 0 (BG/NBD) or 1 (MBG/NBD).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import (  # type: ignore[import-untyped]
    betaln,
    digamma,
    expit,
    gammaln,
    hyp2f1,
    roots_jacobi,
)

from goodwill.domain.btyd.by_age import MIN_ROWS, AgeGroups, by_count_and_age
from goodwill.domain.btyd.fit import (
    Counts,
    FitResult,
    FloatArray,
    Objective,
    by_count,
    check_counts,
    check_horizons,
    check_identifiable,
    dot,
    maximise_counts,
    param_values,
)

MODEL = "bg-nbd"
NAMES = ("r", "alpha", "a", "b")


def family_objective(counts: Counts, shift: int) -> tuple[Objective, int]:
    """The summed negative log-likelihood of the BG family and its gradient over log-parameters.

    Rows are used as given: fitting merges identical rows first (``fit.compressed``).
    """
    x, t_x, age, weight = counts.x, counts.t_x, counts.T, counts.weight
    xs, inv, weight_by_x = by_count(x, weight)
    has_second = xs + shift > 0
    total = float(weight.sum())

    def objective(theta: FloatArray) -> tuple[float, FloatArray]:
        r, alpha, a, b = np.exp(theta)
        lb = betaln(a, b)
        ln_b1 = betaln(a, b + xs + shift) - lb
        c2 = np.where(has_second, b + xs + shift - 1, 1.0)
        ln_b2 = np.where(has_second, betaln(a + 1, c2) - lb, -np.inf)
        log_at = np.log(alpha + age)
        log_atx = np.log(alpha + t_x)
        rx = r + x
        ln_a1 = ln_b1[inv] - rx * log_at
        ln_a2 = ln_b2[inv] - rx * log_atx
        mix = np.logaddexp(ln_a1, ln_a2)
        w2 = np.exp(ln_a2 - mix)
        w1 = 1.0 - w2
        g_x = gammaln(r + xs) - gammaln(r)
        ll = dot(weight_by_x, g_x) + total * r * np.log(alpha) + dot(weight, mix)

        psi_rx = digamma(r + xs) - digamma(r)
        psi_abx = digamma(a + b + xs + shift)
        psi_bx = digamma(b + xs + shift)
        psi_ab = digamma(a + b)
        d_r = (
            dot(weight_by_x, psi_rx)
            + total * np.log(alpha)
            - dot(weight, (w1 * log_at + w2 * log_atx))
        )
        d_alpha = total * r / alpha - dot(weight, (rx * (w1 / (alpha + age) + w2 / (alpha + t_x))))
        sum_w2 = dot(weight, w2)
        d_a = total * psi_ab - dot(weight_by_x, psi_abx) + sum_w2 / a
        inv_c2 = np.where(has_second, 1.0 / c2, 0.0)
        d_b = (
            total * (psi_ab - digamma(b))
            + dot(weight_by_x, (psi_bx - psi_abx))
            - dot(weight, (w2 * inv_c2[inv]))
        )
        grad = np.array([d_r * r, d_alpha * alpha, d_a * a, d_b * b])
        return -ll, -grad

    return objective, counts.n_customers


def family_fit(
    model: str,
    shift: int,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    weights: ArrayLike | None,
) -> FitResult:
    counts = check_counts(frequency, recency, T, weights=weights)
    check_identifiable(counts, model)
    mean_x = float(np.average(counts.x, weights=counts.weight))
    mean_t = float(np.average(counts.T, weights=counts.weight))
    # Start at a unit-shape gamma whose mean matches the observed repeat rate.
    start = [1.0, mean_t / max(mean_x, 1e-3), 1.0, 2.0]
    return maximise_counts(model, NAMES, lambda c: family_objective(c, shift)[0], counts, start)


def family_log_likelihood(
    shift: int,
    model: str,
    params: Mapping[str, float] | FitResult,
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
) -> FloatArray:
    r, alpha, a, b = param_values(params, NAMES, model)
    counts = check_counts(x, t_x, T)
    xv = counts.x
    lb = betaln(a, b)
    ln_a1 = betaln(a, b + xv + shift) - lb - (r + xv) * np.log(alpha + counts.T)
    has_second = xv + shift > 0
    c2 = np.where(has_second, b + xv + shift - 1, 1.0)
    ln_a2 = np.where(
        has_second, betaln(a + 1, c2) - lb - (r + xv) * np.log(alpha + counts.t_x), -np.inf
    )
    out: FloatArray = gammaln(r + xv) - gammaln(r) + r * np.log(alpha) + np.logaddexp(ln_a1, ln_a2)
    return out


def family_p_alive(
    shift: int,
    model: str,
    params: Mapping[str, float] | FitResult,
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
) -> FloatArray:
    values = param_values(params, NAMES, model)
    return _p_alive(shift, values, check_counts(x, t_x, T))


def _p_alive(shift: int, values: list[float], counts: Counts) -> FloatArray:
    """P(alive) of checked counts at checked parameters."""
    r, alpha, a, b = values
    xv = counts.x
    has_second = xv + shift > 0
    c2 = np.where(has_second, b + xv + shift - 1, 1.0)
    # ln of the odds dead:alive = ln(a / (b+x+shift-1)) + (r+x) ln(1 + (T-t_x)/(alpha+t_x)):
    # two logarithms a row, and no cancellation when t_x is close to T.
    log_odds_dead = np.log(a / c2) + (r + xv) * np.log1p(
        (counts.T - counts.t_x) / (alpha + counts.t_x)
    )
    out: FloatArray = np.where(has_second, expit(-log_odds_dead), 1.0)
    return out


# Within this distance of a = 1 the closed form divides a vanishing bracket by a - 1; there the
# expectation (smooth in a) is interpolated between a = 1 -/+ this distance instead.
_NEAR_ONE = 1e-4


def beta_posterior_purchases(
    r: float,
    alpha: float,
    a: float,
    b_post: FloatArray,
    x: FloatArray,
    age: FloatArray,
    t: float,
) -> FloatArray:
    """E[purchases in (T, T+t] | alive] = E_p[(1 - (1 + p t/(alpha+T))^-(r+x)) / p].

    p follows its posterior Beta(a, c), c = b_post, given survival; lambda's posterior
    Gamma(r+x, alpha+T) is integrated in closed form. FHL 2005 eq. 10 writes the result as
    (a+c-1)/(a-1) [1 - (1-z)^(r+x) 2F1(r+x, c; a+c-1; z)], z = t/(alpha+T+t), whose 2F1 grows
    like (1-z)^-x and cancels every digit for heavy buyers. Euler's transformation turns it into
    (a+c-1)/(a-1) [1 - (1-z)^(a-1) 2F1(a+c-1-r-x, a-1; a+c-1; z)]: the first two parameters no
    longer grow with x (c - x is b or b+1), the function stays near 1, and the bracket is taken
    as -expm1((a-1) ln(1-z)) - (1-z)^(a-1) (2F1 - 1), with no cancellation at any x or t.
    """
    if abs(a - 1.0) < _NEAR_ONE:
        lo = _posterior_purchases(r, alpha, 1.0 - _NEAR_ONE, (b_post, x, age), t)
        hi = _posterior_purchases(r, alpha, 1.0 + _NEAR_ONE, (b_post, x, age), t)
        out: FloatArray = lo + (hi - lo) * ((a - 1.0 + _NEAR_ONE) / (2 * _NEAR_ONE))
        return out
    return _posterior_purchases(r, alpha, a, (b_post, x, age), t)


def _posterior_purchases(
    r: float, alpha: float, a: float, rows: tuple[FloatArray, FloatArray, FloatArray], t: float
) -> FloatArray:
    b_post, x, age = rows
    scale = t / (alpha + age)
    easy = (scale <= _JACOBI_SCALE) & (x <= _JACOBI_X)
    if a <= _JACOBI_X and np.any(easy):
        out = np.empty_like(x)
        out[easy] = _jacobi_posterior_purchases(r, a, b_post[easy], x[easy], scale[easy])
        hard = np.flatnonzero(~easy)
        if hard.size:
            out[hard] = _hypergeometric_posterior_purchases(
                r, alpha, a, (b_post[hard], x[hard], age[hard]), t
            )
        return out
    return _hypergeometric_posterior_purchases(r, alpha, a, rows, t)


# Gauss-Jacobi over the posterior of p for clients with up to this many purchases (and a up to
# this), when the horizon is at most this many times alpha + T; checked against the closed form
# to 2e-11 relative on random parameters (see tests/domain/btyd/test_predictions.py).
_JACOBI_NODES = 16
_JACOBI_SCALE = 2.0
_JACOBI_X = 30.0
# Rows a block: 4,096 rows of 16 nodes (512 KiB) stay in a core's cache between the block's
# four passes (log1p, scale, expm1, weighted sum); 32,768 (4 MiB) do not: MBG/NBD's predictions
# at 1M clients took 174 ms against 162 ms (medians of 12, in turn, bench/btyd_models' data).
_JACOBI_CHUNK = 1 << 12


@lru_cache(maxsize=1024)
def _jacobi_rule(alpha: float, beta: float) -> tuple[FloatArray, FloatArray]:
    """The nodes p of the Beta(beta + 1, alpha + 1) posterior and minus the normalised weights
    over p (the sum of weights times 1 - (1+p s)^-n is then E[(1 - (1+p s)^-n) / p]). Kept per
    posterior: a CLV asks for the same posteriors at every one of its horizons."""
    u, w = roots_jacobi(_JACOBI_NODES, alpha, beta)
    p = (u + 1.0) / 2.0
    return p, -w / w.sum() / p


def _jacobi_posterior_purchases(
    r: float, a: float, b_post: FloatArray, x: FloatArray, scale: FloatArray
) -> FloatArray:
    """E_p[(1 - (1 + p scale)^-(r+x)) / p], p ~ Beta(a, b_post), by a 16-node Gauss-Jacobi rule.

    The posterior depends on x alone, so each distinct x gets its nodes and weights once, and a
    client costs 16 logarithms and exponentials where scipy's hypergeometric function costs
    several times that. The integrand's only singularity is at p = -1/scale; with the horizon at
    most twice alpha + T and x at most 30 it is far enough from [0, 1] for 16 nodes.
    """
    present, inverse, _ = by_count(x, x)
    offset = b_post[0] - x[0]  # b + shift
    nodes = np.empty((present.size, _JACOBI_NODES))
    weights = np.empty((present.size, _JACOBI_NODES))
    for i, k in enumerate(present):
        nodes[i], weights[i] = _jacobi_rule(offset + k - 1.0, a - 1.0)
    shape = -(r + x)
    out = np.empty_like(x)
    for start in range(0, x.size, _JACOBI_CHUNK):
        sl = slice(start, start + _JACOBI_CHUNK)
        rows = inverse[sl]
        terms = nodes[rows]
        terms *= scale[sl, None]
        np.log1p(terms, out=terms)
        terms *= shape[sl, None]
        np.expm1(terms, out=terms)
        out[sl] = np.einsum("ij,ij->i", terms, weights[rows])
    return out


def _hypergeometric_posterior_purchases(
    r: float, alpha: float, a: float, rows: tuple[FloatArray, FloatArray, FloatArray], t: float
) -> FloatArray:
    b_post, x, age = rows
    c_sum = a - 1.0 + b_post
    shape = r + x
    log_rest = -np.log1p(t / (alpha + age))  # ln(1 - z)
    z = -np.expm1(log_rest)
    # Euler's form unless its first two parameters are the larger pair (a and b in the
    # thousands or more, a nearly deterministic dropout): then FHL's own form converges faster.
    euler = np.abs((a - 1.0) * (c_sum - shape)) <= shape * b_post
    out: FloatArray
    if np.all(euler):
        out = c_sum / (a - 1.0) * _bracket(c_sum - shape, a - 1.0, c_sum, z, log_rest)
    else:
        out = np.empty_like(x)
        e, f = euler, ~euler
        out[e] = _bracket(c_sum[e] - shape[e], a - 1.0, c_sum[e], z[e], log_rest[e])
        # FHL's form: the same bracket with (r+x, c) as parameters and (1-z)^(r+x) outside.
        out[f] = _bracket(shape[f], b_post[f], c_sum[f], z[f], log_rest[f], shape[f])
        out *= c_sum / (a - 1.0)
    lost = np.flatnonzero(~np.isfinite(out))
    if lost.size:
        scale = t / (alpha + age[lost])
        out[lost] = _sharp_posterior_purchases(shape[lost], a, b_post[lost], scale)
    return out


_HERMITE = np.polynomial.hermite.hermgauss(64)


def _sharp_posterior_purchases(
    shape: FloatArray, a: float, c: FloatArray, scale: FloatArray
) -> FloatArray:
    """E_p[(1 - (1 + p scale)^-shape) / p] over p ~ Beta(a, c) when a and c are both large.

    Where both hypergeometric forms overflow (a and x in the thousands), the posterior of p is
    sharp and close to normal in logit(p): Gauss-Hermite nodes around its mode ln(a/c), with
    the exact density at each node, integrate it to near machine precision.
    """
    u, w = _HERMITE
    sigma = np.sqrt(1.0 / a + 1.0 / c)[:, None]
    y = np.log(a / c)[:, None] + np.sqrt(2.0) * sigma * u[None, :]
    log_p, log_q = -np.logaddexp(0.0, -y), -np.logaddexp(0.0, y)
    log_density = a * log_p + c[:, None] * log_q - betaln(a, c)[:, None]
    p = np.exp(log_p)
    g = -np.expm1(-shape[:, None] * np.log1p(p * scale[:, None])) / p
    weights = np.log(w)[None, :] + u[None, :] ** 2 + log_density
    out: FloatArray = np.sqrt(2.0) * sigma[:, 0] * np.einsum("ij,ij->i", g, np.exp(weights))
    return out


def _bracket(
    first: FloatArray,
    second: FloatArray | float,
    c_sum: FloatArray,
    z: FloatArray,
    log_rest: FloatArray,
    power: FloatArray | float | None = None,
) -> FloatArray:
    """1 - (1-z)^power 2F1(first, second; c_sum; z) (power: second unless given), no cancelling."""
    power = second if power is None else power
    with np.errstate(over="ignore", invalid="ignore"):
        series = hyp2f1(first, second, c_sum, z) - 1.0
        out: FloatArray = -np.expm1(power * log_rest) - np.exp(power * log_rest) * series
    return out


def family_expected(
    shift: int,
    model: str,
    params: Mapping[str, float] | FitResult,
    t: float,
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
) -> FloatArray:
    out: FloatArray = family_predictions(shift, model, params, [t], x, t_x, T)[1][0]
    return out


def family_predictions(
    shift: int,
    model: str,
    params: Mapping[str, float] | FitResult,
    horizons: Sequence[float],
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
) -> tuple[FloatArray, FloatArray]:
    """P(alive) and E[X(t)] for each t in ``horizons`` (rows: t), the inputs checked once."""
    r, alpha, a, b = param_values(params, NAMES, model)
    check_horizons(horizons)
    counts = check_counts(x, t_x, T)
    alive = _p_alive(shift, [r, alpha, a, b], counts)
    expected = np.empty((len(horizons), counts.x.size))
    if not len(horizons):
        return alive, expected
    # What a living client buys depends on x and T alone: worked out within each count as a
    # function of age (by_age), the grouping done once for every horizon.
    groups = AgeGroups.of(counts.x, counts.T, alpha) if counts.x.size >= MIN_ROWS else None
    for row, t in enumerate(horizons):

        def given(x: FloatArray, age: FloatArray, t: float = t) -> FloatArray:
            return beta_posterior_purchases(r, alpha, a, b + x + shift, x, age, t)

        at_age = given(counts.x, counts.T) if groups is None else groups.evaluate(given, alpha)
        expected[row] = alive * at_age
    return alive, expected


def family_discounted(
    shift: int,
    model: str,
    params: Mapping[str, float] | FitResult,
    steps: Sequence[float],
    factors: Sequence[float],
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
) -> FloatArray:
    """Sum over ``steps`` of the purchases each adds to E[X(t)], times its discount ``factor``.

    The whole sum is one function of x and T for a living client, so it is interpolated in age
    once (by_age), not once a step: a CLV over three years of weeks is one series a client.
    """
    r, alpha, a, b = param_values(params, NAMES, model)
    check_horizons(steps)
    counts = check_counts(x, t_x, T)
    alive = _p_alive(shift, [r, alpha, a, b], counts)

    def given(xs: FloatArray, age: FloatArray) -> FloatArray:
        total = np.zeros_like(xs)
        previous = np.zeros_like(xs)
        for step, factor in zip(steps, factors, strict=True):
            current = beta_posterior_purchases(r, alpha, a, b + xs + shift, xs, age, step)
            total += (current - previous) * factor
            previous = current
        return total

    out: FloatArray = alive * by_count_and_age(given, counts.x, counts.T, alpha)
    return out


def fit(
    frequency: ArrayLike, recency: ArrayLike, T: ArrayLike, *, weights: ArrayLike | None = None
) -> FitResult:
    """Maximum-likelihood BG/NBD parameters r, alpha, a, b."""
    return family_fit(MODEL, 0, frequency, recency, T, weights)


def log_likelihood(
    params: Mapping[str, float] | FitResult, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> FloatArray:
    """Per-customer log-likelihood (FHL 2005 eq. 6)."""
    return family_log_likelihood(0, MODEL, params, frequency, recency, T)


def probability_alive(
    params: Mapping[str, float] | FitResult, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> FloatArray:
    """P(alive at T | x, t_x, T) = 1 / (1 + [x>0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x)).

    Computed as a logistic of the log-odds, so heavy buyers (x in the thousands) stay finite.
    A customer with no repeat purchase cannot have dropped out under BG/NBD: P(alive) = 1.
    """
    return family_p_alive(0, MODEL, params, frequency, recency, T)


def expected_purchases(
    params: Mapping[str, float] | FitResult,
    t: float,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
) -> FloatArray:
    """E[purchases in the next t periods | x, t_x, T] (FHL 2005 eq. 10).

    Evaluated as P(alive) times the expectation given alive (see ``beta_posterior_purchases``).
    """
    return family_expected(0, MODEL, params, t, frequency, recency, T)


def predictions(
    params: Mapping[str, float] | FitResult,
    horizons: Sequence[float],
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
) -> tuple[FloatArray, FloatArray]:
    """P(alive) and E[X(t)] for each t in ``horizons`` (rows: t), in one pass over the inputs."""
    return family_predictions(0, MODEL, params, horizons, frequency, recency, T)


def discounted(
    params: Mapping[str, float] | FitResult,
    steps: Sequence[float],
    factors: Sequence[float],
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
) -> FloatArray:
    """Discounted expected purchases over ``steps`` (see ``family_discounted``)."""
    return family_discounted(0, MODEL, params, steps, factors, frequency, recency, T)


__all__ = [
    "MODEL",
    "NAMES",
    "discounted",
    "expected_purchases",
    "fit",
    "log_likelihood",
    "predictions",
    "probability_alive",
]
