"""A client's contact window written as text: ``"mon-fri 08:00-10:00; sat 10:00-12:00"``."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from goodwill.domain.calendars import ContactWindow, HoursError, weekly_hours

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_PART = re.compile(
    r"^(?P<days>[a-z]{3}(?:-[a-z]{3})?(?:,[a-z]{3}(?:-[a-z]{3})?)*)\s+"
    r"(?P<times>\d{1,2}:\d{2}-\d{1,2}:\d{2}(?:,\d{1,2}:\d{2}-\d{1,2}:\d{2})*)$"
)


def parse_contact_window(text: str, zone: ZoneInfo) -> ContactWindow:
    """``"mon-fri 08:00-10:00; sat 10:00-12:00"``: days (ranges or lists) and local times.

    Raises ValueError saying which part is wrong.
    """
    spec: dict[str, list[str]] = {}
    for part in (p.strip().lower() for p in text.split(";")):
        if not part:
            continue
        match = _PART.match(" ".join(part.split()))
        if match is None:
            raise ValueError(f"{part!r}: expected days and times, e.g. 'mon-fri 08:00-10:00'")
        for days in match["days"].split(","):
            first, _, last = days.partition("-")
            if first not in _DAYS or (last and last not in _DAYS):
                raise ValueError(f"{days!r}: days are mon, tue, wed, thu, fri, sat, sun")
            i, j = _DAYS.index(first), _DAYS.index(last or first)
            for k in range(i, j + 1) if i <= j else [*range(i, 7), *range(0, j + 1)]:
                spec.setdefault(_DAYS[k], []).extend(match["times"].split(","))
    if not spec:
        raise ValueError("an empty contact window")
    try:
        return ContactWindow(zone, weekly_hours(spec))
    except HoursError as exc:
        raise ValueError(str(exc)) from exc
