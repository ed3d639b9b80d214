"""SLA policies, critical windows and the rota in the words the settings pages use.

The owner reads "Clients tagged vip or on the gold tier: first answer within 2 hours, counted in
business hours", not ``tags = ["vip"]``; the words come from the parsed policies, so the page
shows what goodwill will do, whether the policies come from a file or from the page.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from goodwill.domain.rota import Rotation
from goodwill.domain.sla import CriticalWindow, Policy

__all__ = [
    "applies_words",
    "calendar_words",
    "days_words",
    "duration_words",
    "hours_words",
    "rotation_words",
    "target_words",
    "window_days_words",
]

_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def duration_words(duration: timedelta) -> str:
    """``2 hours``, ``1 hour 30 minutes``, ``45 minutes``."""
    minutes = int(duration.total_seconds()) // 60
    hours, rest = divmod(minutes, 60)
    parts = []
    if hours:
        parts.append(f"{hours} hour{'' if hours == 1 else 's'}")
    if rest or not hours:
        parts.append(f"{rest} minute{'' if rest == 1 else 's'}")
    return " ".join(parts)


def target_words(duration: timedelta | None, *, business: bool) -> str:
    """One target: ``within 2 business hours``, ``within 30 minutes``, or ``no target``."""
    if duration is None:
        return "no target"
    words = duration_words(duration)
    if business:
        number, _, unit = words.partition(" ")
        words = f"{number} business {unit}"
    return f"within {words}"


def calendar_words(policy: Policy) -> str:
    """How the policy's time is counted."""
    if policy.calendar == "24/7":
        return "Round the clock: nights, weekends and holidays count"
    return "Business hours: only the time you are open counts"


def _names(label: str, values: Iterable[str]) -> str | None:
    found = sorted(values)
    return f"{label} {', '.join(found)}" if found else None


def applies_words(policy: Policy) -> str:
    """Whom the policy is for, most specific first, as the selection works."""
    parts = [
        part
        for part in (
            _names("clients", policy.clients),
            _names("clients tagged", policy.tags),
            _names("clients on the tier", policy.tiers),
        )
        if part is not None
    ]
    if not parts:
        return "Every client no other policy names"
    text = " or ".join(parts)
    return text[0].upper() + text[1:]


def days_words(days: Iterable[int]) -> str:
    """Weekdays (0 = Monday) as ranges: ``Mon–Fri``, ``Mon, Wed, Fri``, ``Sat–Sun``."""
    chosen = sorted(set(days))
    if len(chosen) == 7:
        return "Every day"
    runs: list[list[int]] = []
    for day in chosen:
        if runs and day == runs[-1][-1] + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return ", ".join(
        _DAY_NAMES[run[0]] if len(run) == 1 else f"{_DAY_NAMES[run[0]]}–{_DAY_NAMES[run[-1]]}"
        for run in runs
    )


def window_days_words(window: CriticalWindow) -> str:
    return days_words(day for day, intervals in window.hours.items() if intervals)


def hours_words(window: CriticalWindow) -> str:
    """The window's local hours (the same each of its days) and the zone they are read in."""
    intervals = next((i for i in window.hours.values() if i), ())
    spans = ", ".join(
        f"{i.start:%H:%M}–{'24:00' if i.end.hour == 0 and i.end.minute == 0 else f'{i.end:%H:%M}'}"
        for i in intervals
    )
    zone = window.zone.key if window.zone is not None else "the client's own time zone"
    return f"{spans} ({zone})"


def rotation_words(rotation: Rotation) -> str:
    """``Turns of a week from Mon 2026-01-05 09:00: ana@…, then ben@…``."""
    every = "a week" if rotation.every == "week" else "a day"
    start = f"{_DAY_NAMES[rotation.handover.weekday()]} {rotation.handover:%Y-%m-%d %H:%M}"
    return f"Turns of {every} from {start}: {', then '.join(rotation.people)}"
