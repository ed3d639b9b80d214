"""Fits that converged to the edge of the parameter space: numbers, but not estimates.

When the data cannot tell two explanations apart (every customer's last purchase on the last day,
or a thousand identical customers), the likelihood keeps rising towards a limit and the optimiser
stops at a shape parameter of 1e-8 or 1e6 and says "converged". Such a fit predicts nonsense (no
one ever drops out, or everyone buys at one rate), so it is flagged with the reason and not used.
"""

from __future__ import annotations

import math

from goodwill.domain.btyd.fit import LOG_BOUND, FitResult

#: Shape parameters outside this range mean the data could not identify the model. Scale
#: parameters (alpha, beta, gamma) follow the units of time and money, so only the optimiser's
#: own bound applies to them.
SHAPE_LIMITS = (1e-4, 1e4)
SCALE_PARAMETERS = frozenset({"alpha", "beta", "gamma"})
#: The two parameters of one mixing distribution. When both are large the distribution has
#: narrowed to a point: every client shares one dropout probability (a, b) or one rate (r,
#: alpha; s, beta; q, v). That is a sound limit of the model, predictions stay finite and
#: sensible, so it is not an edge solution; one large beside a small partner is.
PARTNERS = {"a": "b", "b": "a", "r": "alpha", "s": "beta", "q": "v"}


def edge_reason(fit: FitResult) -> str | None:
    """Why ``fit`` is an edge solution and not an estimate, or None when it is a sound fit."""
    low, high = SHAPE_LIMITS
    for name, value in fit.params.items():
        if not math.isfinite(value) or value <= 0:
            return f"{fit.model}: {name} = {value} is not a usable value"
        if abs(math.log(value)) > LOG_BOUND - 1.0:
            return (
                f"{fit.model}: {name} = {value:.3g} ran to the limit of the search, so the "
                "history cannot identify the model"
            )
        partner = fit.params.get(PARTNERS.get(name, ""), 0.0)
        if value > high and partner > high:
            continue  # a point mass: one shared probability or rate (see PARTNERS)
        if name not in SCALE_PARAMETERS and not low <= value <= high:
            return (
                f"{fit.model}: {name} = {value:.3g} is outside {low:g} to {high:g}, an edge "
                "solution: the history cannot tell the model's explanations apart (for example "
                "every customer's last purchase on the last day, or many identical customers)"
            )
    return None


__all__ = ["PARTNERS", "SHAPE_LIMITS", "edge_reason"]
