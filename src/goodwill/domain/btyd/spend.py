"""Expected spend per customer: Gamma-Gamma where the spend identifies it, the mean where not.

Gamma-Gamma needs each repeat buyer's mean spend to be positive and the spends to vary between
customers. A refund can leave a repeat buyer's mean at zero or below: that buyer is left out of
the fit (and gets the population's expected spend, like a customer with no repeat purchase),
never the whole population. Spend that does not vary, or a fit that fails or ends at an edge,
falls back to the mean spend of the repeat buyers for everyone, and ``notes`` say why.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from goodwill.domain.btyd import gammagamma
from goodwill.domain.btyd.edges import edge_reason
from goodwill.domain.btyd.fit import FloatArray, as_array
from goodwill.errors import InvalidInput

MEAN_SPEND = "mean-spend"


@dataclass(frozen=True)
class SpendModel:
    """Gamma-Gamma's parameters (p, q, gamma), or ``mean-spend`` with ``{"mean": m}``."""

    model: str
    params: dict[str, float]
    n_customers: int
    log_likelihood: float | None  # None for the mean spend: nothing was fitted
    notes: tuple[str, ...] = ()


def fit_spend(frequency: ArrayLike, monetary_value: ArrayLike) -> SpendModel:
    """The spend model of the repeat buyers among these customers (x > 0).

    Raises ``InvalidInput`` only when no repeat buyer has a positive mean spend.
    """
    x = as_array(frequency, "frequency")
    m = as_array(monetary_value, "monetary_value")
    repeat = x > 0
    usable = repeat & (m > 0)
    notes: list[str] = []
    refunds = int(np.count_nonzero(repeat & ~usable))
    if refunds:
        notes.append(
            f"{refunds} repeat buyer{'s' if refunds != 1 else ''} with a mean spend of 0 or "
            "less (refunds) left out of the spend model; they get the population's mean spend"
        )
    if not usable.any():
        raise InvalidInput("no repeat buyer has a mean spend above 0, so spend cannot be modelled")
    spends = m[usable]
    mean = float(np.average(spends, weights=x[usable]))
    n = int(np.count_nonzero(usable))
    fallback = None
    if float(spends.max() - spends.min()) <= 1e-9 * abs(mean):
        fallback = (
            f"every repeat buyer's mean spend is {mean:.2f}: with no variation Gamma-Gamma "
            "cannot be estimated, so the mean spend is used for everyone"
        )
    else:
        try:
            fitted = gammagamma.fit(x[usable], spends)
        except InvalidInput as exc:
            fallback = f"Gamma-Gamma could not be fitted ({exc}), so the mean spend is used"
        else:
            edge = edge_reason(fitted)
            if edge is None and fitted.params["q"] <= 1:
                edge = f"gamma-gamma: q = {fitted.params['q']:.3g} <= 1 (infinite mean spend)"
            if edge is None:
                return SpendModel(
                    fitted.model, dict(fitted.params), n, fitted.log_likelihood, tuple(notes)
                )
            fallback = f"{edge}; the mean spend is used instead"
    notes.append(fallback)
    return SpendModel(MEAN_SPEND, {"mean": mean}, n, None, tuple(notes))


def expected_spend(
    model: str, params: dict[str, float], frequency: ArrayLike, monetary_value: ArrayLike
) -> FloatArray:
    """E[M] per customer under ``model``; buyers with a mean spend of 0 or less and customers
    with no repeat purchase get the population mean."""
    x = as_array(frequency, "frequency")
    m = as_array(monetary_value, "monetary_value")
    if model == MEAN_SPEND:
        return np.full(x.shape, float(params["mean"]))
    usable = (x > 0) & (m > 0)
    return gammagamma.expected_spend(params, np.where(usable, x, 0.0), np.where(usable, m, 0.0))


__all__ = ["MEAN_SPEND", "SpendModel", "expected_spend", "fit_spend"]
