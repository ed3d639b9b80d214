"""What a new business says first (its name, time zone, currency, country), checked, and written
as the lines of ``goodwill.toml`` that hold it.

Settings live in the TOML file, read once when goodwill starts, so the setup page does not write
the file: it shows these lines, says where the file is, and asks for a restart. That keeps one
source of truth (the file, which a deployment may keep in version control or mount read-only)
and never half-rewrites a file someone edits by hand.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holiday_library

from goodwill.engine.configuration import DEFAULT_HOURS
from goodwill.settings import Settings, business_country, default_config_path

_CURRENCY = re.compile(r"[A-Z]{3}")


@dataclass(frozen=True)
class FirstSettings:
    business_name: str
    timezone: str
    currency: str
    country: str  # "" when the owner names none (no public holidays are closed)


def current(settings: Settings) -> FirstSettings:
    """What the running settings say, to start the form from."""
    return FirstSettings(
        business_name=settings.business_name or "",
        timezone=settings.timezone,
        currency=settings.currency or "",
        country=business_country(settings) or "",
    )


def check_first_settings(
    *, business_name: str, timezone: str, currency: str, country: str
) -> tuple[FirstSettings, dict[str, str]]:
    """The values tidied, and a sentence for each field that is wrong (empty when all are right)."""
    given = FirstSettings(
        business_name=" ".join(business_name.split()),
        timezone=timezone.strip(),
        currency=currency.strip().upper(),
        country=country.strip().upper(),
    )
    problems: dict[str, str] = {}
    if not given.business_name:
        problems["business_name"] = "Write the business's name as clients know it."
    try:
        ZoneInfo(given.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        problems["timezone"] = (
            f"{given.timezone or 'An empty name'} is not a time zone; write it as "
            "Region/City, e.g. Europe/Amsterdam or America/Denver."
        )
    if not _CURRENCY.fullmatch(given.currency):
        problems["currency"] = "Write the currency as its three-letter code, e.g. EUR, USD, GBP."
    if given.country and given.country not in holiday_library.list_supported_countries():
        problems["country"] = (
            f"{given.country} is not a country code goodwill knows holidays for; write the "
            "two-letter code (NL, US, GB) or leave it empty."
        )
    return given, problems


def settings_file(settings: Settings) -> Path:
    """The file goodwill reads its settings from (it may not exist yet)."""
    return settings.config_path or default_config_path()


def toml_lines(first: FirstSettings, settings: Settings) -> str:
    """The lines to put in the settings file for ``first``.

    The country goes in the ``[calendar]`` table, which then needs the opening hours too (a
    calendar without hours is closed all week): the hours in force are repeated, or the default
    Monday to Friday 09:00-17:00. A calendar kept in a file of its own is not touched.
    """
    lines = [
        f"business_name = {_quoted(first.business_name)}",
        f"timezone = {_quoted(first.timezone)}",
        f"currency = {_quoted(first.currency)}",
    ]
    if not first.country or isinstance(settings.calendar, Path):
        return "\n".join(lines) + "\n"
    calendar: Mapping[str, object] = settings.calendar or {}
    hours = calendar.get("hours") if isinstance(calendar.get("hours"), Mapping) else None
    lines += ["", "[calendar]", f"country = {_quoted(first.country)}"]
    for key in ("subdivision", "holidays", "name", "timezone"):
        if key in calendar:
            lines.append(f"{key} = {json.dumps(calendar[key], ensure_ascii=False, default=str)}")
    lines += ["", "[calendar.hours]  # your opening hours; a day not listed is closed"]
    week = hours if isinstance(hours, Mapping) else DEFAULT_HOURS
    for day, intervals in week.items():
        lines.append(f"{day} = {json.dumps(list(intervals), ensure_ascii=False)}")
    return "\n".join(lines) + "\n"


def _quoted(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(text, ensure_ascii=False)
