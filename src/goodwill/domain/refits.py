"""When the engine refits the population models, and why it did or did not.

The population parameters (BG/NBD and its kin, Gamma-Gamma) describe the whole business: a
day's orders move them by a fraction of their own uncertainty. Refitting them over every client
every day costs the whole store for nothing. A client's figures are not kept from the fit: they
are computed when read, from that client's own current purchases and the kept parameters, so
they move with every purchase whether or not the parameters were refitted.

The policy: refit when there is no fit yet, when the fit is a week old, or when the purchases
that arrived since it reach 5% of those it was made on; otherwise keep the parameters. At most
one attempt a day; a refit whose result was refused (an edge fit) is tried again the next day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

#: A fit this many days old is refitted whatever arrived since.
MAX_AGE_DAYS = 7
#: New purchases since the fit, as a share of the purchases it was made on, that call a refit.
NEW_SHARE = 0.05


@dataclass(frozen=True)
class FitBasis:
    """What the kept fit was made on: the day, the purchases counted then, the newest order's id."""

    as_of: date
    purchases: int | None  # None: a fit made before the basis was recorded
    newest_order: int | None


@dataclass(frozen=True)
class RefitDecision:
    """Refit or keep, with the reason in words (shown by ``goodwill engine run``)."""

    refit: bool
    reason: str
    last_fit: date | None = None


def decide(
    *,
    today: date,
    fit: FitBasis | None,
    refused_on: date | None,
    new_purchases: int,
) -> RefitDecision:
    """Refit or keep the population models today.

    ``fit`` is the fit in use (None: none yet); ``refused_on`` the day of the latest refit whose
    result was refused and not adopted (None: the latest was adopted); ``new_purchases`` the
    orders recorded after the fit's newest order.
    """
    last = None if fit is None else fit.as_of
    if refused_on is not None and refused_on >= today:
        return RefitDecision(False, "refitted today, but the fit was refused; again tomorrow", last)
    if fit is not None and fit.as_of >= today:
        return RefitDecision(False, f"refitted today ({today.isoformat()})", last)
    if refused_on is not None:
        return RefitDecision(True, f"the refit of {refused_on.isoformat()} was refused", last)
    if fit is None:
        return RefitDecision(True, "no fit yet", last)
    if fit.purchases is None:
        return RefitDecision(True, "the fit does not record the purchases it was made on", last)
    age = (today - fit.as_of).days
    if age >= MAX_AGE_DAYS:
        return RefitDecision(
            True, f"the fit of {fit.as_of.isoformat()} is {age} days old (weekly at most)", last
        )
    needed = max(1, int(NEW_SHARE * fit.purchases + 0.999999))
    share = new_purchases / fit.purchases if fit.purchases else 1.0
    if new_purchases >= needed:
        return RefitDecision(
            True,
            f"{new_purchases} new purchases since the fit of {fit.as_of.isoformat()} "
            f"({share:.1%} of its {fit.purchases}; {NEW_SHARE:.0%} calls a refit)",
            last,
        )
    due = fit.as_of + timedelta(days=MAX_AGE_DAYS)
    return RefitDecision(
        False,
        f"kept the fit of {fit.as_of.isoformat()}: {new_purchases} new purchases since "
        f"({share:.1%} of its {fit.purchases}); refit at {needed} or on {due.isoformat()}",
        last,
    )


__all__ = ["MAX_AGE_DAYS", "NEW_SHARE", "FitBasis", "RefitDecision", "decide"]
