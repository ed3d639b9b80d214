"""The owner's weekly digest as plain text: what changed, who is at risk, what is overdue.

An owner reads it on a phone on Monday morning, so it says the few things that moved, in words,
with the numbers beside them; nothing here reads the store or sends anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Figure:
    """One series over the digest's week: its value, the week before, the 12 weeks before."""

    label: str
    unit: str  # count | money | hours | share
    value: float | None
    previous: float | None
    average: float | None  # the mean of the 12 weeks before this one (None: no data)


@dataclass(frozen=True)
class AtRisk:
    name: str
    client_id: str
    revenue_at_risk: float | None
    days_overdue: int
    usual_interval_days: float


@dataclass(frozen=True)
class Overdue:
    title: str
    client: str
    due: date
    assignee: str | None


@dataclass(frozen=True)
class DigestText:
    subject: str
    text: str


def change_words(figure: Figure, currency: str) -> str:
    """ "412 (up 12 on the week before, 3% above the 12-week average)"."""
    value = _format(figure.value, figure.unit, currency)
    parts = []
    if figure.value is not None and figure.previous is not None:
        delta = figure.value - figure.previous
        if delta == 0:
            parts.append("same as the week before")
        else:
            way = "up" if delta > 0 else "down"
            parts.append(
                f"{way} {_format(abs(delta), figure.unit, currency, delta=True)} on the week before"
            )
    if figure.value is not None and figure.average:
        ratio = figure.value / figure.average - 1
        if abs(ratio) < 0.005:
            parts.append("at the 12-week average")
        else:
            side = "above" if ratio > 0 else "below"
            parts.append(f"{abs(ratio):.0%} {side} the 12-week average")
    return value + (f" ({', '.join(parts)})" if parts else "")


def _format(value: float | None, unit: str, currency: str, *, delta: bool = False) -> str:
    if value is None:
        return "—"
    if unit == "money":
        return f"{value:,.0f} {currency}"
    if unit == "share":
        return f"{value * 100:.0f} points" if delta else f"{value:.0%}"
    if unit == "hours":
        return f"{value:,.1f} h"
    return f"{value:,.0f}"


def digest_text(
    *,
    business: str | None,
    week_start: date,
    figures: Sequence[Figure],
    at_risk: Sequence[AtRisk],
    at_risk_total: float | None,
    at_risk_count: int,
    overdue: Sequence[Overdue],
    overdue_count: int,
    currency: str,
    link: str | None = None,
) -> DigestText:
    """The digest of the week starting ``week_start`` (a Monday)."""
    week_end = week_start.toordinal() + 6
    end = date.fromordinal(week_end)
    iso = week_start.isocalendar()
    name = f" at {business}" if business else ""
    subject = f"Your week{name}: {week_start:%d %b} – {end:%d %b %Y} (week {iso.week})"
    lines = [f"The week of {week_start:%A %d %B} to {end:%A %d %B %Y}{name}.", ""]
    lines.append("What changed")
    for figure in figures:
        lines.append(f"- {figure.label}: {change_words(figure, currency)}")
    lines.append("")
    lines.append("Who is at risk")
    if at_risk_count:
        total = _format(at_risk_total, "money", currency)
        lines.append(
            f"{at_risk_count} regular client{'s' if at_risk_count != 1 else ''} "
            f"past their usual rhythm, {total} a year at risk. The biggest:"
        )
        for r in at_risk:
            money = _format(r.revenue_at_risk, "money", currency)
            lines.append(
                f"- {r.name} ({r.client_id}): usually every {r.usual_interval_days:.0f} days, "
                f"{r.days_overdue} days overdue, {money} a year"
            )
    else:
        lines.append("Nobody is past their usual rhythm.")
    lines.append("")
    lines.append("What is overdue")
    if overdue_count:
        lines.append(
            f"{overdue_count} follow-up{'s' if overdue_count != 1 else ''} past their date. "
            "The oldest:"
        )
        for o in overdue:
            who = f", {o.assignee}" if o.assignee else ""
            lines.append(f"- {o.title} — {o.client}, due {o.due:%d %b}{who}")
    else:
        lines.append("No follow-up is past its date.")
    if link:
        lines += ["", f"The trends week by week: {link}"]
    return DigestText(subject=subject, text="\n".join(lines) + "\n")


__all__ = ["AtRisk", "DigestText", "Figure", "Overdue", "change_words", "digest_text"]
