"""A client's deadline pulled from their own words: "my flight leaves at 3pm tomorrow".

dateparser finds the dates; this module decides which of them is a deadline. It reads the text
relative to the message's time in the business's zone, prefers dates in the future (a weekday
named alone is the next one), drops what dateparser reads too eagerly ("we" as Wednesday, "for
12 years" as a date twelve years ahead, "3 weeks ago") and returns the earliest instant after the
message. A day named without a time ("Saturday") is a deadline only when the words say it is one
("by Saturday", "need it on Saturday"; not "I can bring it in on Saturday"), and is taken at its
start, the safe side for a deadline. The domain receives only the instant (recovery stays free
of parsing libraries).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from dateparser.search import search_dates  # type: ignore[import-untyped]

#: Words that make a match a time; without one (or a digit) a match is a false friend ("we").
_TIME_WORDS = re.compile(
    r"\b(today|tonight|tomorrow|noon|midday|midnight|morning|afternoon|evening|week|weekend"
    r"|monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b",
    re.IGNORECASE,
)
#: A bare amount of time ("12 years") is a deadline only after "in" or "within".
_DURATION = re.compile(
    r"^\s*(\d+|an?|one|two|three|four|five|six|seven|eight|nine|ten|twelve)\s+"
    r"(minute|hour|day|week|month|year)s?\s*$",
    re.IGNORECASE,
)
_BEFORE_DURATION = re.compile(r"\b(in|within)\s*$", re.IGNORECASE)
#: A day named without a time ("on Saturday") is a deadline only when the words before it say
#: so: "by Saturday", "before Friday", "need it on Saturday", "the wedding is on Saturday". In
#: "I can bring it in on Saturday" or "I ordered it on Monday" it is a day mentioned in passing.
_DAYS = {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "weekend"}
_DAY_NAME = re.compile(r"\b(?:" + "|".join(sorted(_DAYS)) + r")\b", re.IGNORECASE)
_DAY_CUE = re.compile(
    r"(?:\b(?:(?<!come )(?<!drop )(?<!stop )(?<!pop )by|before|due|latest"
    r"|no later than|in time for|for|deadline(?: is)?"
    r"|needs?|needed|want(?:s|ed)?|has to|have to|must"
    r"|(?:need(?:s|ed)?|want(?:s|ed)?|have|get)\s+(?:[\w'-]+\s+){0,3}?(?:on|for|by|before)"
    r"|(?:is|are|was|were|'s)\s+(?:on|this|next)"
    r"|(?:leaves?|leaving|departs?|starts?|opens?|closes?|begins?|ends?)(?:\s+on)?))"
    r"(?:\s+(?:this|next|coming|the))*\s*$",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"[.!?\n]")
_AGO = re.compile(r"\b(ago|yesterday|last)\b", re.IGNORECASE)
#: "tonight at 8", "at 2 this afternoon": dateparser reads the hour as morning; say pm.
_EVENING_HOUR = (
    re.compile(
        r"\b(?:tonight|this evening)\s+at\s+(\d{1,2})(?::(\d{2}))?(?!\s*(?::|\d|[ap]\.?m\b))",
        re.IGNORECASE,
    ),
    re.compile(
        r"\bat\s+(\d{1,2})(?::(\d{2}))?\s+(?:tonight|this evening|this afternoon)\b",
        re.IGNORECASE,
    ),
)


def deadline_from(text: str, *, reference: datetime, zone: ZoneInfo) -> datetime | None:
    """The earliest future instant the text names, aware in ``zone``; None when it names none.

    ``reference`` is when the client wrote (aware); relative words count from it in ``zone``.
    """
    if reference.tzinfo is None:
        raise ValueError("reference must be timezone-aware")
    local = reference.astimezone(zone).replace(tzinfo=None)
    prepared = _evening_hours(text.replace("\u2019", "'"))
    found = search_dates(
        prepared,
        languages=["en"],
        settings={
            "RELATIVE_BASE": local,
            "PREFER_DATES_FROM": "future",
            "RETURN_AS_TIMEZONE_AWARE": False,
        },
    )
    instants: list[datetime] = []
    position = 0
    for phrase, when in found or []:
        start = prepared.find(phrase, position)
        before = prepared[:start] if start >= 0 else ""
        position = max(position, start + len(phrase)) if start >= 0 else position
        if not _is_deadline(phrase, before) or not _day_said_as_deadline(phrase, before):
            continue
        instant = when.replace(tzinfo=zone)
        if instant.astimezone(UTC) > reference.astimezone(UTC):
            instants.append(instant)
    return min(instants, default=None)


def _is_deadline(phrase: str, before: str) -> bool:
    if _AGO.search(phrase):
        return False
    if not (any(ch.isdigit() for ch in phrase) or _TIME_WORDS.search(phrase)):
        return False
    return not (_DURATION.match(phrase) and not _BEFORE_DURATION.search(before))


def _day_said_as_deadline(phrase: str, before: str) -> bool:
    """False for a day named in passing; True for any other phrase (times, "tomorrow")."""
    words = {w.lower() for w in _TIME_WORDS.findall(phrase)}
    day = _DAY_NAME.search(phrase)
    if day is None or any(ch.isdigit() for ch in phrase) or words - _DAYS:
        return True
    said = before + phrase[: day.start()]
    clause = _SENTENCE_END.split(said)[-1]
    return bool(_DAY_CUE.search(clause))


def _evening_hours(text: str) -> str:
    def pm(match: re.Match[str]) -> str:
        hour, minute = int(match.group(1)), match.group(2) or "00"
        if not 1 <= hour <= 11:
            return match.group(0)
        return f"today at {hour}:{minute}pm"

    for pattern in _EVENING_HOUR:
        text = pattern.sub(pm, text)
    return text


__all__ = ["deadline_from"]
