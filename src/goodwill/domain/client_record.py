"""Who the client is, as staff type it: every field of the record read and checked, with no I/O.

One reader serves the page, the API and the command line, so a value is refused with the same
words everywhere. Input is a mapping of field name to what was typed: a key left out stays as it
is, an empty value clears the field (the name cannot be cleared). Every problem is collected, so
a form can show each message next to its field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from goodwill.domain.contact_windows import parse_contact_window
from goodwill.domain.dates import DateError, parse_date, parse_instant
from goodwill.domain.identifiers import IdentifierError, normalize_email, normalize_phone

#: Ways a client likes to be reached.
CHANNELS = ("email", "phone", "sms", "post", "visit")
#: Marketing consent in words, and what is stored (None: not known).
CONSENT: dict[str, bool | None] = {"given": True, "withdrawn": False, "unknown": None}

#: Fields staff may change (``clients.write``): how to reach the client.
CONTACT_DETAILS = frozenset(
    {
        "email",
        "other_emails",
        "phone",
        "other_phones",
        "street",
        "postcode",
        "city",
        "region",
        "country",
        "timezone",
        "contact_window",
        "preferred_channel",
        "language",
    }
)
#: Fields only owners and managers change (``clients.manage``).
MANAGED = frozenset(
    {
        "name",
        "company",
        "external_id",
        "birthday",
        "hometown",
        "client_since",
        "partner",
        "owner",
        "marketing_consent",
        "consent_at",
        "consent_how",
    }
)
FIELDS = CONTACT_DETAILS | MANAGED
#: A contact at a business client.
CONTACT_FIELDS = ("name", "email", "phone", "role", "birthday")

#: Longest text each free field holds (the column sizes).
_SIZES = {
    "name": 300,
    "company": 300,
    "external_id": 200,
    "street": 300,
    "postcode": 20,
    "city": 200,
    "region": 200,
    "hometown": 200,
    "partner": 200,
    "owner": 320,
    "consent_how": 200,
    "role": 100,
    "contact_window": 300,
}
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")
_NO_YEAR = re.compile(r"^(?:--)?(\d{1,2})-?(\d{2})$")
#: Most other addresses or numbers one client keeps.
MAX_OTHERS = 20


@dataclass(frozen=True)
class Reading:
    """What reading a value needs: the business's country for phones without a country code,
    its zone and date order for dates, and today (a client is not a client since tomorrow)."""

    today: date
    zone: ZoneInfo
    region: str | None = None
    date_order: str = "dmy"


class RecordError(ValueError):
    """One or more fields are wrong; ``errors`` maps each field to what is wrong with it."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        field, message = next(iter(self.errors.items()))
        super().__init__(f"{field}: {message}")

    @property
    def field(self) -> str:
        return next(iter(self.errors))


@dataclass(frozen=True)
class Author:
    """Who wrote a change, as events name them: ``by`` a display name, ``by_id`` the staff id."""

    name: str
    id: int | None = None

    def payload(self) -> dict[str, Any]:
        return {"by": self.name, "by_id": self.id}


def read_record(typed: Mapping[str, Any], reading: Reading, *, creating: bool) -> dict[str, Any]:
    """The typed fields as stored values (see the module docstring); RecordError otherwise.

    ``birthday`` becomes (day, month, year or None); ``marketing_consent`` True, False or None;
    ``other_emails`` and ``other_phones`` lists without the primary one and without repeats.
    """
    out = _read_all(typed, FIELDS, reading, creating=creating, what="client")
    if out.get("email") and out.get("other_emails"):
        out["other_emails"] = [e for e in out["other_emails"] if e != out["email"]]
    if out.get("phone") and out.get("other_phones"):
        out["other_phones"] = [p for p in out["other_phones"] if p != out["phone"]]
    return out


def read_contact(typed: Mapping[str, Any], reading: Reading, *, creating: bool) -> dict[str, Any]:
    """A contact's fields as stored values; RecordError naming each wrong field."""
    return _read_all(typed, frozenset(CONTACT_FIELDS), reading, creating=creating, what="contact")


def _read_all(
    typed: Mapping[str, Any],
    allowed: frozenset[str],
    reading: Reading,
    *,
    creating: bool,
    what: str,
) -> dict[str, Any]:
    """Every field read, every problem collected; a name is needed when one is made."""
    unknown = sorted(set(typed) - allowed)
    if unknown:
        raise RecordError({unknown[0]: f"is not a field of a {what}"})
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    for field, value in typed.items():
        try:
            out[field] = _read(field, value, reading, typed)
        except (ValueError, TypeError) as exc:
            errors[field] = str(exc)
    if ("name" in out and out["name"] is None) or (creating and not out.get("name")):
        errors.setdefault("name", f"a {what} needs a name")
    if errors:
        raise RecordError(errors)
    return out


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError("must be text")
    cleaned = " ".join(value.split())
    return cleaned or None


def _read(field: str, value: Any, reading: Reading, typed: Mapping[str, Any]) -> Any:
    if field in ("other_emails", "other_phones"):
        return _others(field, value, reading)
    if field == "marketing_consent":
        return _consent(value)
    text = _text(value)
    if text is None:
        return None
    size = _SIZES.get(field)
    if size is not None and len(text) > size:
        raise ValueError(f"is longer than {size} characters")
    if field == "email":
        return _identifier(normalize_email, text)
    if field == "phone":
        return _identifier(lambda t: normalize_phone(t, reading.region), text)
    if field == "country":
        code = text.upper()
        if not _COUNTRY.match(code):
            raise ValueError(f"{text!r} is not a two-letter country code such as NL or US")
        return code
    if field == "language":
        if not _LANGUAGE.match(text) or len(text) > 35:
            raise ValueError(f"{text!r} is not a language tag such as nl, en or pt-BR")
        return text
    if field == "preferred_channel":
        if text.lower() not in CHANNELS:
            raise ValueError(f"{text!r} is not a channel: one of {', '.join(CHANNELS)}")
        return text.lower()
    if field == "timezone":
        return _zone(text).key
    if field == "contact_window":
        zone_text = _text(typed.get("timezone"))
        zone = reading.zone
        if zone_text:
            with suppress(ValueError):  # the time zone's own error names it
                zone = _zone(zone_text)
        parse_contact_window(text, zone)
        return text
    if field == "birthday":
        return read_birthday(text, reading.date_order, today=reading.today)
    if field == "client_since":
        return _since(text, reading)
    if field == "consent_at":
        try:
            when = parse_instant(text, zone=reading.zone, date_order=reading.date_order)
        except DateError as exc:
            raise ValueError(str(exc)) from exc
        if when.date() > reading.today:
            raise ValueError(f"{text!r} is in the future")
        return when
    return text


def _identifier(read: Any, text: str) -> str:
    try:
        return str(read(text))
    except IdentifierError as exc:
        raise ValueError(str(exc)) from exc


def _others(field: str, value: Any, reading: Reading) -> list[str]:
    if value is None:
        return []
    items: Iterable[Any]
    if isinstance(value, str):
        items = re.split(r"[\n,;]+", value)
    elif isinstance(value, list | tuple):
        items = value
    else:
        raise TypeError("must be a list")
    out: list[str] = []
    for item in items:
        text = _text(item)
        if text is None:
            continue
        if field == "other_emails":
            found = _identifier(normalize_email, text)
        else:
            found = _identifier(lambda t: normalize_phone(t, reading.region), text)
        if found not in out:
            out.append(found)
    if len(out) > MAX_OTHERS:
        raise ValueError(f"keep at most {MAX_OTHERS}")
    return out


def _consent(value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if not isinstance(value, str):
        raise TypeError("must be given, withdrawn or unknown")
    text = value.strip().lower()
    if text == "":
        return None
    if text not in CONSENT:
        raise ValueError(f"{value.strip()!r} is not given, withdrawn or unknown")
    return CONSENT[text]


def _zone(text: str) -> ZoneInfo:
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"{text!r} is not a time zone such as Europe/Amsterdam") from exc


def _since(text: str, reading: Reading) -> date:
    try:
        day = parse_date(text, date_order=reading.date_order)
    except DateError as exc:
        raise ValueError(str(exc)) from exc
    if day > reading.today:
        raise ValueError(f"{text!r} is in the future")
    return day


def read_birthday(text: str, date_order: str, *, today: date) -> tuple[int, int, int | None]:
    """Day and month, and the year when known: ``1980-06-12``, ``12 June 1980``, ``--06-12``
    (ISO and vCard without a year: month first), ``06-12``."""
    text = text.strip()
    if match := _NO_YEAR.fullmatch(text):
        month, day = int(match[1]), int(match[2])
        year: int | None = None
    else:
        try:
            found = parse_date(text, date_order=date_order)
        except DateError as exc:
            raise ValueError(str(exc)) from exc
        day, month, year = found.day, found.month, found.year
        if found > today:
            raise ValueError(f"{text!r} is in the future")
    try:
        date(2000, month, day)  # a leap year: 29 February is a real birthday
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a real day of the year") from exc
    return day, month, year


def birthday_text(day: int | None, month: int | None, year: int | None) -> str | None:
    """A birthday as the forms and the API write it: ``1980-06-12``, or ``--06-12``."""
    if not day or not month:
        return None
    return f"{year:04d}-{month:02d}-{day:02d}" if year else f"--{month:02d}-{day:02d}"


def consent_word(value: bool | None) -> str:
    return "given" if value else "withdrawn" if value is False else "unknown"


def restricted(fields: Iterable[str]) -> list[str]:
    """The fields among ``fields`` only owners and managers may change, sorted."""
    return sorted(set(fields) & MANAGED)


def instant_text(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
