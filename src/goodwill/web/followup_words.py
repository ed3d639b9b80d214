"""Follow-ups put into words for people: when they are due, why they exist, how to do them.

Times are shown in the business's time zone and relative to the app's clock ("2 days overdue",
"today 14:00", "Thu 09:00"), because that is how a list for today is read.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from goodwill.domain.touchpoints import TOUCH_POINTS
from goodwill.errors import InvalidInput

CHANNELS = {
    "call": "Call",
    "email": "Email",
    "note": "Note",
    "visit": "Visit",
    "postcard": "Postcard",
}
#: The form value of <input type="datetime-local">: a wall-clock time in the business's zone.
LOCAL_FORMAT = "%Y-%m-%dT%H:%M"
_PAYLOAD_NOTE = re.compile(r"\s*\(payload:.*\)\s*$", re.DOTALL)


def due_label(due: datetime, *, now: datetime, zone: ZoneInfo) -> str:
    """How far away ``due`` is, for a list read today: overdue by days, else day and time."""
    local, today = due.astimezone(zone), now.astimezone(zone).date()
    clock = f"{local:%H:%M}"
    if due < now:
        days = (today - local.date()).days
        if days <= 0:
            return f"overdue since {clock}"
        return f"{days} day{'s' if days != 1 else ''} overdue"
    ahead = (local.date() - today).days
    if ahead == 0:
        return f"today {clock}"
    if ahead == 1:
        return f"tomorrow {clock}"
    if ahead < 7:
        return f"{local:%a} {clock}"
    year = f" {local.year}" if local.year != today.year else ""
    return f"{local:%a} {local.day} {local:%b}{year} {clock}"


def exact_time(due: datetime, *, zone: ZoneInfo) -> str:
    """The full local time, for a tooltip next to the relative one."""
    return f"{due.astimezone(zone):%Y-%m-%d %H:%M} ({zone.key})"


def event_words(event_type: str) -> str:
    """A touch-point type in plain words ("a regular client missed their usual purchase")."""
    described = TOUCH_POINTS.get(event_type)
    if described is None:
        return event_type.replace(".", " ").replace("_", " ")
    return _PAYLOAD_NOTE.sub("", described)


def reason_words(reason: str) -> str:
    return reason.replace("-", " ").replace("_", " ")


def channel_label(channel: str) -> str:
    return CHANNELS.get(channel, channel.capitalize())


def snooze_picks(*, now: datetime, zone: ZoneInfo) -> list[tuple[str, str]]:
    """The quick choices for snoozing: tomorrow 09:00 and next Monday 09:00, as form values."""
    today = now.astimezone(zone).date()
    monday = today + timedelta(days=7 - today.weekday())
    return [
        ("Tomorrow 09:00", _local_value(today + timedelta(days=1))),
        ("Next week", _local_value(monday)),
    ]


def _local_value(day: date) -> str:
    return datetime.combine(day, time(9)).strftime(LOCAL_FORMAT)


def parse_local(value: str, *, zone: ZoneInfo, field: str) -> datetime:
    """A form's date-time: with an offset as given, without one in the business's zone."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(f"{value!r} is not a date and time", field=field) from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=zone)
