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

import functools
from collections.abc import Mapping

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import betaln, digamma, expit, gammaln, roots_jacobi  # type: ignore[import-untyped]

from goodwill.domain.btyd.fit import (
    Counts,
    FitResult,
    FloatArray,
    Objective,
    check_counts,
    check_identifiable,
    maximise_counts,
    param_values,
)

MODEL = "bg-nbd"
NAMES = ("r", "alpha", "a", "b")

# Gauss-Jacobi nodes for expectations over the beta posterior of the dropout probability.
_JACOBI_NODES = 48
_CHUNK = 1 << 15


def family_objective(counts: Counts, shift: int) -> tuple[Objective, int]:
    """The summed negative log-likelihood of the BG family and its gradient over log-parameters.

    Rows are used as given: fitting merges identical rows first (``fit.compressed``).
    """
    x, t_x, age, weight = counts.x, counts.t_x, counts.T, counts.weight
    xs, inv = np.unique(x, return_inverse=True)
    weight_by_x = np.bincount(inv, weights=weight, minlength=xs.size)
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
        ll = float(weight_by_x @ g_x) + total * r * np.log(alpha) + float(weight @ mix)

        psi_rx = digamma(r + xs) - digamma(r)
        psi_abx = digamma(a + b + xs + shift)
        psi_bx = digamma(b + xs + shift)
        psi_ab = digamma(a + b)
        d_r = (
            float(weight_by_x @ psi_rx)
            + total * np.log(alpha)
            - float(weight @ (w1 * log_at + w2 * log_atx))
        )
        d_alpha = total * r / alpha - float(
            weight @ (rx * (w1 / (alpha + age) + w2 / (alpha + t_x)))
        )
        sum_w2 = float(weight @ w2)
        d_a = total * psi_ab - float(weight_by_x @ psi_abx) + sum_w2 / a
        inv_c2 = np.where(has_second, 1.0 / c2, 0.0)
        d_b = (
            total * (psi_ab - digamma(b))
            + float(weight_by_x @ (psi_bx - psi_abx))
            - float(weight @ (w2 * inv_c2[inv]))
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
    r, alpha, a, b = param_values(params, NAMES, model)
    counts = check_counts(x, t_x, T)
    xv = counts.x
    has_second = xv + shift > 0
    c2 = np.where(has_second, b + xv + shift - 1, 1.0)
    # ln of the odds dead:alive = ln(a / (b+x+shift-1)) + (r+x) ln((alpha+T)/(alpha+t_x)).
    log_odds_dead = (
        np.log(a) - np.log(c2) + (r + xv) * (np.log(alpha + counts.T) - np.log(alpha + counts.t_x))
    )
    out: FloatArray = np.where(has_second, expit(-log_odds_dead), 1.0)
    return out


@functools.lru_cache(maxsize=4096)
def _beta_rule(c: float, a: float) -> tuple[FloatArray, FloatArray]:
    """Gauss-Jacobi nodes on (0, 1) and normalised weights for Beta(a, c); the same (a, c)
    recurs for every period of a CLV sum, so the rule is built once (callers copy it)."""
    with np.errstate(over="ignore", invalid="ignore"):
        u, w = roots_jacobi(_JACOBI_NODES, c - 1.0, a - 1.0)
        w = w / w.sum()
    if np.all(np.isfinite(u)) and np.all(np.isfinite(w)):
        return (1.0 + u) / 2.0, w
    # a and b so large that the rule overflows: Beta(a, c) is then all but a point mass at its
    # mean (its standard deviation is below 1/sqrt(a + c)), so use that point.
    return np.full(_JACOBI_NODES, a / (a + c)), np.full(_JACOBI_NODES, 1.0 / _JACOBI_NODES)


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

    p follows its posterior Beta(a, b_post) given survival; lambda's posterior Gamma(r+x,
    alpha+T) is integrated in closed form. The remaining integral over p is a Gauss-Jacobi rule
    built per distinct b_post; its integrand is bounded (it tends to (r+x) t/(alpha+T) as p -> 0),
    so this stays finite where the hypergeometric form of FHL eq. 10 overflows for large x.
    """
    out = np.empty_like(x)
    if x.size == 0 or t == 0:
        out[:] = 0.0
        return out
    bs, inv = np.unique(b_post, return_inverse=True)
    nodes = np.empty((bs.size, _JACOBI_NODES))
    weights = np.empty((bs.size, _JACOBI_NODES))
    for i, c in enumerate(bs):
        nodes[i], weights[i] = _beta_rule(float(c), float(a))
    for start in range(0, x.size, _CHUNK):
        sl = slice(start, start + _CHUNK)
        p = nodes[inv[sl]]
        scale = (t / (alpha + age[sl]))[:, None]
        shape = (r + x[sl])[:, None]
        g = -np.expm1(-shape * np.log1p(p * scale)) / p
        out[sl] = np.einsum("ij,ij->i", g, weights[inv[sl]])
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
    r, alpha, a, b = param_values(params, NAMES, model)
    if not (np.isfinite(t) and t >= 0):
        raise ValueError("t must be a non-negative number of periods")
    counts = check_counts(x, t_x, T)
    alive = family_p_alive(shift, model, params, counts.x, counts.t_x, counts.T)
    given_alive = beta_posterior_purchases(r, alpha, a, b + counts.x + shift, counts.x, counts.T, t)
    out: FloatArray = alive * given_alive
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


__all__ = [
    "MODEL",
    "NAMES",
    "expected_purchases",
    "fit",
    "log_likelihood",
    "probability_alive",
]
