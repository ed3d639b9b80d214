"""Gamma-Gamma: the spend per transaction, independent of the purchase process.

Fader, Hardie & Lee (2005), "RFM and CLV: using iso-value curves for customer base analysis", and
Fader & Hardie's note "The Gamma-Gamma model of monetary value" (2013). A customer's transaction
values are Gamma(p, nu); nu varies across customers as Gamma(q, gamma). Only customers with at
least one repeat purchase (x >= 1) and their mean repeat spend m_x enter. Per customer::

    ln L = ln G(px+q) - ln G(px) - ln G(q) + q ln gamma + (px-1) ln m_x + px ln x
           - (px+q) ln(gamma + x m_x)

The density of the mean m_x is used (the product of the individual values is not needed), which
is the likelihood the note maximises.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import digamma, gammaln  # type: ignore[import-untyped]

from goodwill.domain.btyd.fit import (
    MIN_CUSTOMERS,
    FitResult,
    FloatArray,
    as_array,
    by_count,
    compress,
    dot,
    maximise,
    mostly_distinct,
    param_values,
)
from goodwill.errors import InvalidInput

MODEL = "gamma-gamma"
NAMES = ("p", "q", "gamma")


def _check(
    frequency: ArrayLike, monetary_value: ArrayLike, weights: ArrayLike | None
) -> tuple[FloatArray, FloatArray, FloatArray]:
    x = as_array(frequency, "frequency")
    m = as_array(monetary_value, "monetary_value")
    w = np.ones_like(x) if weights is None else as_array(weights, "weights")
    if not (x.shape == m.shape == w.shape):
        raise InvalidInput("frequency, monetary_value and weights must have the same length")
    if np.any(x < 1) or np.any(x != np.floor(x)):
        raise InvalidInput("Gamma-Gamma takes customers with 1 or more repeat purchases only")
    if np.any(m <= 0):
        raise InvalidInput("monetary_value must be more than 0 for every repeat buyer")
    return x, m, w


def fit(
    frequency: ArrayLike, monetary_value: ArrayLike, *, weights: ArrayLike | None = None
) -> FitResult:
    """Maximum-likelihood Gamma-Gamma parameters p, q, gamma from repeat buyers' mean spend."""
    x, m, w = _check(frequency, monetary_value, weights)
    n_customers = round(float(w.sum()))
    if n_customers < MIN_CUSTOMERS:
        raise InvalidInput(
            f"{MODEL} needs at least {MIN_CUSTOMERS} repeat buyers to be estimated; got "
            f"{n_customers}"
        )
    if np.ptp(m) == 0:
        raise InvalidInput(
            f"{MODEL} cannot be estimated: every repeat buyer has the same mean spend"
        )
    if not mostly_distinct([x, m]):
        (x, m), w = compress([x, m], w)
    xs, _, w_by_x = by_count(x, w)
    log_m = np.log(m)
    total = float(w.sum())
    wx = w * x
    xm = x * m
    # Row sums that do not depend on the parameters, taken once.
    sum_wx_log_m, sum_w_log_m = dot(wx, log_m), dot(w, log_m)
    sum_wx_log_x = dot(w_by_x * xs, np.log(xs))

    def objective(theta: FloatArray) -> tuple[float, FloatArray]:
        # Terms in p x alone are summed per distinct x; only ln(gamma + x m) is per row.
        p, q, gamma = np.exp(theta)
        log_gxm = np.log(gamma + xm)
        inv_gxm = 1.0 / (gamma + xm)
        sum_wx_log_gxm, sum_w_log_gxm = dot(wx, log_gxm), dot(w, log_gxm)
        pxs = p * xs
        ll = (
            dot(w_by_x, gammaln(pxs + q) - gammaln(pxs))
            + p * (sum_wx_log_m + sum_wx_log_x)
            - sum_w_log_m
            + total * (q * np.log(gamma) - gammaln(q))
            - p * sum_wx_log_gxm
            - q * sum_w_log_gxm
        )
        psi_pxq = digamma(pxs + q)
        d_p = (
            dot(w_by_x * xs, psi_pxq - digamma(pxs)) + sum_wx_log_m + sum_wx_log_x - sum_wx_log_gxm
        )
        d_q = dot(w_by_x, psi_pxq) - sum_w_log_gxm + total * (np.log(gamma) - digamma(q))
        d_gamma = total * q / gamma - p * dot(wx, inv_gxm) - q * dot(w, inv_gxm)
        return -ll, -np.array([d_p * p, d_q * q, d_gamma * gamma])

    # Moment-style start: p from the spread of the means, q = 2 (finite mean), gamma to match.
    mean = float(np.average(m, weights=w))
    var = float(np.average((m - mean) ** 2, weights=w))
    start = [max(mean**2 / max(var, 1e-12), 0.1), 2.0, mean]
    return maximise(MODEL, NAMES, objective, start, n_customers=n_customers)


def log_likelihood(
    params: Mapping[str, float] | FitResult, frequency: ArrayLike, monetary_value: ArrayLike
) -> FloatArray:
    """Per-customer log-likelihood of the observed mean spend."""
    p, q, gamma = param_values(params, NAMES, MODEL)
    x, m, _ = _check(frequency, monetary_value, None)
    px = p * x
    out: FloatArray = (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(gamma)
        + (px - 1) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(gamma + x * m)
    )
    return out


def expected_spend(
    params: Mapping[str, float] | FitResult, frequency: ArrayLike, monetary_value: ArrayLike
) -> FloatArray:
    """E[M | x, m_x] = (q-1)/(px+q-1) * p gamma/(q-1) + px/(px+q-1) * m_x.

    A weighted mean of the population mean p gamma/(q-1) and the customer's own mean; customers
    with no repeat purchase (x = 0, m_x ignored) get the population mean. Needs q > 1, without
    which the population mean spend is infinite.
    """
    p, q, gamma = param_values(params, NAMES, MODEL)
    if q <= 1:
        raise InvalidInput(f"{MODEL}: q = {q:.4g} <= 1, so the expected spend is infinite")
    x = as_array(frequency, "frequency")
    m = np.where(x > 0, as_array(monetary_value, "monetary_value"), 0.0)
    if np.any(x < 0) or np.any((x > 0) & (m <= 0)):
        raise InvalidInput("frequency must be 0 or more and monetary_value more than 0")
    out: FloatArray = p * (gamma + x * m) / (p * x + q - 1)
    return out


__all__ = ["MODEL", "NAMES", "expected_spend", "fit", "log_likelihood"]
