"""Insights answers as the cache remembers them, and the newest of each view kept in the store.

An answer remembered in a process is lost when the process restarts, and each new day asks for
new weeks; at hundreds of thousands of clients working one out takes seconds. So on a large
store the newest answer of each view (the weeks up to today or a fixed range, the filters, the
settings that shape the figures) is also kept in ``insights_answers``, and the first request of
a process or of a day is shown it, with when it was worked out, while the next is worked out
(store/insights_cache.py).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from goodwill.settings import Settings
from goodwill.store.insights import Filters, Insights
from goodwill.store.insights_models import InsightsAnswer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Ask:
    """What a request asks for, besides the store and the settings."""

    as_of: date
    weeks: int
    since: date | None
    until: date | None
    filters: Filters


@dataclass(frozen=True)
class Answer:
    """One worked-out answer and what it was worked out for."""

    ask: Ask
    insights: Insights
    version: str  # the store's data_version then (``version_text``)
    took: float  # seconds to work it out
    figured_at: datetime
    orders: int  # the newest order's id then: how large the store was


def version_text(version: tuple[Any, ...]) -> str:
    """A ``data_version`` as text, equal for equal versions read from the same store."""
    return json.dumps([v if v is None or isinstance(v, int | float) else str(v) for v in version])


def view_of(settings: Settings, ask: Ask) -> str:
    """The view an ask belongs to: the weeks up to today are one view whatever the day (so a
    new day finds yesterday's answer); a range that ends before today is its own."""
    to_today = ask.until is None or ask.until >= ask.as_of
    weeks: dict[str, Any] = (
        {"span": (ask.until or ask.as_of) - ask.since if ask.since else ask.weeks}
        if to_today
        else {"since": ask.since, "until": ask.until, "weeks": ask.weeks}
    )
    shape = {
        **{k: str(v) for k, v in weeks.items()},
        "filters": ask.filters.as_dict(),
        "zone": settings.timezone,
        "currency": settings.currency,
        "tiers": sorted(settings.tiers.items()),
        "cadence": sorted((k, str(v)) for k, v in settings.cadence.items()),
    }
    return hashlib.sha256(json.dumps(shape, sort_keys=True).encode()).hexdigest()


def kept_answer(session: Session, view: str) -> Answer | None:
    """The newest answer kept for ``view``; None when there is none or it cannot be read."""
    row = session.get(InsightsAnswer, view)
    if row is None:
        return None
    try:
        insights = _insights_from(row.answer)
        return Answer(
            ask=_ask_from(row.asked, insights.filters),
            insights=insights,
            version=row.version,
            took=float(row.took),
            figured_at=row.figured_at,
            orders=int(row.orders),
        )
    except (ValueError, KeyError, TypeError):
        log.warning("a kept insights answer could not be read; it will be worked out again")
        return None


def keep_answer(session: Session, view: str, answer: Answer) -> None:
    """Keep ``answer`` as the newest of ``view`` (in the caller's transaction)."""
    session.execute(delete(InsightsAnswer).where(InsightsAnswer.view == view))
    ask = answer.ask
    session.add(
        InsightsAnswer(
            view=view,
            asked=" ".join(
                [ask.as_of.isoformat(), _day(ask.since), _day(ask.until), str(ask.weeks)]
            ),
            version=answer.version,
            took=answer.took,
            orders=answer.orders,
            figured_at=answer.figured_at,
            answer=_insights_text(answer.insights),
        )
    )


def _day(day: date | None) -> str:
    return day.isoformat() if day else "-"


def _insights_text(insights: Insights) -> str:
    return json.dumps(
        {
            "weeks": [w.isoformat() for w in insights.weeks],
            "series": {key: list(values) for key, values in insights.series.items()},
            "currency": insights.currency,
            "as_of": insights.as_of.isoformat(),
            "filters": insights.filters.as_dict(),
            "present": dict(insights.present),
        }
    )


def _insights_from(text: str) -> Insights:
    data = json.loads(text)
    return Insights(
        weeks=tuple(date.fromisoformat(w) for w in data["weeks"]),
        series={key: tuple(values) for key, values in data["series"].items()},
        currency=str(data["currency"]),
        as_of=date.fromisoformat(data["as_of"]),
        filters=Filters(**data["filters"]),
        present={key: bool(v) for key, v in data["present"].items()},
    )


def _ask_from(asked: str, filters: Filters) -> Ask:
    as_of, since, until, weeks = asked.split(" ")
    return Ask(
        as_of=date.fromisoformat(as_of),
        weeks=int(weeks),
        since=None if since == "-" else date.fromisoformat(since),
        until=None if until == "-" else date.fromisoformat(until),
        filters=filters,
    )


__all__ = ["Answer", "Ask", "keep_answer", "kept_answer", "version_text", "view_of"]
