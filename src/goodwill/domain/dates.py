"""Dates and instants as exports write them, read without guessing silently.

Accepted: ISO 8601 dates and date-times (with ``T`` or a space, with an offset, ``Z`` or none),
``2025/10/07``, numeric day/month dates with ``/``, ``.`` or ``-`` (``07/10/2025``, ``7.10.25``),
and month names (``7 Oct 2025``, ``October 7, 2025``), each optionally followed by a time.

Ambiguity: in a numeric date whose first two parts are both 12 or less, the order comes from the
``date_order`` setting (``dmy`` or ``mdy``). When one part is above 12 the date is unambiguous and
read correctly whatever the setting. Two-digit years mean 2000-2069 or 1970-1999.
A date-time without a zone is local time in the business's zone; the result is always UTC.

Excel serial dates (``45937``, ``45937.40972`` with the time as a fraction of the day), which a
spreadsheet writes when it re-saves a CSV, are read as dates of its 1900 system.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_MONTHS = {
    name: i
    for i, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}

_TIME = (
    r"(?:[ T](?P<time>\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)\s*(?P<ampm>[AaPp][Mm])?)?"
    r"\s*(?P<zone>Z|UTC|GMT|[+-]\d{2}:?\d{2})?"
)
_ISO = re.compile(r"^(?P<y>\d{4})[-/](?P<m>\d{1,2})[-/](?P<d>\d{1,2})" + _TIME + r"$")
_NUMERIC = re.compile(
    r"^(?P<a>\d{1,2})(?P<sep>[/.\-])(?P<b>\d{1,2})(?P=sep)(?P<y>\d{2}|\d{4})" + _TIME + r"$"
)
_DAY_NAME = re.compile(
    r"^(?P<d>\d{1,2})(?:st|nd|rd|th)?[ \-](?P<mon>[A-Za-z]+)\.?,?[ \-]"
    r"(?P<y>\d{4})" + _TIME + r"$"
)
_NAME_DAY = re.compile(
    r"^(?P<mon>[A-Za-z]+)\.? (?P<d>\d{1,2})(?:st|nd|rd|th)?,? (?P<y>\d{4})" + _TIME + r"$"
)


class DateError(ValueError):
    """The text is not a date; the message says why in plain words."""


def parse_date(text: str, *, date_order: str = "dmy") -> date:
    """A calendar date (time and zone, if written, are ignored)."""
    y, m, d, _, _ = _parts(text, date_order)
    return _date(y, m, d, text)


def parse_instant(text: str, *, zone: ZoneInfo, date_order: str = "dmy") -> datetime:
    """An aware UTC instant; a date alone, or a time without a zone, is local time in ``zone``."""
    y, m, d, clock, offset = _parts(text, date_order)
    local = datetime.combine(_date(y, m, d, text), clock)
    if offset is None:
        return local.replace(tzinfo=zone).astimezone(UTC)
    return (local - offset).replace(tzinfo=UTC)


_SERIAL = re.compile(r"^(?P<days>[1-9]\d{4})(?:\.(?P<fraction>\d+))?$")
_EXCEL_EPOCH = date(1899, 12, 30)  # serial 1 is 1900-01-01; Excel's phantom 1900-02-29 absorbs one


def _serial(match: re.Match[str]) -> tuple[int, int, int, time, timedelta | None]:
    day = _EXCEL_EPOCH + timedelta(days=int(match["days"]))
    seconds = round(float(f"0.{match['fraction'] or '0'}") * 86400)
    clock = (datetime.min + timedelta(seconds=min(seconds, 86399))).time()
    return day.year, day.month, day.day, clock, None


def _parts(text: str, date_order: str) -> tuple[int, int, int, time, timedelta | None]:
    raw = " ".join(text.strip().split())
    if not raw:
        raise DateError("empty date")
    if match := _SERIAL.match(raw):
        return _serial(match)
    if match := _ISO.match(raw):
        y, m, d = int(match["y"]), int(match["m"]), int(match["d"])
    elif match := _NUMERIC.match(raw):
        a, b = int(match["a"]), int(match["b"])
        y = _year(match["y"])
        if a > 12 >= b:
            d, m = a, b
        elif b > 12 >= a or date_order == "mdy":
            m, d = a, b
        else:
            d, m = a, b
    elif (match := _DAY_NAME.match(raw)) or (match := _NAME_DAY.match(raw)):
        month = _MONTHS.get(match["mon"].lower())
        if month is None:
            raise DateError(f"{text!r}: {match['mon']!r} is not a month")
        y, m, d = int(match["y"]), month, int(match["d"])
    else:
        raise DateError(f"{text!r} is not a date (expected e.g. 2025-10-07 or 07/10/2025)")
    return y, m, d, _clock(match["time"], match["ampm"], text), _offset(match["zone"])


def _year(text: str) -> int:
    year = int(text)
    if len(text) == 2:
        year += 2000 if year < 70 else 1900
    return year


def _date(y: int, m: int, d: int, text: str) -> date:
    try:
        return date(y, m, d)
    except ValueError as exc:
        raise DateError(f"{text!r} is not a real date ({exc})") from exc


def _clock(text: str | None, ampm: str | None, raw: str) -> time:
    if not text:
        return time()
    parts = text.replace(",", ".").split(":")
    hour, minute = int(parts[0]), int(parts[1])
    seconds = float(parts[2]) if len(parts) > 2 else 0.0
    if ampm:
        if not 1 <= hour <= 12:
            raise DateError(f"{raw!r}: hour {hour} with {ampm}")
        hour = hour % 12 + (12 if ampm.lower() == "pm" else 0)
    if hour > 23 or minute > 59 or seconds >= 60:
        raise DateError(f"{raw!r} is not a real time of day")
    whole = int(seconds)
    return time(hour, minute, whole, round((seconds - whole) * 1_000_000) % 1_000_000)


def _offset(text: str | None) -> timedelta | None:
    if text is None:
        return None
    if text in ("Z", "UTC", "GMT"):
        return timedelta(0)
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
