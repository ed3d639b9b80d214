"""Customer lifetime value: discounted expected purchases times expected spend, per customer.

CLV over a horizon of t periods with a discount rate d per period is the discrete-time sum::

    CLV = E[M] * sum over k = 1..ceil(t) of (E[X(k')] - E[X(k'-1)]) / (1 + d)^k',  k' = min(k, t)

where E[X(u)] is the count model's expected purchases in the next u periods given the customer's
history and E[M] the Gamma-Gamma expected spend. Purchases in period k are discounted as if made
at its end; with d = 0 this is exactly E[X(t)] * E[M]. This is the usual approximation to the
continuous DERT of Fader, Hardie & Lee (2005); the error is below half a period's discounting.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from goodwill.domain.btyd import bgnbd, mbgnbd, paretonbd
from goodwill.domain.btyd.fit import FitResult, FloatArray, as_array
from goodwill.errors import InvalidInput

Params = Mapping[str, float] | FitResult


@dataclass(frozen=True)
class CountModel:
    """One purchase-count model, by the name the CLI and the JSON use."""

    name: str
    names: tuple[str, ...]
    fit: Callable[..., FitResult]
    log_likelihood: Callable[[Params, ArrayLike, ArrayLike, ArrayLike], FloatArray]
    probability_alive: Callable[[Params, ArrayLike, ArrayLike, ArrayLike], FloatArray]
    expected_purchases: Callable[[Params, float, ArrayLike, ArrayLike, ArrayLike], FloatArray]
    predictions: Callable[
        [Params, Sequence[float], ArrayLike, ArrayLike, ArrayLike], tuple[FloatArray, FloatArray]
    ]
    # The discounted sum in one pass, where the model has one (BG/NBD, MBG/NBD).
    discounted: (
        Callable[
            [Params, Sequence[float], Sequence[float], ArrayLike, ArrayLike, ArrayLike],
            FloatArray,
        ]
        | None
    ) = None


COUNT_MODELS: dict[str, CountModel] = {
    m.MODEL: CountModel(
        name=m.MODEL,
        names=m.NAMES,
        fit=m.fit,
        log_likelihood=m.log_likelihood,
        probability_alive=m.probability_alive,
        expected_purchases=m.expected_purchases,
        predictions=m.predictions,
        discounted=getattr(m, "discounted", None),
    )
    for m in (bgnbd, paretonbd, mbgnbd)
}


def count_model(name: str) -> CountModel:
    """The count model called ``name`` (bg-nbd, pareto-nbd, mbg-nbd), or ``InvalidInput``."""
    try:
        return COUNT_MODELS[name]
    except KeyError:
        known = ", ".join(sorted(COUNT_MODELS))
        raise InvalidInput(f"unknown model {name!r}; expected one of {known}") from None


def discounted_purchases(
    model: CountModel,
    params: Params,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    *,
    horizon: float,
    discount_rate: float,
) -> FloatArray:
    """Sum over periods of the expected purchases in each period, discounted to today."""
    if not (math.isfinite(horizon) and horizon >= 0):
        raise InvalidInput("the horizon must be a non-negative number of periods")
    if not (math.isfinite(discount_rate) and discount_rate > -1):
        raise InvalidInput("the discount rate must be a number above -1 (per period)")
    x = as_array(frequency, "frequency")
    steps = [min(float(k), horizon) for k in range(1, math.ceil(horizon) + 1)]
    total = np.zeros_like(x)
    if not steps:
        return total
    factors = [(1.0 + discount_rate) ** -step for step in steps]
    if model.discounted is not None:
        return model.discounted(params, steps, factors, frequency, recency, T)
    # Every period's cumulative purchases from one call: P(alive) is worked out once.
    _, cumulative = model.predictions(params, steps, frequency, recency, T)
    previous = np.zeros_like(x)
    for factor, current in zip(factors, cumulative, strict=True):
        total += (current - previous) * factor
        previous = current
    return total


def lifetime_value(
    model: CountModel,
    params: Params,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    expected_spend: ArrayLike,
    *,
    horizon: float,
    discount_rate: float,
) -> FloatArray:
    """CLV per customer over ``horizon`` periods at ``discount_rate`` per period."""
    purchases = discounted_purchases(
        model, params, frequency, recency, T, horizon=horizon, discount_rate=discount_rate
    )
    out: FloatArray = purchases * as_array(expected_spend, "expected_spend")
    return out


__all__ = [
    "COUNT_MODELS",
    "CountModel",
    "count_model",
    "discounted_purchases",
    "lifetime_value",
]
