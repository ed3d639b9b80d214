"""One client's rhythm from a few kept sums, so a client page needs no purchase history.

``domain.cadence.learn`` reduces a client's distinct purchase days to k = n - 1 log-intervals
and keeps only their count, sum and sum of squares (and the last day); those are what
``RhythmSums`` holds. Kept as purchases arrive, they give the same rhythm ``learn`` gives from
the whole history, shrunk toward the same population prior.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from scipy.special import stdtrit  # type: ignore[import-untyped]

from goodwill.domain.cadence import CadenceSettings, Prior
from goodwill.domain.cadence import _fit_priors as fit_priors


@dataclass(frozen=True)
class RhythmSums:
    """A client's distinct purchase days: how many, the last, and their log-intervals' sums."""

    days: int
    last: date | None
    log_gaps: float
    log_gap_squares: float

    def then(self, day: date) -> RhythmSums:
        """The sums with one more purchase day, later than ``last`` (``then`` in day order)."""
        if self.last is None:
            return RhythmSums(1, day, 0.0, 0.0)
        gap = math.log(float((day - self.last).days))
        return RhythmSums(self.days + 1, day, self.log_gaps + gap, self.log_gap_squares + gap * gap)

    def moments(self) -> tuple[int, float, float]:
        """(k, mean log-interval, sum of squared deviations), as ``learn`` computes them."""
        k = max(self.days - 1, 0)
        ybar = self.log_gaps / k if k else 0.0
        return k, ybar, max(self.log_gap_squares - self.log_gaps * ybar, 0.0)


@dataclass(frozen=True)
class Rhythm:
    usual_interval: float  # days: the median interval
    threshold: float  # days after the last purchase the client may take before being overdue
    expected: date
    due_by: date


def rhythm(sums: RhythmSums, prior: Prior, settings: CadenceSettings) -> Rhythm | None:
    """The client's rhythm (None below ``min_purchases`` days): the conjugate update of
    ``domain.cadence`` on the sums."""
    if sums.last is None or sums.days < settings.min_purchases:
        return None
    k, ybar, squares = sums.moments()
    kappa = prior.kappa + k
    m = (prior.kappa * prior.mean + k * ybar) / kappa
    a = prior.shape + k / 2.0
    b = prior.scale + squares / 2.0 + prior.kappa * k * (ybar - prior.mean) ** 2 / (2.0 * kappa)
    spread = math.sqrt(b * (kappa + 1.0) / (a * kappa))
    usual = math.exp(m)
    threshold = math.exp(m + float(stdtrit(2.0 * a, settings.level)) * spread)
    return Rhythm(
        usual_interval=usual,
        threshold=threshold,
        expected=sums.last + timedelta(days=int(np.rint(usual))),
        due_by=sums.last + timedelta(days=math.floor(threshold)),
    )


def population_prior(
    days: np.typing.NDArray[np.int64],
    log_gaps: np.typing.NDArray[np.float64],
    log_gap_squares: np.typing.NDArray[np.float64],
) -> Prior:
    """The business-wide prior ``learn`` fits, from every client's sums (one entry each)."""
    k = np.maximum(days - 1, 0).astype(np.float64)
    ybar = np.divide(log_gaps, k, out=np.zeros(k.size), where=k > 0)
    squares = np.maximum(log_gap_squares - log_gaps * ybar, 0.0)
    (prior,) = fit_priors(np.zeros(k.size, dtype=np.int64), 1, None, k, ybar, squares)
    return prior


__all__ = ["Rhythm", "RhythmSums", "population_prior", "rhythm"]
