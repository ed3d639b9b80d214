"""What a client is, derived from their history: kind, tenure, value tier.

Nothing here is typed by hand: tenure starts at the earliest known fact (first purchase, or the
"client since" date an import brought for history older than the exports), the kind follows from
purchases, the tier from lifetime spend.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum


class Kind(StrEnum):
    LEAD = "lead"
    CLIENT = "client"
    FORMER = "former"


@dataclass(frozen=True)
class Figures:
    """A client's history reduced to the numbers people ask about first."""

    first_purchase: datetime | None
    last_purchase: datetime | None
    purchase_count: int
    total_spend_minor: int
    late_payment_count: int
    client_since: date | None = None

    @property
    def since(self) -> date | None:
        """The start of the relationship: the earliest of the known dates."""
        known = [
            d
            for d in (
                self.client_since,
                self.first_purchase.date() if self.first_purchase else None,
            )
            if d
        ]
        return min(known) if known else None


def kind_of(figures: Figures, *, today: date, former_after_days: int) -> Kind:
    if figures.purchase_count == 0 and figures.client_since is None:
        return Kind.LEAD
    if figures.last_purchase is None:  # known as a client, no purchase history: no sign of lapse
        return Kind.CLIENT
    if (today - figures.last_purchase.date()).days > former_after_days:
        return Kind.FORMER
    return Kind.CLIENT


def tenure_years(since: date | None, *, today: date) -> float:
    """Whole and fractional years since ``since``; 0 for a lead."""
    if since is None or since > today:
        return 0.0
    return (today - since).days / 365.2425


def tenure_label(since: date | None, *, today: date) -> str:
    """'new', 'N months' or 'N years', the way people say it."""
    if since is None:
        return "—"
    days = (today - since).days
    if days < 31:
        return "new"
    years = int(days // 365.2425)
    if years == 0:
        months = max(1, int(days // 30.44))
        return f"{months} month" + ("s" if months != 1 else "")
    return f"{years} year" + ("s" if years != 1 else "")


MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def month_year(day: date) -> str:
    """'April 2024': when a former client last bought, said the way people say it."""
    return f"{MONTHS[day.month - 1]} {day.year}"


@dataclass(frozen=True)
class Tenure:
    """How long someone has been, or was, a client.

    A former client's tenure ends at their last purchase (``until``): it stops counting the day
    they left, so the page says "a client for 21 years, until April 2024", never "21 years with
    us" while the years since they left keep adding up.
    """

    since: date | None
    until: date | None
    label: str
    years: float

    @property
    def words(self) -> str:
        """The whole phrase: 'client for 20 years', 'a client for 21 years, until April 2024'."""
        if self.since is None:
            return "no purchases yet"
        if self.until is not None:
            span = "less than a month" if self.label == "new" else self.label
            return f"a client for {span}, until {month_year(self.until)}"
        return "new client" if self.label == "new" else f"client for {self.label}"

    @property
    def until_words(self) -> str | None:
        return month_year(self.until) if self.until else None


def tenure_of(figures: Figures, kind: Kind, *, today: date) -> Tenure:
    """The tenure to show: up to today for a client, up to the last purchase for a former one."""
    since = figures.since
    until = figures.last_purchase.date() if kind is Kind.FORMER and figures.last_purchase else None
    end = until or today
    if since is not None and until is not None and since > until:
        end = since  # "client since" moved after the last purchase: no negative spans
    return Tenure(
        since=since,
        until=until,
        label=tenure_label(since, today=end),
        years=tenure_years(since, today=end),
    )


def tier_of(total_spend_major: float, tiers: Mapping[str, int], *, is_lead: bool) -> str | None:
    """The highest tier whose threshold the lifetime spend reaches; 'bronze' below all of them."""
    if is_lead:
        return None
    for name, threshold in sorted(tiers.items(), key=lambda item: -item[1]):
        if total_spend_major >= threshold:
            return name
    return "bronze"


def is_late(due: date | None, paid: date | None, *, today: date) -> bool:
    """Paid after the due date, or still unpaid past it."""
    if due is None:
        return False
    if paid is None:
        return today > due
    return paid > due
