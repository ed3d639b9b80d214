"""What staff learn about a client, checked before it is kept: facts, notes and interactions.

A **fact** has a kind (:data:`FACT_KINDS`), a short text and, for the dated kinds, the day it is
about: a wedding, a launch, a move, someone's birthday. On that day the engine turns it into a
``client.life_event`` touch point (:func:`occurrence` says which day that is); birthdays and
anniversaries come back every year, the others once. An **interaction** is a call, a visit, a
service or repair, or a meeting, with a short text and an outcome; a **note** is free text that
may be pinned to the top of the client's page.

Every check raises :class:`~goodwill.errors.InvalidInput` naming the field, before anything is
written, so a refused input changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from goodwill.domain.dates import DateError, parse_date
from goodwill.errors import InvalidInput

__all__ = [
    "CATCH_UP_DAYS",
    "DATED_KINDS",
    "DATE_REQUIRED",
    "FACT_KINDS",
    "FACT_SOURCES",
    "INTERACTION_KINDS",
    "OUTCOME_MAX",
    "QUOTE_MAX",
    "RECURRING_KINDS",
    "TEXT_MAX",
    "FactInput",
    "InteractionInput",
    "check_fact",
    "check_interaction",
    "check_note",
    "check_version",
    "fact_label",
    "occurrence",
    "parse_day",
]

#: Every kind of fact, with what it holds (the forms and the docs show these words).
FACT_KINDS: dict[str, str] = {
    "birthday": "Birthday (someone's: a partner, a child; with the date)",
    "anniversary": "Anniversary (a wedding, the business's founding; with the date)",
    "family": "Family event (a wedding, a birth; with the date when known)",
    "event": "Event (a launch, a move, an exam; with the date)",
    "hometown": "Hometown",
    "school": "School",
    "interest": "Interest",
    "value": "What they value",
    "sensitivity": "Sensitivity (never call before 10, hates phone calls)",
    "note": "Note",
}
#: Kinds that may carry the day they are about.
DATED_KINDS = frozenset({"birthday", "anniversary", "family", "event"})
#: Dated kinds that mean nothing without their day.
DATE_REQUIRED = frozenset({"birthday", "anniversary", "event"})
#: Dated kinds that come back every year on the same day.
RECURRING_KINDS = frozenset({"birthday", "anniversary"})
#: Where a fact was learned (``staff``: typed on the client page with no other source).
FACT_SOURCES = (
    "staff",
    "conversation",
    "call",
    "visit",
    "meeting",
    "feedback",
    "followup",
    "import",
)
#: What a person may log as having happened with a client (each a ``service.interaction``).
INTERACTION_KINDS = ("call", "visit", "service", "meeting")
#: The longest fact text: a sentence or two, not a letter.
TEXT_MAX = 1000
#: The longest note, call summary or quote.
NOTE_MAX = 5000
QUOTE_MAX = 2000
#: The longest outcome (the column's width).
OUTCOME_MAX = 500
#: A dated fact whose day the engine missed (it did not run) is still caught up this long after.
CATCH_UP_DAYS = 7


@dataclass(frozen=True)
class FactInput:
    """A fact as it will be stored: kind known, text trimmed, day present only where it belongs."""

    kind: str
    text: str
    on_date: date | None
    source: str = "staff"
    quote: str | None = None


@dataclass(frozen=True)
class InteractionInput:
    kind: str
    text: str
    outcome: str | None


def fact_label(kind: str) -> str:
    """The short name of a kind for a page ("Family event")."""
    return FACT_KINDS.get(kind, kind.capitalize()).split(" (")[0]


def parse_day(value: str | date | None, *, field: str = "on_date") -> date | None:
    """A day from a form, the API or the CLI (2027-06-12, 12/06/2027); blank is no day."""
    if value is None or isinstance(value, date):
        return value
    if not value.strip():
        return None
    try:
        return parse_date(value)
    except DateError as exc:
        raise InvalidInput(
            f"{field}: {value.strip()[:40]!r} is not a date ({exc})", field=field
        ) from None


def _text(value: str | None, *, field: str, limit: int, required: bool = True) -> str | None:
    cleaned = (value or "").strip()
    if not cleaned:
        if required:
            raise InvalidInput(f"{field}: write something", field=field)
        return None
    if len(cleaned) > limit:
        raise InvalidInput(
            f"{field}: {len(cleaned)} characters is too long (at most {limit})", field=field
        )
    if any(ord(ch) < 32 and ch not in "\n\r\t" for ch in cleaned):
        raise InvalidInput(f"{field}: control characters are not text", field=field)
    return cleaned


def check_fact(
    kind: str,
    text: str | None,
    on_date: str | date | None = None,
    *,
    source: str = "staff",
    quote: str | None = None,
) -> FactInput:
    """A fact ready to store, or InvalidInput naming ``kind``, ``text``, ``on_date``, ``source``
    or ``quote``. A date on a kind that carries none is refused rather than dropped."""
    kind = (kind or "").strip().lower()
    if kind not in FACT_KINDS:
        raise InvalidInput(
            f"kind: {kind[:40]!r} is not a kind of fact (one of {', '.join(FACT_KINDS)})",
            field="kind",
        )
    cleaned = _text(text, field="text", limit=TEXT_MAX)
    assert cleaned is not None
    day = parse_day(on_date, field="on_date")
    if day is None and kind in DATE_REQUIRED:
        raise InvalidInput(f"on_date: a {fact_label(kind).lower()} needs its date", field="on_date")
    if day is not None and kind not in DATED_KINDS:
        raise InvalidInput(
            f"on_date: a {fact_label(kind).lower()} has no date "
            f"(dated kinds: {', '.join(sorted(DATED_KINDS))})",
            field="on_date",
        )
    if source not in FACT_SOURCES:
        raise InvalidInput(
            f"source: {source[:40]!r} is not a source (one of {', '.join(FACT_SOURCES)})",
            field="source",
        )
    said = _text(quote, field="quote", limit=QUOTE_MAX, required=False)
    return FactInput(kind=kind, text=cleaned, on_date=day, source=source, quote=said)


def check_interaction(kind: str, text: str | None, outcome: str | None = None) -> InteractionInput:
    """A call, visit, service or meeting ready to log, or InvalidInput naming the field."""
    kind = (kind or "").strip().lower()
    if kind not in INTERACTION_KINDS:
        raise InvalidInput(
            f"kind: {kind[:40]!r} is not something to log (one of {', '.join(INTERACTION_KINDS)})",
            field="kind",
        )
    cleaned = _text(text, field="text", limit=NOTE_MAX)
    assert cleaned is not None
    return InteractionInput(
        kind=kind,
        text=cleaned,
        outcome=_text(outcome, field="outcome", limit=OUTCOME_MAX, required=False),
    )


def check_note(text: str | None) -> str:
    """A note's text, or InvalidInput naming ``text``."""
    cleaned = _text(text, field="text", limit=NOTE_MAX)
    assert cleaned is not None
    return cleaned


def check_version(value: object, *, field: str = "version") -> int:
    """The version an edit was made on: a whole number from 1."""
    try:
        number = int(str(value).strip())
    except ValueError:
        raise InvalidInput(
            f"{field}: {str(value)[:20]!r} is not a version number", field=field
        ) from None
    if number < 1:
        raise InvalidInput(f"{field}: versions start at 1", field=field)
    return number


def occurrence(
    kind: str, on_date: date | None, *, today: date, catch_up: int = CATCH_UP_DAYS
) -> date | None:
    """The day a dated fact comes, when that is today or within ``catch_up`` days before.

    Birthdays and anniversaries come every year (29 February on 28 February in other years)
    but never before the date itself; the other kinds come once, on their day. None when the
    fact has no day or its day is not now.
    """
    if on_date is None or kind not in DATED_KINDS:
        return None
    candidates = [on_date]
    if kind in RECURRING_KINDS:
        candidates = [_in_year(on_date, year) for year in (today.year, today.year - 1)]
    for day in candidates:
        if on_date <= day <= today and today - day <= timedelta(days=catch_up):
            return day
    return None


def _in_year(day: date, year: int) -> date:
    try:
        return day.replace(year=year)
    except ValueError:
        return date(year, 2, 28)
