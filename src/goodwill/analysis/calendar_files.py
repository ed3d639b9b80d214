"""Business calendars read from TOML files, with a country's holidays from the ``holidays`` package.

This is the adapter around :mod:`goodwill.domain.calendars`: it reads the file, validates every key
(errors name the file and the key, e.g. ``hours.mon[1]``), and turns ``country``/``subdivision``
into a per-year holiday rule so the domain stays free of the holiday library. The format is
documented in ``docs/calendars.md``::

    timezone = "America/Denver"
    holidays = ["2026-12-25", "2027-01-01"]
    country = "US"
    subdivision = "CO"
    [hours]
    mon = ["09:00-12:00", "13:00-17:30"]
    tue = ["09:00-17:00"]
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holiday_library

from goodwill.domain.calendars import BusinessCalendar, HoursError, weekly_hours
from goodwill.errors import ConfigError, InvalidInput

__all__ = ["KEYS", "add_hours_command", "calendar_from_mapping", "load_calendar"]

#: Every top-level key of a calendar file, with what it means (the docs list the same keys).
KEYS: Mapping[str, str] = {
    "name": "a label for messages and the UI",
    "timezone": "IANA time zone the hours are written in (required)",
    "hours": "table of weekday -> list of 'HH:MM-HH:MM'; missing days are closed",
    "holidays": "list of extra closed dates (ISO 8601)",
    "country": "ISO 3166 country code whose public holidays are closed",
    "subdivision": "state, province or region code within the country",
}


def load_calendar(path: Path) -> BusinessCalendar:
    """Read and validate a calendar file; ConfigError names the file and the key on any problem."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        message = f"{path}: cannot read calendar file ({exc.strerror})"
        raise ConfigError(message, file=str(path)) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})", file=str(path)) from exc
    return calendar_from_mapping(data, source=str(path))


def calendar_from_mapping(data: Mapping[str, object], *, source: str) -> BusinessCalendar:
    """Build a calendar from already-parsed TOML; ``source`` names it in error messages."""

    def fail(key: str, message: str) -> ConfigError:
        return ConfigError(f"{source}: {key}: {message}", file=source, key=key)

    unknown = sorted(set(data) - set(KEYS))
    if unknown:
        raise fail(unknown[0], f"unknown key (expected one of {', '.join(KEYS)})")

    name = data.get("name", "")
    if not isinstance(name, str):
        raise fail("name", f"{name!r} is not a string")

    zone_name = data.get("timezone")
    if zone_name is None:
        raise fail("timezone", 'missing; add e.g. timezone = "America/Denver"')
    zone = _zone(zone_name, fail)

    raw_hours = data.get("hours", {})
    if not isinstance(raw_hours, Mapping):
        raise fail("hours", 'expected a table such as [hours] mon = ["09:00-17:00"]')
    try:
        hours = weekly_hours(raw_hours)
    except HoursError as exc:
        detail = exc.detail
        if exc.key in KEYS:  # TOML puts every key after [hours] inside that table
            detail = "is a top-level key; move it above the [hours] table"
        raise fail(f"hours.{exc.key}", detail) from exc

    explicit = _dates(data.get("holidays", []), fail)
    rule = _country_rule(data.get("country"), data.get("subdivision"), fail)
    return BusinessCalendar(zone, hours, explicit, name=name, holiday_rule=rule)


def add_hours_command(calendar_file: Path, start: str, hours: float) -> str:
    """What ``goodwill calendar add`` prints: ``start`` plus ``hours`` business hours.

    ``start`` is ISO 8601; without an offset it is local time in the calendar's zone. The result
    is ISO 8601 with the offset, in the calendar's zone. Example:
    ``goodwill calendar add --calendar office.toml --start 2026-03-07T23:59 --hours 4``.
    """
    calendar = load_calendar(calendar_file)
    try:
        instant = datetime.fromisoformat(start)
    except ValueError as exc:
        raise InvalidInput(
            f"--start: {start!r} is not an ISO 8601 date-time", field="start"
        ) from exc
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=calendar.zone)
    if not math.isfinite(hours) or hours < 0:
        raise InvalidInput(f"--hours: {hours} is not a non-negative number", field="hours")
    result = calendar.add(instant, timedelta(hours=hours))
    return result.astimezone(calendar.zone).isoformat()


def _zone(value: object, fail: Callable[[str, str], ConfigError]) -> ZoneInfo:
    if not isinstance(value, str) or not value.strip():
        raise fail("timezone", f"{value!r} is not a time zone name")
    try:
        return ZoneInfo(value.strip())
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise fail(
            "timezone", f"{value!r} is not a known time zone (e.g. 'Europe/Amsterdam')"
        ) from exc


def _dates(value: object, fail: Callable[[str, str], ConfigError]) -> frozenset[date]:
    if not isinstance(value, list):
        raise fail("holidays", 'expected a list of dates such as ["2026-12-25"]')
    days: set[date] = set()
    for i, item in enumerate(value):
        # TOML has its own date literal (holidays = [2026-12-25]); a date-time is not a day.
        if isinstance(item, date) and not isinstance(item, datetime):
            days.add(item)
            continue
        try:
            if not isinstance(item, str):
                raise ValueError
            days.add(date.fromisoformat(item.strip()))
        except ValueError as exc:
            raise fail(f"holidays[{i}]", f"{item!r} is not a date like '2026-12-25'") from exc
    return frozenset(days)


def _country_rule(
    country: object, subdivision: object, fail: Callable[[str, str], ConfigError]
) -> Callable[[int], frozenset[date]] | None:
    """A per-year holiday rule for the country, checked now so a typo fails at load time."""
    if country is None:
        if subdivision is not None:
            raise fail("subdivision", 'needs a country (e.g. country = "US")')
        return None
    if not isinstance(country, str) or not country.strip():
        raise fail("country", f"{country!r} is not a country code")
    if subdivision is not None and (not isinstance(subdivision, str) or not subdivision.strip()):
        raise fail("subdivision", f"{subdivision!r} is not a subdivision code")
    code = country.strip().upper()
    subdiv = subdivision.strip() if isinstance(subdivision, str) else None
    try:
        holiday_library.country_holidays(code, subdiv=subdiv)
    except NotImplementedError as exc:
        key = "country" if code not in holiday_library.list_supported_countries() else "subdivision"
        raise fail(key, f"not supported by the holidays package ({exc})") from exc

    def rule(year: int) -> frozenset[date]:
        return frozenset(holiday_library.country_holidays(code, subdiv=subdiv, years=year))

    return rule
