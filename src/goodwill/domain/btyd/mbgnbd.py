"""MBG/NBD: the BG/NBD with dropout possible at the first purchase too (Batislam et al. 2007).

Batislam, Denizel & Filiztekin (2007), "Empirical validation and comparison of models for
customer base analysis". A customer may become inactive right after any purchase, the first one
included, with probability p ~ Beta(a, b); purchasing is gamma-Poisson with r, alpha as in
BG/NBD. Per-customer log-likelihood::

    ln L = ln G(r+x) - ln G(r) + r ln alpha
           + logaddexp( ln B(a, b+x+1) - ln B(a, b) - (r+x) ln(alpha+T),
                        ln B(a+1, b+x) - ln B(a, b) - (r+x) ln(alpha+t_x) )

Unlike BG/NBD, a one-time buyer may already be gone: P(alive | x=0) < 1.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from numpy.typing import ArrayLike

from goodwill.domain.btyd.bgnbd import (
    NAMES,
    family_discounted,
    family_expected,
    family_fit,
    family_log_likelihood,
    family_p_alive,
    family_predictions,
)
from goodwill.domain.btyd.fit import FitResult, FloatArray

MODEL = "mbg-nbd"
_SHIFT = 1


def fit(
    frequency: ArrayLike, recency: ArrayLike, T: ArrayLike, *, weights: ArrayLike | None = None
) -> FitResult:
    """Maximum-likelihood MBG/NBD parameters r, alpha, a, b."""
    return family_fit(MODEL, _SHIFT, frequency, recency, T, weights)


def log_likelihood(
    params: Mapping[str, float] | FitResult, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> FloatArray:
    """Per-customer log-likelihood (Batislam et al. 2007)."""
    return family_log_likelihood(_SHIFT, MODEL, params, frequency, recency, T)


def probability_alive(
    params: Mapping[str, float] | FitResult, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> FloatArray:
    """P(alive at T | x, t_x, T) = 1 / (1 + a/(b+x) ((alpha+T)/(alpha+t_x))^(r+x))."""
    return family_p_alive(_SHIFT, MODEL, params, frequency, recency, T)


def expected_purchases(
    params: Mapping[str, float] | FitResult,
    t: float,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
) -> FloatArray:
    """E[purchases in the next t periods | x, t_x, T].

    Batislam et al.'s closed form, (a+b+x)/(a-1) [1 - ((alpha+T)/(alpha+T+t))^(r+x)
    2F1(r+x, b+x+1; a+b+x; t/(alpha+T+t))] P(alive), evaluated as P(alive) times an expectation
    over the Beta(a, b+x+1) posterior of p, which stays finite for heavy buyers.
    """
    return family_expected(_SHIFT, MODEL, params, t, frequency, recency, T)


def predictions(
    params: Mapping[str, float] | FitResult,
    horizons: Sequence[float],
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
) -> tuple[FloatArray, FloatArray]:
    """P(alive) and E[X(t)] for each t in ``horizons`` (rows: t), in one pass over the inputs."""
    return family_predictions(_SHIFT, MODEL, params, horizons, frequency, recency, T)


def discounted(
    params: Mapping[str, float] | FitResult,
    steps: Sequence[float],
    factors: Sequence[float],
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
) -> FloatArray:
    """Discounted expected purchases over ``steps`` (see ``bgnbd.family_discounted``)."""
    return family_discounted(_SHIFT, MODEL, params, steps, factors, frequency, recency, T)


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
