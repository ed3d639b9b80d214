"""Pareto/NBD: exponential lifetimes with gamma-distributed dropout rates, gamma-Poisson buying.

Schmittlein, Morrison & Colombo (1987), in the formulation of Fader & Hardie's note "A note on
deriving the Pareto/NBD model and related expressions" (2005). While alive a customer buys at rate
lambda ~ Gamma(r, alpha); the lifetime is exponential with rate mu ~ Gamma(s, beta).

Per-customer likelihood (integrating lambda and mu out of the note's eq. 6)::

    L = G(r+x) alpha^r beta^s / G(r) * [ (alpha+T)^-(r+x) (beta+T)^-s + s * I ]
    I = integral from t_x to T of (alpha+y)^-(r+x) (beta+y)^-(s+1) dy

The note writes ``s * I`` as ``s/(r+s+x) * A0`` with Gauss hypergeometric functions of
(alpha-beta)/(alpha+t) or (beta-alpha)/(beta+t), whichever of alpha, beta is larger. Those
overflow or lose every digit for heavy buyers, so ``I`` is computed here as that integral, after
the change of variable q = ((g+t_x)/(g+y))^(r+s+x) with g the rate scale whose exponent is the
larger. The integrand becomes ((o+y)/(g+y))^-e (o the other scale, e the smaller exponent): smooth,
bounded, with no cancellation, and Gauss-Legendre nodes integrate it to near machine precision.
The same nodes give the gradient, as integrals of the derivative of the integrand.
When t_x = T the integral is exactly 0 and is skipped (such customers are alive for sure).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import digamma, gammaln, logsumexp  # type: ignore[import-untyped]

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

MODEL = "pareto-nbd"
NAMES = ("r", "alpha", "s", "beta")

_NODES = 32
_DEPTH = 36.0
# Rows whose integrand factor varies by more than e^_SMOOTH over [t_x, T] are split into panels,
# each with at most about that much variation.
_SMOOTH = 2.0
_MAX_PANELS = 512
_CHUNK = 1 << 14


def _legendre(n: int) -> tuple[FloatArray, FloatArray]:
    """Gauss-Legendre nodes on [0, 1] and the logarithms of their weights."""
    u, w = np.polynomial.legendre.leggauss(n)
    return (u + 1.0) / 2.0, np.log(w / 2.0)


_RULE = _legendre(_NODES)
# Fewer nodes where they reach the same accuracy: (nodes, largest depth) for the e^l factor alone
# (relative error under 1e-14 on [-depth, 0]); the smooth factor may ask for more (``_plan``).
_TIERS = ((8, 3.0), (12, 8.0), (16, 18.0), (24, 40.0))
_RULES = {n: _legendre(n) for n, _ in _TIERS} | {_NODES: _RULE}


def _panel(
    params: tuple[float, float, float, float],
    x: FloatArray,
    lo: FloatArray,
    hi: FloatArray,
    variation: FloatArray,
    gradient: bool,
    nodes_count: int = _NODES,
) -> tuple[FloatArray, FloatArray]:
    """ln of the integral of (alpha+y)^-(r+x) (beta+y)^-(s+1) over [lo, hi], one rule per row.

    With g the lead scale and n = r+s+x, the variable l = -n ln((g+y)/(g+lo)) turns the integral
    into (g+lo)^-n / n * integral of e^l h(l) dl over [-n ln((g+hi)/(g+lo)), 0], h smooth and
    varying by at most e^variation. Below l = -(36 + variation) the rest is under 1e-15 of the
    whole and is left out, so a single Gauss-Legendre rule serves light and heavy buyers alike.
    """
    r, alpha, s, beta = params
    nodes, log_weights = _RULES[nodes_count]
    e_alpha = r + x
    e_beta = s + 1.0
    # Lead with the scale whose exponent is larger: the other factor then varies least.
    lead_alpha = e_alpha >= e_beta
    g = np.where(lead_alpha, alpha, beta)
    o = np.where(lead_alpha, beta, alpha)
    e_other = np.where(lead_alpha, e_beta, e_alpha)
    n = r + s + x
    log_g_lo = np.log(g + lo)
    log_q = np.log(o + lo) - log_g_lo  # ln((o+lo)/(g+lo))
    span = np.log1p((hi - lo) / (g + lo))  # ln((g+hi)/(g+lo)) > 0
    depth = np.minimum(n * span, _DEPTH + variation)
    # ln((g+y)/(g+lo)) at each node; nodes run from deepest (column 0) to l = 0.
    shift = (depth / n)[:, None] * (1.0 - nodes)[None, :]
    # ln of the smooth factor's base (o+y)/(g+y), relative to its value at lo.
    rel = _log_ratio(log_q, shift) - log_q[:, None]
    terms = (log_weights - depth[:, None] * (1.0 - nodes)[None, :]) - e_other[:, None] * rel
    # The smooth factor is monotone, so the largest term is near one end: no overflow.
    offset = np.maximum(terms[:, 0], terms[:, -1])
    scaled = np.exp(terms - offset[:, None])
    total = scaled.sum(axis=1)
    log_sum = offset + np.log(total) - e_other * log_q
    log_i = -n * log_g_lo - np.log(n) + np.log(depth) + log_sum
    grads = np.empty((4, x.size if gradient else 0))
    if gradient:
        # Moments of ln(g+y), ln(o+y), 1/(g+y), 1/(o+y) under the normalised terms.
        inv_total = 1.0 / total
        mean_shift = np.einsum("ij,ij->i", scaled, shift) * inv_total
        mean_rel = np.einsum("ij,ij->i", scaled, rel) * inv_total
        g_factor = np.exp(-shift)
        mean_inv_g = np.einsum("ij,ij->i", scaled, g_factor) * inv_total
        mean_inv_o = np.einsum("ij,ij->i", scaled, g_factor * np.exp(-rel)) * inv_total
        log_g_mean = log_g_lo + mean_shift
        log_o_mean = log_g_mean + mean_rel + log_q
        inv_g = mean_inv_g / (g + lo)
        inv_o = mean_inv_o / (o + lo)
        grads[0] = -np.where(lead_alpha, log_g_mean, log_o_mean)
        grads[1] = -e_alpha * np.where(lead_alpha, inv_g, inv_o)
        grads[2] = -np.where(lead_alpha, log_o_mean, log_g_mean)
        grads[3] = -e_beta * np.where(lead_alpha, inv_o, inv_g)
    return log_i, grads


def _log_ratio(log_q: FloatArray, shift: FloatArray) -> FloatArray:
    """ln((o+y)/(g+y)) at each node, where (o+y)/(g+y) = 1 + (q-1) e^-shift, q = (o+lo)/(g+lo).

    Written so that nothing cancels: q + (1-q) (1 - e^-shift) when q < 1 (o much smaller than
    g near lo), ln1p((q-1) e^-shift) when q >= 1 (however large q and small e^-shift are).
    """
    out = np.empty_like(shift)
    below = log_q < 0
    rows = np.flatnonzero(below)
    if rows.size:
        q = np.exp(log_q[rows])[:, None]
        out[rows] = np.log(q - (1.0 - q) * np.expm1(-shift[rows]))
    rows = np.flatnonzero(~below)
    if rows.size:
        with np.errstate(divide="ignore"):
            log_q1 = np.log(np.expm1(log_q[rows]))[:, None]  # ln(q - 1); -inf when q = 1
            out[rows] = np.log1p(np.exp(log_q1 - shift[rows]))
    return out


def _variation(
    params: tuple[float, float, float, float], x: FloatArray, lo: FloatArray, hi: FloatArray
) -> FloatArray:
    """How much ln of the smooth factor ((o+y)/(g+y))^-e changes over [lo, hi]."""
    r, alpha, s, beta = params
    e_other = np.minimum(r + x, s + 1.0)
    ratio_lo = np.log(alpha + lo) - np.log(beta + lo)
    ratio_hi = np.log(alpha + hi) - np.log(beta + hi)
    out: FloatArray = e_other * np.abs(ratio_lo - ratio_hi)
    return out


def _plan(
    params: tuple[float, float, float, float],
    x: FloatArray,
    lo: FloatArray,
    hi: FloatArray,
    variation: FloatArray,
) -> tuple[NDArray[np.bool_], FloatArray, NDArray[np.int64]]:
    """Rows one rule cannot integrate well, how many panels each wants, and the others' nodes.

    A row goes to panels when the smooth factor varies by more than e^_SMOOTH, or when the
    other factor's singularity at y = -o lies closer to the start of the range than 5% of the
    rule's depth (o + t_x much smaller than g + t_x), where the nodes are too sparse to follow it.

    The others get one of the tiers of nodes, or 32. Two things limit a rule on [-depth, 0]: the
    e^l factor (an entire function; the tier's largest depth keeps its error under 1e-14) and
    the singularities of the smooth factor (1 + k e^(l/n))^-e, k = (o-g)/(g+lo): on the real
    axis at l = -n ln(-k) when k < 0, else at least n*pi off it. A singularity on the Bernstein
    ellipse of parameter rho costs about rho^-2N, so N >= 18 / ln(rho) keeps that under 2e-16.
    Light buyers with short spans need 8 or 12 nodes where a fixed rule spends 32.
    """
    r, alpha, s, beta = params
    lead_alpha = r + x >= s + 1.0
    g = np.where(lead_alpha, alpha, beta)
    o = np.where(lead_alpha, beta, alpha)
    n = r + s + x
    depth = np.minimum(n * np.log1p((hi - lo) / (g + lo)), _DEPTH + variation)
    k = (o - g) / (g + lo)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        # Where the singularity on the real axis lies (l > 0), when there is one.
        distance = np.where(k < 0, -n * np.log(-np.minimum(k, -1e-300)), np.inf)
        positive = np.maximum(depth, 1e-300)
        zeta = 1.0 + 2.0 * distance / positive
        rho_real = zeta + np.sqrt(np.maximum(zeta * zeta - 1.0, 0.0))
        eta = 2.0 * np.pi * n / positive
        rho_off = eta + np.sqrt(eta * eta + 1.0)
        rho = np.where(k < 0, rho_real, np.where(k > 0, rho_off, np.inf))
        wanted = 18.0 / np.log(rho)
    hard: NDArray[np.bool_] = (variation > _SMOOTH) | (distance < 0.05 * depth)
    m = min(alpha, beta)
    panels: FloatArray = np.maximum(variation / _SMOOTH, np.log1p((hi - lo) / (m + lo)))
    count = np.full(x.size, _NODES)
    for nodes, largest in reversed(_TIERS):
        count[(depth <= largest) & (wanted <= nodes)] = nodes
    count[hard] = 0
    return hard, panels, count


def _panels(
    params: tuple[float, float, float, float],
    x: FloatArray,
    lo: FloatArray,
    hi: FloatArray,
    gradient: bool,
    count: int,
) -> tuple[FloatArray, FloatArray]:
    """The same integral split into panels of equal width in ln(min(alpha, beta) + y).

    For the rare rows where alpha and beta differ by orders of magnitude and the integrand
    bends twice; each panel then holds a single smooth power-law stretch.
    """
    _, alpha, _, beta = params
    m = min(alpha, beta)
    k = np.arange(count + 1) / count
    log_lo = np.log(m + lo)
    edges = np.exp(log_lo[:, None] + np.log1p((hi - lo) / (m + lo))[:, None] * k[None, :]) - m
    edges[:, 0], edges[:, -1] = lo, hi
    rows = np.repeat(np.arange(x.size), count)
    lo_k, hi_k = edges[:, :-1].ravel(), edges[:, 1:].ravel()
    variation = _variation(params, x[rows], lo_k, hi_k)
    log_i, grads = _panel(params, x[rows], lo_k, hi_k, variation, gradient)
    log_i = log_i.reshape(x.size, count)
    total = logsumexp(log_i, axis=1)
    out_grads = np.empty((4, x.size if gradient else 0))
    if gradient:
        share = np.exp(log_i - total[:, None])
        for j in range(4):
            out_grads[j] = np.einsum("ij,ij->i", share, grads[j].reshape(x.size, count))
    return total, out_grads


def log_tail_integral(
    r: float,
    alpha: float,
    s: float,
    beta: float,
    x: FloatArray,
    t_x: FloatArray,
    T: FloatArray,
    *,
    gradient: bool = False,
) -> tuple[FloatArray, FloatArray]:
    """ln I for rows with t_x < T, and (if asked) d ln I / d(r, alpha, s, beta) as a (4, n) array.

    Rows whose smooth factor varies by more than e^2 over [t_x, T] (alpha and beta orders of
    magnitude apart) are split into panels of equal width in ln(min(alpha, beta) + y).
    """
    params = (r, alpha, s, beta)
    n_rows = x.size
    log_i = np.empty(n_rows)
    grads = np.empty((4, n_rows if gradient else 0))
    for start in range(0, n_rows, _CHUNK):
        sl = slice(start, start + _CHUNK)
        variation = _variation(params, x[sl], t_x[sl], T[sl])
        # Rows with a node count of 0 are worked out in panels below.
        hard_rows, wanted, node_counts = _plan(params, x[sl], t_x[sl], T[sl], variation)
        value = np.empty(node_counts.size)
        grad = np.empty((4, node_counts.size if gradient else 0))
        for nodes in np.unique(node_counts[node_counts > 0]):
            part = np.flatnonzero(node_counts == nodes)
            rows_n = part + start
            value[part], grad_n = _panel(
                params,
                x[rows_n],
                t_x[rows_n],
                T[rows_n],
                variation[part],
                gradient,
                int(nodes),
            )
            if gradient:
                grad[:, part] = grad_n
        hard = np.flatnonzero(hard_rows)
        if hard.size:
            rows = hard + start
            count = int(np.clip(np.ceil(wanted[hard].max()), 2, _MAX_PANELS))
            value[hard], hard_grad = _panels(params, x[rows], t_x[rows], T[rows], gradient, count)
            if gradient:
                grad[:, hard] = hard_grad
        log_i[sl] = value
        if gradient:
            grads[:, sl] = grad
    return log_i, grads


def _objective(counts: Counts) -> Objective:
    """Summed negative log-likelihood and gradient over log-parameters, rows as given."""
    x, t_x, age, weight = counts.x, counts.t_x, counts.T, counts.weight
    xs, _, weight_by_x = by_count(x, weight)
    open_rows = np.flatnonzero(t_x < age)
    total = float(weight.sum())

    def objective(theta: FloatArray) -> tuple[float, FloatArray]:
        r, alpha, s, beta = np.exp(theta)
        log_at = np.log(alpha + age)
        log_bt = np.log(beta + age)
        rx = r + x
        log_a = -rx * log_at - s * log_bt
        log_si = np.full(x.size, -np.inf)
        log_i, d_i = log_tail_integral(
            r, alpha, s, beta, x[open_rows], t_x[open_rows], age[open_rows], gradient=True
        )
        log_si[open_rows] = np.log(s) + log_i
        mix = np.logaddexp(log_a, log_si)
        w2 = np.exp(log_si - mix)
        w1 = 1.0 - w2
        ll = (
            dot(weight_by_x, (gammaln(r + xs) - gammaln(r)))
            + total * (r * np.log(alpha) + s * np.log(beta))
            + dot(weight, mix)
        )
        wo = (weight * w2)[open_rows]
        d_r = (
            dot(weight_by_x, (digamma(r + xs) - digamma(r)))
            + total * np.log(alpha)
            - dot(weight, (w1 * log_at))
            + dot(wo, d_i[0])
        )
        d_alpha = total * r / alpha - dot(weight, (w1 * rx / (alpha + age))) + dot(wo, d_i[1])
        d_s = (
            total * np.log(beta)
            - dot(weight, (w1 * log_bt))
            + float(wo.sum()) / s
            + dot(wo, d_i[2])
        )
        d_beta = total * s / beta - dot(weight, (w1 * s / (beta + age))) + dot(wo, d_i[3])
        grad = np.array([d_r * r, d_alpha * alpha, d_s * s, d_beta * beta])
        return -ll, -grad

    return objective


def fit(
    frequency: ArrayLike, recency: ArrayLike, T: ArrayLike, *, weights: ArrayLike | None = None
) -> FitResult:
    """Maximum-likelihood Pareto/NBD parameters r, alpha, s, beta."""
    counts = check_counts(frequency, recency, T, weights=weights)
    check_identifiable(counts, MODEL)
    mean_x = float(np.average(counts.x, weights=counts.weight))
    mean_t = float(np.average(counts.T, weights=counts.weight))
    start = [1.0, mean_t / max(mean_x, 1e-3), 1.0, mean_t]
    return maximise_counts(MODEL, NAMES, _objective, counts, start)


def _parts(
    params: Mapping[str, float] | FitResult, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> tuple[list[float], Counts, FloatArray, FloatArray]:
    """Parameters, checked counts, ln of the 'alive at T' term and ln of the 'died before' term."""
    r, alpha, s, beta = param_values(params, NAMES, MODEL)
    counts = check_counts(x, t_x, T)
    log_a = -(r + counts.x) * np.log(alpha + counts.T) - s * np.log(beta + counts.T)
    log_si = np.full(counts.x.size, -np.inf)
    open_rows = np.flatnonzero(counts.t_x < counts.T)
    log_i, _ = log_tail_integral(
        r, alpha, s, beta, counts.x[open_rows], counts.t_x[open_rows], counts.T[open_rows]
    )
    log_si[open_rows] = np.log(s) + log_i
    return [r, alpha, s, beta], counts, log_a, log_si


def log_likelihood(
    params: Mapping[str, float] | FitResult, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> FloatArray:
    """Per-customer log-likelihood (Fader & Hardie's note, eq. 6, in integral form)."""
    (r, alpha, s, beta), counts, log_a, log_si = _parts(params, frequency, recency, T)
    out: FloatArray = (
        gammaln(r + counts.x)
        - gammaln(r)
        + r * np.log(alpha)
        + s * np.log(beta)
        + np.logaddexp(log_a, log_si)
    )
    return out


def probability_alive(
    params: Mapping[str, float] | FitResult, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> FloatArray:
    """P(alive at T | x, t_x, T): the share of the likelihood in which the customer outlives T.

    Equal to 1 when t_x = T (the last purchase is at the end of the calibration period).
    """
    _, _, log_a, log_si = _parts(params, frequency, recency, T)
    out: FloatArray = np.exp(log_a - np.logaddexp(log_a, log_si))
    return out


def expected_purchases(
    params: Mapping[str, float] | FitResult,
    t: float,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
) -> FloatArray:
    """E[purchases in the next t periods | x, t_x, T] (Fader & Hardie's note, eq. 22).

    (r+x)(beta+T) / ((alpha+T)(s-1)) * [1 - ((beta+T)/(beta+T+t))^(s-1)] * P(alive), with the
    bracket over (s-1) computed by expm1 so that s near 1 (limit: ln((beta+T+t)/(beta+T))) is
    exact.
    """
    _, expected = predictions(params, [t], frequency, recency, T)
    out: FloatArray = expected[0]
    return out


def predictions(
    params: Mapping[str, float] | FitResult,
    horizons: Sequence[float],
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
) -> tuple[FloatArray, FloatArray]:
    """P(alive) and E[purchases in the next t periods] for each t in ``horizons`` (rows: t).

    One evaluation of the likelihood's integral serves them all: the horizon enters only through
    a factor per row, so P(alive), a year's purchases or twelve months of a CLV cost about what
    P(alive) alone does.
    """
    check_horizons(horizons)
    (r, alpha, s, beta), counts, log_a, log_si = _parts(params, frequency, recency, T)
    alive: FloatArray = np.exp(log_a - np.logaddexp(log_a, log_si))
    scale = (r + counts.x) * (beta + counts.T) / (alpha + counts.T) * alive
    expected = np.empty((len(horizons), counts.x.size))
    for row, t in enumerate(horizons):
        horizon = np.log1p(t / (beta + counts.T))
        if abs(s - 1.0) < 1e-12:
            expected[row] = horizon * scale
        else:
            expected[row] = -np.expm1(-(s - 1.0) * horizon) / (s - 1.0) * scale
    return alive, expected


__all__ = [
    "MODEL",
    "NAMES",
    "expected_purchases",
    "fit",
    "log_likelihood",
    "predictions",
    "probability_alive",
]
