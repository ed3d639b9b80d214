"""A client's rhythm and value in words, for the value panel and the at-risk page.

The models answer in days and probabilities; the pages say "buys every ~31 days" and "42%". The
panel says why a figure is missing (a lead, too few purchases, no model fit yet) instead of
showing a bare dash.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from goodwill.store.value import ClientValue

#: Below this many days a rhythm reads best in days ("~31 days"), below a year and a half in
#: months ("~4 months"), beyond that in years.
DAYS_UNTIL = 70
MONTHS_UNTIL = 548
DAYS_PER_MONTH = 365.25 / 12

#: Why the panel has no figures: a lead never bought; "no_fit" means the engine has not yet
#: fitted the population models (they are refitted on its first pass of each day);
#: "first_day": the client's first purchase is today, and the models read them from tomorrow;
#: "no_good_fit": the history gave only an edge fit (or none), so no model is trusted yet.
Missing = Literal["lead", "no_rhythm", "no_fit", "first_day", "no_good_fit"]


def rhythm_words(days: float) -> str:
    """A usual interval between purchases in words: "~31 days", "~4 months", "~2 years"."""
    if days < DAYS_UNTIL:
        count, unit = round(days), "day"
    elif days < MONTHS_UNTIL:
        count, unit = round(days / DAYS_PER_MONTH), "month"
    else:
        count, unit = round(days / 365.25), "year"
    return f"~{count} {unit}{'' if count == 1 else 's'}"


def percent(probability: float) -> int:
    """A probability as a whole percentage, kept off 0 and 100 unless it is exactly that."""
    value = round(probability * 100)
    if value == 0 and probability > 0:
        return 1
    if value == 100 and probability < 1:
        return 99
    return value


@dataclass(frozen=True)
class ValuePanel:
    """What the client page's "Value and rhythm" panel shows; None where there is nothing."""

    value: ClientValue
    rhythm: str | None  # "buys every ~31 days"
    late_days: int | None  # days past the expected purchase, only when the client is overdue
    p_alive_percent: int | None
    rhythm_missing: Missing | None
    value_missing: Missing | None


def value_panel(value: ClientValue, *, purchases: int) -> ValuePanel:
    """The panel for ``value``; ``purchases`` is the client's count of orders (0: a lead).

    An overdue client's lateness (``value.overdue_days``) is counted from the expected date
    (last purchase plus the usual interval), as the at-risk page and the purchase.missed touch
    point count it; it is set only once the client is beyond their own spread.
    """
    lead = purchases == 0
    rhythm = None
    if value.usual_interval_days is not None:
        rhythm = f"buys every {rhythm_words(value.usual_interval_days)}"
    late = value.overdue_days
    rhythm_missing: Missing | None = None
    if rhythm is None:
        rhythm_missing = "lead" if lead else "no_rhythm"
    value_missing: Missing | None = None
    if value.p_alive is None:
        value_missing = "lead"
        if not lead:
            value_missing = "no_fit"
            if value.missing == "first_day":
                value_missing = "first_day"
            elif value.missing == "no_good_fit":
                value_missing = "no_good_fit"
    return ValuePanel(
        value=value,
        rhythm=rhythm,
        late_days=late,
        p_alive_percent=None if value.p_alive is None else percent(value.p_alive),
        rhythm_missing=rhythm_missing,
        value_missing=value_missing,
    )
