"""Which purchase-count model to trust: every model that fits, compared, the best one chosen.

Each count model (BG/NBD, MBG/NBD, Pareto/NBD; four parameters each, so their log-likelihoods
compare fairly) is fitted; a fit that fails or ends at an edge is kept in the comparison with its
reason and not chosen. When a holdout is given (the purchases made after the calibration end),
the model whose predicted holdout purchases come closest to what happened is chosen, ties within
one percentage point going to the higher log-likelihood; without a holdout, the highest
log-likelihood wins.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from goodwill.domain.btyd.clv import count_model
from goodwill.domain.btyd.edges import edge_reason
from goodwill.domain.btyd.fit import FitResult, FloatArray
from goodwill.errors import InvalidInput

COUNT_MODELS = ("bg-nbd", "mbg-nbd", "pareto-nbd")
#: Holdout errors closer than this (as a share of the actual purchases) count as a tie.
TIE = 0.01


@dataclass(frozen=True)
class Candidate:
    """One count model's fit, its holdout error, and why it cannot be used (None: usable)."""

    model: str
    fit: FitResult | None
    predicted_holdout: float | None = None
    actual_holdout: float | None = None
    reason: str | None = None

    @property
    def holdout_error(self) -> float | None:
        """(predicted - actual) / actual holdout repeat purchases."""
        if self.predicted_holdout is None or not self.actual_holdout:
            return None
        return (self.predicted_holdout - self.actual_holdout) / self.actual_holdout


def compare(
    frequency: FloatArray,
    recency: FloatArray,
    T: FloatArray,
    *,
    frequency_holdout: FloatArray | None = None,
    duration_holdout: float | None = None,
    models: tuple[str, ...] = COUNT_MODELS,
) -> list[Candidate]:
    """Fit each model to (x, t_x, T) and, with a holdout, predict its repeat purchases."""
    out = []
    for name in models:
        counts = count_model(name)
        try:
            fitted = counts.fit(frequency, recency, T)
        except (InvalidInput, ValueError, ArithmeticError) as exc:
            out.append(Candidate(name, None, reason=str(exc)))
            continue
        reason = edge_reason(fitted)
        predicted = actual = None
        if reason is None and frequency_holdout is not None and duration_holdout:
            expected = counts.expected_purchases(fitted, duration_holdout, frequency, recency, T)
            predicted = float(np.sum(expected))
            actual = float(np.sum(frequency_holdout))
        out.append(Candidate(name, fitted, predicted, actual, reason))
    return out


def choose(candidates: list[Candidate], holdout: list[Candidate] | None = None) -> Candidate | None:
    """The usable candidate to adopt, or None when none is usable.

    ``holdout`` holds the same models fitted on a calibration period with their holdout errors
    (by default the candidates' own); when every usable model has one, the smallest error wins,
    ties (within ``TIE``) going to the higher log-likelihood; otherwise the highest
    log-likelihood wins.
    """
    usable = [c for c in candidates if c.fit is not None and c.reason is None]
    if not usable:
        return None
    errors = {c.model: c.holdout_error for c in (candidates if holdout is None else holdout)}
    known = [errors.get(c.model) for c in usable]
    if all(e is not None for e in known):
        best = min(abs(e) for e in known if e is not None)
        usable = [
            c for c, e in zip(usable, known, strict=True) if e is not None and abs(e) <= best + TIE
        ]
    return max(usable, key=lambda c: c.fit.log_likelihood if c.fit is not None else -np.inf)


def refusal(candidates: list[Candidate]) -> str:
    """One line saying why no count model could be used."""
    return "; ".join(
        c.reason if c.reason.startswith(c.model) else f"{c.model}: {c.reason}"
        for c in candidates
        if c.reason
    )


__all__ = ["COUNT_MODELS", "Candidate", "choose", "compare", "refusal"]
