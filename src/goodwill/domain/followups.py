"""When a follow-up is due, in the client's frame: their time zone, their contact window, the
business's hours and holidays. A reminder at midnight or on a Sunday is a bug, not a feature."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from goodwill.domain.calendars import BusinessCalendar, ContactWindow
from goodwill.domain.playbooks import Due
from goodwill.domain.records import upcoming_birthday


@dataclass(frozen=True)
class ClientFrame:
    """What due rules need to know about the client."""

    zone: ZoneInfo
    window: ContactWindow | None = None
    birthday: tuple[int, int] | None = None  # (day, month)


def due_at(
    due: Due, *, base: datetime, business: BusinessCalendar, client: ClientFrame
) -> datetime:
    """The instant the follow-up is due (UTC), counting from ``base`` (when the event happened).

    - ``N business days`` / ``N business hours``: the business calendar (holidays skipped).
    - ``N days`` / ``N hours``: wall-clock, then moved to the next business opening if it falls
      when the business is closed.
    - ``next contact window``: the first instant inside the client's window while the business
      is open; without a window (or when the two never meet), the next business opening.
    - ``birthday week monday``: the business opening on the Monday of the week of the client's
      next birthday (or, when that Monday has passed, the next opening).
    """
    if due.kind == "business_days":
        return business.add_business_days(base, math.ceil(due.amount))
    if due.kind == "business_hours":
        return business.add(base, timedelta(hours=due.amount))
    if due.kind in ("days", "hours"):
        step = timedelta(days=due.amount) if due.kind == "days" else timedelta(hours=due.amount)
        return business.next_open(base + step)
    if due.kind == "next_contact_window":
        found = client.window.next_contact(base, business=business) if client.window else None
        return found or business.next_open(base)
    if due.kind == "birthday_week_monday":
        if client.birthday is None:
            return business.next_open(base)
        local = base.astimezone(client.zone).date()
        birthday = upcoming_birthday(*client.birthday, today=local - timedelta(days=6))
        monday = birthday - timedelta(days=birthday.weekday())
        start = max(monday, local)
        return business.next_open(_midnight(start, client.zone))
    raise ValueError(f"unknown due rule {due.kind!r}")


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time()).replace(tzinfo=zone)
