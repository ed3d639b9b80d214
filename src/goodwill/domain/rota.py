"""The on-call rota: who answers when the business is closed, so every conversation has a person.

A rota has rotations (people taking turns by day or by week from a handover), overrides (someone
covers a stretch: a holiday, a swap; from the file or added on the dashboard) and a fallback
person. The file format (documented in ``docs/sla.md``)::

    timezone = "Europe/Amsterdam"
    fallback = "owner@shop.example"

    [[rotation]]
    every = "week"                     # or "day"
    handover = "2026-01-05 09:00"      # local date-time when the first person's turn begins
    people = ["ana@shop.example", "ben@shop.example"]

    [[override]]
    person = "ben@shop.example"
    from = "2026-12-24 00:00"          # local date-times; the override covers [from, until)
    until = "2026-12-27 00:00"

Who is on call: the latest-starting override covering the instant; else the first rotation (in
file order) whose handover has come; else the fallback. Turns change at the same local wall time
every day or week, so a 09:00 handover stays at 09:00 across DST. A wall time that occurs twice
(fall-back) means its first occurrence; one skipped by spring-forward means the instant the clock
jumps past it, as in :mod:`goodwill.domain.calendars`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from goodwill.domain.calendars import BusinessCalendar
from goodwill.errors import ConfigError

__all__ = [
    "Override",
    "Rota",
    "Rotation",
    "assignee_for_new",
    "covering_override",
    "parse_rota",
]

Every = Literal["day", "week"]

_PERIODS: Mapping[str, timedelta] = {"day": timedelta(days=1), "week": timedelta(weeks=1)}
_TOP_KEYS = ("timezone", "fallback", "rotation", "override")
_ROTATION_KEYS = ("every", "handover", "people")
_OVERRIDE_KEYS = ("person", "from", "until")
_TICK = timedelta(microseconds=1)

_Fail = Callable[[str, str], ConfigError]


@dataclass(frozen=True)
class Override:
    """``person`` is on call from ``starts_at`` until (not including) ``ends_at``."""

    person: str
    starts_at: datetime
    ends_at: datetime

    def covers(self, at: datetime) -> bool:
        return self.starts_at <= at < self.ends_at


@dataclass(frozen=True)
class Rotation:
    """People taking turns every day or week; ``handover`` is a naive local wall time."""

    every: Every
    handover: datetime
    people: tuple[str, ...]

    def __post_init__(self) -> None:
        if self.handover.tzinfo is not None:
            raise ValueError("a handover is a local wall time and carries no zone")
        if not self.people:
            raise ValueError("a rotation needs at least one person")

    def on_call(self, at: datetime, zone: ZoneInfo) -> str | None:
        """Whose turn it is at ``at``; None before the first handover."""
        period = _PERIODS[self.every]
        wall = at.astimezone(zone).replace(tzinfo=None)
        turn = (wall - self.handover) // period  # close; DST can put it one turn off
        while _instant(self.handover + (turn + 1) * period, zone) <= at:
            turn += 1
        while turn >= 0 and _instant(self.handover + turn * period, zone) > at:
            turn -= 1
        return self.people[turn % len(self.people)] if turn >= 0 else None


@dataclass(frozen=True)
class Rota:
    """Rotations in file order, the file's overrides and the fallback person, in ``zone``."""

    zone: ZoneInfo
    rotations: tuple[Rotation, ...] = ()
    overrides: tuple[Override, ...] = ()
    fallback: str | None = None

    def on_call(self, at: datetime, overrides: Sequence[Override] = ()) -> str | None:
        """Who is on call at ``at``, with ``overrides`` (e.g. the dashboard's) added to the file's.

        The latest-starting covering override wins (on a tie, the one listed last, so the
        dashboard's beat the file's); then the first rotation that has begun; then the fallback.
        """
        _aware(at)
        override = covering_override(at, [*self.overrides, *overrides])
        if override is not None:
            return override.person
        for rotation in self.rotations:
            person = rotation.on_call(at, self.zone)
            if person is not None:
                return person
        return self.fallback


def covering_override(at: datetime, overrides: Sequence[Override]) -> Override | None:
    """The latest-starting override covering ``at``; the later listed on equal starts."""
    best: Override | None = None
    for override in overrides:
        if override.covers(at) and (best is None or override.starts_at >= best.starts_at):
            best = override
    return best


def assignee_for_new(
    at: datetime,
    *,
    owner: str | None,
    business: BusinessCalendar,
    rota: Rota | None,
    overrides: Sequence[Override] = (),
) -> str | None:
    """Who gets a new conversation at once: the client's owner while the business is open,
    else the on-call person (rota and overrides), else the owner; None when nobody is known.

    With no rota, a covering override still decides outside hours.
    """
    if owner is not None and business.is_open(at):
        return owner
    if rota is not None:
        person = rota.on_call(at, overrides)
    else:
        override = covering_override(_aware(at), overrides)
        person = override.person if override is not None else None
    return person if person is not None else owner


# -- the file ------------------------------------------------------------------------------------


def parse_rota(data: Mapping[str, Any], *, source: str) -> Rota:
    """A validated rota from a parsed TOML mapping; ConfigError names ``source`` and the key.

    Keys are written as in the file with 0-based positions, e.g. ``rotation[0].handover``.
    """

    def fail(key: str, message: str) -> ConfigError:
        return ConfigError(f"{source}: {key}: {message}", file=source, key=key)

    unknown = sorted(set(data) - set(_TOP_KEYS))
    if unknown:
        raise fail(unknown[0], f"unknown key (expected one of {', '.join(_TOP_KEYS)})")
    zone_name = data.get("timezone")
    if not isinstance(zone_name, str) or not zone_name.strip():
        raise fail("timezone", 'missing; add e.g. timezone = "Europe/Amsterdam"')
    try:
        zone = ZoneInfo(zone_name.strip())
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise fail("timezone", f"{zone_name!r} is not a known time zone") from exc
    fallback = data.get("fallback")
    if fallback is not None and (not isinstance(fallback, str) or not fallback.strip()):
        raise fail("fallback", f"{fallback!r} is not a person (an email address)")

    rotations = []
    for i, raw in enumerate(_tables(data, "rotation", fail)):
        at = f"rotation[{i}]"
        _no_unknown(raw, _ROTATION_KEYS, at, fail)
        every = raw.get("every")
        if every not in _PERIODS:
            raise fail(f"{at}.every", f'{every!r} is not "day" or "week"')
        handover = _wall_time(raw.get("handover"), zone, f"{at}.handover", fail)
        people = raw.get("people")
        if (
            not isinstance(people, list)
            or not people
            or not all(isinstance(p, str) and p.strip() for p in people)
        ):
            raise fail(f"{at}.people", 'expected a list of people such as ["ana@shop.example"]')
        rotations.append(
            Rotation(
                "day" if every == "day" else "week", handover, tuple(p.strip() for p in people)
            )
        )

    overrides = []
    for i, raw in enumerate(_tables(data, "override", fail)):
        at = f"override[{i}]"
        _no_unknown(raw, _OVERRIDE_KEYS, at, fail)
        person = raw.get("person")
        if not isinstance(person, str) or not person.strip():
            raise fail(f"{at}.person", "missing; name who covers (an email address)")
        start = _instant(_wall_time(raw.get("from"), zone, f"{at}.from", fail), zone)
        end = _instant(_wall_time(raw.get("until"), zone, f"{at}.until", fail), zone)
        if end <= start:
            raise fail(f"{at}.until", "is not after `from`")
        overrides.append(Override(person.strip(), start, end))

    if not rotations and fallback is None:
        raise fail("rotation", "a rota needs at least one [[rotation]] or a fallback person")
    return Rota(
        zone,
        tuple(rotations),
        tuple(overrides),
        fallback.strip() if isinstance(fallback, str) else None,
    )


def _tables(data: Mapping[str, Any], key: str, fail: _Fail) -> list[Mapping[str, Any]]:
    raw = data.get(key, [])
    if not isinstance(raw, list) or not all(isinstance(item, Mapping) for item in raw):
        raise fail(key, f"expected [[{key}]] tables")
    return raw


def _no_unknown(raw: Mapping[str, Any], known: Sequence[str], at: str, fail: _Fail) -> None:
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise fail(f"{at}.{unknown[0]}", f"unknown key (expected one of {', '.join(known)})")


def _wall_time(value: object, zone: ZoneInfo, key: str, fail: _Fail) -> datetime:
    """A naive local wall time from ``"2026-01-05 09:00"`` or a TOML date-time."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError as exc:
            raise fail(key, f"{value!r} is not a local date-time like '2026-01-05 09:00'") from exc
    if not isinstance(value, datetime):
        raise fail(key, f"{value!r} is not a local date-time like '2026-01-05 09:00'")
    if value.tzinfo is not None:
        return value.astimezone(zone).replace(tzinfo=None)
    return value


def _aware(at: datetime) -> datetime:
    if at.utcoffset() is None:
        raise ValueError(f"{at.isoformat()} has no time zone; the rota needs aware instants")
    return at


def _instant(wall: datetime, zone: ZoneInfo) -> datetime:
    """The UTC instant of a local wall time: the first of two, or the jump past a skipped one."""
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    second = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    if first == second or first.astimezone(zone).replace(tzinfo=None) == wall:
        return min(first, second)
    # Skipped: find the first instant after the gap opens (bisection to the microsecond).
    lo, hi = min(first, second), max(first, second)
    after = hi.astimezone(zone).utcoffset()
    while hi - lo > _TICK:
        mid = lo + (hi - lo) // 2
        if mid.astimezone(zone).utcoffset() == after:
            hi = mid
        else:
            lo = mid
    return hi
