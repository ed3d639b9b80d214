"""SLA policies and the response clock: how long the business may take to answer a client.

A policy sets a first-response target (nobody has answered yet) and a next-response target (the
client wrote again after an answer), counted either in business hours of the business calendar or
in calendar hours (24/7). Policies apply by client id, tag or tier; a **critical window** is a
client's own weekly window (story 7: "a fast answer between 8 and 10 each weekday") with a
tighter target in real time. The file format (documented in ``docs/sla.md``)::

    warn_at = 0.75                  # warn at this fraction of the target (default 0.75)

    [[policy]]
    name = "gold"
    tiers = ["gold"]                # any of tiers / tags / clients; none = the default policy
    tags = ["vip"]
    clients = ["C-1042"]            # client ids as in the imported files
    calendar = "business"           # "business" (default) or "24/7" (calendar hours)
    first_response = "2h"           # "90m", "2h", "1h30m", "1d" (1d = 24h of the calendar's time)
    next_response = "4h"

    [[critical_window]]
    client = "C-1042"
    days = "mon-fri"                # or "mon,wed,fri", "sat-sun"
    hours = "08:00-10:00"           # local time in `timezone`
    timezone = "America/Chicago"    # default: the client's own zone, else the business's
    first_response = "30m"          # counted in calendar hours (real time)
    next_response = "30m"

Selection: a policy naming the client beats one matching a tag, which beats one matching the
tier, which beats the default (a policy with no selectors); ties go to the earlier policy; no
match means no SLA. A critical window applies when the message arrives inside it and its target
gives an earlier due instant than the policy's (or there is no policy target at all).

The :class:`Clock` pauses while the conversation waits on the client: time used so far is kept
as business time of the target's calendar, and the remaining time is added from the resumption,
so nights, weekends, holidays and DST are counted by :meth:`BusinessCalendar.add`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from goodwill.domain.calendars import (
    WEEKDAYS,
    BusinessCalendar,
    ContactWindow,
    HoursError,
    Interval,
    always_open,
    weekly_hours,
)
from goodwill.domain.zone_names import zone_named
from goodwill.errors import ConfigError

__all__ = [
    "DEFAULT_WARN_FRACTION",
    "ClientFacts",
    "Clock",
    "ClockState",
    "CriticalWindow",
    "Kind",
    "Policy",
    "SlaPolicies",
    "Target",
    "parse_days",
    "parse_duration",
    "parse_policies",
]

#: Warn when this fraction of the target is used, unless the file says otherwise.
DEFAULT_WARN_FRACTION = 0.75

Kind = Literal["first", "next"]
ClockState = Literal["ok", "warning", "breached", "paused"]
CalendarName = Literal["business", "24/7"]

_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?$")
_TOP_KEYS = ("warn_at", "policy", "critical_window")
_POLICY_KEYS = ("name", "tiers", "tags", "clients", "calendar", "first_response", "next_response")
_WINDOW_KEYS = ("client", "days", "hours", "timezone", "first_response", "next_response")
_CALENDARS: tuple[CalendarName, ...] = ("business", "24/7")


def parse_duration(text: str) -> timedelta:
    """``"90m"``, ``"2h"``, ``"1h30m"``, ``"1d"`` (24 hours): a positive whole number of minutes.

    Raises ValueError with the accepted forms.
    """
    cleaned = "".join(text.lower().split())
    match = _DURATION.match(cleaned)
    if not cleaned or match is None:
        raise ValueError(f"{text!r} is not a duration (e.g. '30m', '2h', '1h30m', '1d')")
    days, hours, minutes = (int(g) if g else 0 for g in match.groups())
    duration = timedelta(days=days, hours=hours, minutes=minutes)
    if duration <= timedelta(0):
        raise ValueError(f"{text!r} is zero; a response target must be longer than that")
    return duration


def parse_days(text: str) -> frozenset[int]:
    """Weekdays (0 = Monday) from ``"mon-fri"``, ``"mon,wed,fri"`` or ``"fri-mon"`` (wraps)."""
    days: set[int] = set()
    for part in text.lower().split(","):
        first, _, last = (p.strip() for p in part.partition("-"))
        if first not in WEEKDAYS or (last and last not in WEEKDAYS):
            raise ValueError(
                f"{part.strip()!r} is not a day or range of days (days are {', '.join(WEEKDAYS)})"
            )
        i, j = WEEKDAYS.index(first), WEEKDAYS.index(last or first)
        days.update(range(i, j + 1) if i <= j else [*range(i, 7), *range(0, j + 1)])
    return frozenset(days)


@dataclass(frozen=True)
class ClientFacts:
    """What policy selection needs to know about the client who wrote."""

    client_id: str | None
    tier: str | None = None
    tags: frozenset[str] = frozenset()
    timezone: str | None = None


@dataclass(frozen=True)
class Target:
    """One response target in force: how long, counted on which calendar, and when to warn."""

    policy: str
    kind: Kind
    duration: timedelta
    calendar: BusinessCalendar
    critical: bool
    warn_fraction: float = DEFAULT_WARN_FRACTION

    def due_from(self, start: datetime) -> datetime:
        """The due instant of a clock started at ``start`` that never pauses (UTC)."""
        return self.calendar.add(start, self.duration)


@dataclass(frozen=True)
class Policy:
    """Response targets and whom they apply to; no tiers, tags or clients = the default."""

    name: str
    first_response: timedelta | None
    next_response: timedelta | None
    calendar: CalendarName = "business"
    tiers: frozenset[str] = frozenset()
    tags: frozenset[str] = frozenset()
    clients: frozenset[str] = frozenset()

    def target(self, kind: Kind) -> timedelta | None:
        return self.first_response if kind == "first" else self.next_response

    def rank(self, client: ClientFacts) -> int | None:
        """How specifically the policy matches: 0 by client id, 1 tag, 2 tier, 3 default."""
        if client.client_id is not None and client.client_id.strip() in self.clients:
            return 0
        if self.tags & {t.casefold() for t in client.tags}:
            return 1
        if client.tier is not None and client.tier.casefold() in self.tiers:
            return 2
        if not (self.tiers or self.tags or self.clients):
            return 3
        return None


@dataclass(frozen=True)
class CriticalWindow:
    """A client's weekly window with tighter targets, counted in real time.

    ``zone`` None means the client's own zone, else the business's.
    """

    client: str
    hours: Mapping[int, tuple[Interval, ...]]
    first_response: timedelta | None
    next_response: timedelta | None
    zone: ZoneInfo | None = None

    def target(self, kind: Kind) -> timedelta | None:
        return self.first_response if kind == "first" else self.next_response

    def contains(self, instant: datetime, zone: ZoneInfo) -> bool:
        """True when ``instant`` falls inside the window, read in ``zone``."""
        return ContactWindow(zone, self.hours).contains(instant)


@dataclass(frozen=True)
class SlaPolicies:
    """A validated policy file: the policies in file order, critical windows and the warn point."""

    policies: tuple[Policy, ...]
    windows: tuple[CriticalWindow, ...] = ()
    warn_fraction: float = DEFAULT_WARN_FRACTION

    def policy_for(self, client: ClientFacts) -> Policy | None:
        """The most specific matching policy (client > tag > tier > default), earliest on ties."""
        best: tuple[int, Policy] | None = None
        for policy in self.policies:
            rank = policy.rank(client)
            if rank is not None and (best is None or rank < best[0]):
                best = (rank, policy)
        return best[1] if best else None

    def target_for(
        self,
        client: ClientFacts,
        kind: Kind,
        received: datetime,
        *,
        business: BusinessCalendar,
    ) -> Target | None:
        """The target for a message ``received`` from ``client``; None when no SLA applies.

        Inside one of the client's critical windows, the window's target (in 24/7 time) wins
        when its due instant is strictly earlier than the policy's; several windows covering
        the instant give the earliest due instant.
        """
        policy = self.policy_for(client)
        best: Target | None = None
        best_due: datetime | None = None
        if policy is not None and (duration := policy.target(kind)) is not None:
            calendar = business if policy.calendar == "business" else always_open(business.zone)
            best = Target(policy.name, kind, duration, calendar, False, self.warn_fraction)
            best_due = best.due_from(received)
        client_id = (client.client_id or "").strip()
        own_zone = zone_named(client.timezone) if client.timezone else None
        for window in self.windows:
            duration = window.target(kind)
            if window.client != client_id or duration is None:
                continue
            zone = window.zone or own_zone or business.zone
            if not window.contains(received, zone):
                continue
            candidate = Target(
                policy.name if policy is not None else "critical window",
                kind,
                duration,
                always_open(zone),
                True,
                self.warn_fraction,
            )
            due = candidate.due_from(received)
            if best_due is None or due < best_due:
                best, best_due = candidate, due
        return best


@dataclass(frozen=True)
class Clock:
    """A response clock that pauses while waiting on the client.

    ``elapsed`` is the business time used before the current run; ``running_since`` is when the
    current run began, None while paused. The target is breached when the used time reaches the
    duration and in warning from ``warn_fraction`` of it. Instants are aware; results are UTC.
    """

    target: Target
    started_at: datetime
    elapsed: timedelta = timedelta(0)
    running_since: datetime | None = None

    def __post_init__(self) -> None:
        for name in ("started_at", "running_since"):
            value = getattr(self, name)
            if value is not None and value.utcoffset() is None:
                raise ValueError(f"{name} {value.isoformat()} has no time zone")
        if self.elapsed < timedelta(0):
            raise ValueError(f"elapsed time must not be negative, got {self.elapsed}")

    @classmethod
    def start(cls, target: Target, at: datetime) -> Clock:
        """A fresh clock running from ``at``."""
        return cls(target=target, started_at=at, elapsed=timedelta(0), running_since=at)

    def due_at(self) -> datetime | None:
        """When the target is breached if nothing pauses it; None while paused.

        A clock that had already run out before a pause is due at its resumption.
        """
        return self._reaches(self.target.duration)

    def warn_at(self) -> datetime | None:
        """When ``warn_fraction`` of the target is used; None while paused."""
        return self._reaches(self.target.duration * self.target.warn_fraction)

    def pause(self, at: datetime) -> Clock:
        """Stop the clock at ``at`` (waiting on the client), keeping the time used so far."""
        if self.running_since is None:
            return self
        return replace(self, elapsed=self.used(at), running_since=None)

    def resume(self, at: datetime) -> Clock:
        """Run the clock again from ``at`` (the client answered); a running clock is unchanged."""
        if self.running_since is not None:
            return self
        return replace(self, running_since=at)

    def used(self, at: datetime) -> timedelta:
        """Business time of the target's calendar used up to ``at``."""
        if self.running_since is None:
            return self.elapsed
        return self.elapsed + self.target.calendar.business_time_between(self.running_since, at)

    def state(self, at: datetime) -> ClockState:
        """``paused`` while waiting on the client, else ok / warning / breached at ``at``."""
        if self.running_since is None:
            return "paused"
        used = self.used(at)
        if used >= self.target.duration:
            return "breached"
        if used >= self.target.duration * self.target.warn_fraction:
            return "warning"
        return "ok"

    def _reaches(self, amount: timedelta) -> datetime | None:
        """The instant the used time reaches ``amount``; the resumption if it already had."""
        if self.running_since is None:
            return None
        left = amount - self.elapsed
        if left <= timedelta(0):
            return self.running_since.astimezone(UTC)
        return self.target.calendar.add(self.running_since, left)


# -- the file ------------------------------------------------------------------------------------


class _Where:
    def __init__(self, source: str) -> None:
        self.source = source

    def error(self, key: str, message: str) -> ConfigError:
        return ConfigError(f"{self.source}: {key}: {message}", file=self.source, key=key)


def parse_policies(data: Mapping[str, Any], *, source: str) -> SlaPolicies:
    """Validated policies from a parsed TOML mapping; ConfigError names ``source`` and the key.

    Keys are written as in the file with 0-based positions, e.g. ``policy[1].first_response``.
    """
    where = _Where(source)
    _no_unknown(data, _TOP_KEYS, "", where)
    warn = data.get("warn_at", DEFAULT_WARN_FRACTION)
    if isinstance(warn, bool) or not isinstance(warn, int | float) or not 0 < warn < 1:
        raise where.error("warn_at", f"{warn!r} is not a fraction between 0 and 1 (e.g. 0.75)")
    policies = tuple(
        _policy(raw, f"policy[{i}]", where) for i, raw in enumerate(_tables(data, "policy", where))
    )
    seen: dict[str, str] = {}
    for i, policy in enumerate(policies):
        key = f"policy[{i}].name"
        if policy.name in seen:
            raise where.error(key, f"{policy.name!r} is already the name of {seen[policy.name]}")
        seen[policy.name] = f"policy[{i}]"
    windows = tuple(
        _window(raw, f"critical_window[{i}]", where)
        for i, raw in enumerate(_tables(data, "critical_window", where))
    )
    return SlaPolicies(policies, windows, float(warn))


def _tables(data: Mapping[str, Any], key: str, where: _Where) -> list[Mapping[str, Any]]:
    raw = data.get(key, [])
    if not isinstance(raw, list) or not all(isinstance(item, Mapping) for item in raw):
        raise where.error(key, f"expected [[{key}]] tables")
    return raw


def _no_unknown(raw: Mapping[str, Any], known: Sequence[str], prefix: str, where: _Where) -> None:
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise where.error(prefix + unknown[0], f"unknown key (expected one of {', '.join(known)})")


def _policy(raw: Mapping[str, Any], at: str, where: _Where) -> Policy:
    _no_unknown(raw, _POLICY_KEYS, f"{at}.", where)
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise where.error(f"{at}.name", 'missing; give every policy a name (name = "gold")')
    calendar = raw.get("calendar", "business")
    if calendar not in _CALENDARS:
        raise where.error(f"{at}.calendar", f'{calendar!r} is not "business" or "24/7"')
    first, following = _targets(raw, at, where)
    selectors = {
        key: frozenset(
            s.strip() if key == "clients" else s.strip().casefold()
            for s in _strings(raw, key, at, where)
        )
        for key in ("tiers", "tags", "clients")
    }
    return Policy(
        name.strip(),
        first,
        following,
        "24/7" if calendar == "24/7" else "business",
        tiers=selectors["tiers"],
        tags=selectors["tags"],
        clients=selectors["clients"],
    )


def _window(raw: Mapping[str, Any], at: str, where: _Where) -> CriticalWindow:
    _no_unknown(raw, _WINDOW_KEYS, f"{at}.", where)
    client = raw.get("client")
    if not isinstance(client, str) or not client.strip():
        raise where.error(f"{at}.client", 'missing; name the client id (client = "C-1042")')
    days_text = raw.get("days")
    if not isinstance(days_text, str):
        raise where.error(f"{at}.days", 'missing; write days such as days = "mon-fri"')
    try:
        days = parse_days(days_text)
    except ValueError as exc:
        raise where.error(f"{at}.days", str(exc)) from exc
    hours_raw = raw.get("hours")
    if isinstance(hours_raw, str):
        intervals = [part.strip() for part in hours_raw.split(",")]
    elif isinstance(hours_raw, list) and all(isinstance(h, str) for h in hours_raw) and hours_raw:
        intervals = list(hours_raw)
    else:
        raise where.error(f"{at}.hours", 'missing; write local times such as "08:00-10:00"')
    try:
        hours = weekly_hours({WEEKDAYS[day]: intervals for day in sorted(days)})
    except HoursError as exc:
        raise where.error(f"{at}.hours", exc.detail) from exc
    zone: ZoneInfo | None = None
    if "timezone" in raw:
        zone = _zone(raw["timezone"], f"{at}.timezone", where)
    first, following = _targets(raw, at, where)
    return CriticalWindow(client.strip(), hours, first, following, zone)


def _targets(
    raw: Mapping[str, Any], at: str, where: _Where
) -> tuple[timedelta | None, timedelta | None]:
    found: list[timedelta | None] = []
    for key in ("first_response", "next_response"):
        value = raw.get(key)
        if value is None:
            found.append(None)
            continue
        if not isinstance(value, str):
            raise where.error(f"{at}.{key}", f'{value!r} is not a duration such as "2h" or "30m"')
        try:
            found.append(parse_duration(value))
        except ValueError as exc:
            raise where.error(f"{at}.{key}", str(exc)) from exc
    if found == [None, None]:
        raise where.error(
            f"{at}.first_response", "missing; give first_response, next_response or both"
        )
    return found[0], found[1]


def _strings(raw: Mapping[str, Any], key: str, at: str, where: _Where) -> list[str]:
    value = raw.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise where.error(
            f"{at}.{key}", f'expected a list of names such as ["gold"], got {value!r}'
        )
    return list(value)


def _zone(value: object, key: str, where: _Where) -> ZoneInfo:
    problem = where.error(key, f"{value!r} is not a known time zone (e.g. 'America/Chicago')")
    if not isinstance(value, str) or not value.strip():
        raise problem
    try:
        return ZoneInfo(value.strip())
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise problem from exc
