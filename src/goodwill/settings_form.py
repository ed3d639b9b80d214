"""The settings page's fields: what each is called, how a typed answer becomes the value the
file would hold, and which section it sits in. No I/O: the page (web/pages/settings.py) reads
and saves through actions/page_settings.py.

A field left empty is not set on the page: the file's value or the default applies.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from goodwill.analysis.calendar_files import calendar_from_mapping
from goodwill.domain.trades import KIND_NAMES
from goodwill.errors import ConfigError
from goodwill.setting_tables import WEEKDAYS
from goodwill.settings import Settings

Kind = Literal["text", "whole", "number", "choice", "yes_no", "list", "tiers", "hours", "dates"]

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = dict(
    zip(
        DAYS,
        ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
        strict=True,
    )
)


@dataclass(frozen=True)
class Field:
    dotted: str  # where the value sits in the file: "timezone", "digest.hour", "calendar.hours.mon"
    label: str
    kind: Kind = "text"
    hint: str = ""
    choices: tuple[tuple[str, str], ...] = ()

    @property
    def name(self) -> str:
        """The form field's name (dots are awkward in ids and CSS)."""
        return self.dotted.replace(".", "__")

    @property
    def key(self) -> str:
        return self.dotted.split(".", 1)[0]


@dataclass(frozen=True)
class Section:
    slug: str
    title: str
    intro: str
    fields: tuple[Field, ...]


SECTIONS: tuple[Section, ...] = (
    Section(
        "business",
        "Your business",
        "What clients know you by, and the trade whose words goodwill speaks.",
        (
            Field("business_name", "Business name", hint="As clients know it."),
            Field(
                "business_kind",
                "Kind of business",
                "choice",
                "Chooses the recovery options, the words and the examples.",
                tuple(KIND_NAMES.items()),
            ),
            Field("timezone", "Time zone", hint="As Region/City, e.g. Europe/Amsterdam."),
            Field(
                "currency",
                "Currency",
                hint="Three letters, e.g. EUR. Amounts without one are read in it.",
            ),
            Field(
                "date_order",
                "Dates are written",
                "choice",
                "How a date like 03/04 in an imported file is read.",
                (("dmy", "day first (31/12)"), ("mdy", "month first (12/31)")),
            ),
            Field(
                "public_url",
                "Address of goodwill on the web",
                hint="e.g. https://care.example.com; needed for unsubscribe links.",
            ),
        ),
    ),
    Section(
        "hours",
        "Opening hours and holidays",
        "When you are open: follow-ups fall due and automated mail leaves only then.",
        (
            *(
                Field(
                    f"calendar.hours.{day}",
                    DAY_NAMES[day],
                    "hours",
                    # said once, under Monday, for the whole week
                    "e.g. 09:00-17:00, or 09:00-12:30, 13:30-18:00; empty is closed."
                    if day == "mon"
                    else "",
                )
                for day in DAYS
            ),
            Field(
                "calendar.country",
                "Country",
                hint="Two letters, e.g. NL: its public holidays are closed.",
            ),
            Field(
                "calendar.subdivision",
                "Region",
                hint="State or province code, if holidays differ by region (e.g. BY).",
            ),
            Field(
                "calendar.holidays",
                "Other closed days",
                "dates",
                "Dates like 2026-12-24, separated by commas or lines.",
            ),
        ),
    ),
    Section(
        "clients",
        "Clients",
        "How goodwill sorts clients and reads their rhythm.",
        (
            Field(
                "tiers",
                "Tiers",
                "tiers",
                'One per line, "name amount": clients whose '
                "spend reaches the amount are in the tier, e.g. gold 5000.",
            ),
            Field(
                "former_after_days",
                "Former client after (days)",
                "whole",
                "Days without a purchase after which a client counts as former.",
            ),
            Field(
                "cadence.level",
                "Rhythm certainty",
                "number",
                "From 0.5 to 0.99: how sure goodwill must be a regular purchase is missed "
                "before it says so (higher: fewer, later alerts).",
            ),
            Field(
                "cadence.min_purchases",
                "Purchases before a rhythm",
                "whole",
                "How many purchases a client needs before goodwill learns their rhythm.",
            ),
        ),
    ),
    Section(
        "people",
        "Who answers",
        "The owner gets escalations; the person on call gets new leads.",
        (
            Field("owner", "Owner", "choice", "Default: the first owner account."),
            Field("on_call", "On call for new leads", "choice", "Default: the owner."),
        ),
    ),
    Section(
        "digest",
        "Weekly digest",
        "A short mail with the week's figures.",
        (
            Field("digest.enabled", "Send the weekly digest", "yes_no"),
            Field(
                "digest.weekday",
                "On",
                "choice",
                choices=tuple((day, day.capitalize()) for day in WEEKDAYS),
            ),
            Field("digest.hour", "At (hour, 0-23)", "whole"),
            Field("digest.to", "To", "list", "Addresses, separated by commas; default: the owner."),
        ),
    ),
    Section(
        "listening",
        "Listening",
        "Who counts as a new or a long-term client when themes are compared.",
        (
            Field("feedback.new_years", "New clients: first (years)", "number"),
            Field("feedback.long_term_years", "Long-term clients: after (years)", "number"),
            Field("feedback.link_days", "A question's link works for (days)", "whole"),
        ),
    ),
    Section(
        "recovery",
        "Incidents",
        "When several clients report the same thing, it is one failure to fix, not many.",
        (
            Field("recovery.systemic_count", "Same failure reported by (clients)", "whole"),
            Field("recovery.systemic_days", "Within (days)", "whole"),
        ),
    ),
    Section(
        "privacy",
        "Privacy",
        "How long mail is kept as it arrived (the messages themselves stay).",
        (Field("privacy.raw_mail_days", "Keep raw mail for (days)", "whole", "0 keeps it."),),
    ),
)

SECTION_BY_SLUG = {section.slug: section for section in SECTIONS}


def _pick(*dotted: str) -> tuple[Field, ...]:
    every = {field.dotted: field for section in SECTIONS for field in section.fields}
    return tuple(every[name] for name in dotted)


#: What a new business says first (/setup/business): the rest can wait for the settings page.
FIRST_RUN = Section(
    "first-run",
    "Your business",
    'Dates, hours and figures follow from this: "today" is today in your time zone, amounts '
    "without a currency are read in yours, and your country's public holidays are closed days.",
    _pick(
        "business_name",
        "business_kind",
        "timezone",
        "currency",
        "calendar.country",
        *(f"calendar.hours.{day}" for day in DAYS),
    ),
)
_SPLIT = re.compile(r"[,\n;]+")


def lookup(table: Mapping[str, Any], dotted: str) -> Any:
    """The value at ``dotted`` in a nested table, or None."""
    value: Any = table
    for part in dotted.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def in_force(settings: Settings, field: Field) -> Any:
    """The value goodwill uses now, in the file's shape."""
    head, _, rest = field.dotted.partition(".")
    value = getattr(settings, head)
    if head == "calendar" and value is None:
        value = {}
    if field.dotted.startswith("calendar.hours.") and not lookup(value or {}, "hours"):
        from goodwill.engine.configuration import DEFAULT_HOURS

        value = {**(value or {}), "hours": DEFAULT_HOURS}
    return lookup(value, rest) if rest else value


def shown(field: Field, value: Any) -> str:
    """A value as the form shows it."""
    if value is None:
        return ""
    if field.kind == "yes_no":
        return "yes" if value else ""
    if field.kind in ("list", "dates", "hours"):
        return ", ".join(str(item) for item in value)
    if field.kind == "tiers":
        return "\n".join(f"{name} {amount}" for name, amount in dict(value).items())
    return str(value)


def read(field: Field, answer: str) -> Any:
    """The typed answer as the file would hold it; None for "not set here"; ConfigError (keyed
    by the field) when it cannot be read at all. Range checks are the settings' own."""
    text = answer.strip()
    if field.kind == "yes_no":
        return text in ("yes", "on", "true", "1")
    if not text:
        return [] if field.kind == "hours" else None
    if field.kind == "whole":
        if not re.fullmatch(r"-?\d+", text):
            raise _wrong(field, f"{text!r} is not a whole number")
        return int(text)
    if field.kind == "number":
        try:
            return float(text.replace(",", "."))
        except ValueError:
            raise _wrong(field, f"{text!r} is not a number") from None
    if field.kind in ("list", "hours", "dates"):
        return [part.strip() for part in _SPLIT.split(text) if part.strip()]
    if field.kind == "tiers":
        return _tiers(field, text)
    if field.dotted in ("currency", "calendar.country", "calendar.subdivision"):
        return text.upper()
    return " ".join(text.split()) if field.dotted == "business_name" else text


def _tiers(field: Field, text: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        match = re.fullmatch(r"\s*([\w -]+?)\s*[:= ]\s*([\d_.,]+)\s*", line)
        if match is None:
            raise _wrong(field, f'line {number}: write a name and an amount, e.g. "gold 5000"')
        amount = match.group(2).replace("_", "").replace(",", "")
        try:
            out[match.group(1).strip().lower()] = int(float(amount))
        except ValueError:
            raise _wrong(field, f"line {number}: {match.group(2)!r} is not an amount") from None
    return out


def _wrong(field: Field, message: str) -> ConfigError:
    return ConfigError(f"{field.label}: {message}", key=field.dotted)


def place(page: Mapping[str, Any], field: Field, value: Any) -> dict[str, Any]:
    """``page`` with ``value`` at the field's place (None removes it, and empty tables with it)."""
    out: dict[str, Any] = _copy(page)
    parts = field.dotted.split(".")
    table = out
    for part in parts[:-1]:
        table = table.setdefault(part, {})
    if value is None:
        table.pop(parts[-1], None)
    else:
        table[parts[-1]] = value
    for depth in range(len(parts) - 1, 0, -1):
        inner = lookup(out, ".".join(parts[:depth]))
        if inner == {}:
            parent = lookup(out, ".".join(parts[: depth - 1])) if depth > 1 else out
            parent.pop(parts[depth - 1], None)
    return out


def _copy(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return list(value)
    return value


def check_calendar(calendar: Mapping[str, Any] | None, timezone: str) -> None:
    """Opening hours, holidays and country checked as a calendar file's are; the error's key
    is the field's (``calendar.hours.mon``)."""
    if not calendar:
        return
    data = {**calendar, "timezone": timezone}
    try:
        calendar_from_mapping(data, source="settings page")
    except ConfigError as exc:
        key = str(exc.fields.get("key") or "")
        head = re.sub(r"\[\d+\]$", "", key)
        raise ConfigError(exc.message, key=f"calendar.{head}" if head else "calendar") from exc
