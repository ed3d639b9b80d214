"""Business calendars: when the business is open, so SLAs and reminders count real working time.

A :class:`BusinessCalendar` is a time zone, weekly opening intervals (several per day) and holidays.
Every other part that says "within 4 business hours", "in 2 business days" or "not at midnight"
asks a calendar, so the rules live here once:

- Opening intervals are half-open ``[start, end)`` in local wall-clock time. An instant exactly at
  a closing time is closed; :meth:`BusinessCalendar.add` may still *return* a closing instant (see
  there).
- An interval ending at midnight is written ``Interval(start, time(0))``: an end of ``00:00`` means
  24:00, the end of that day. ``Interval(time(0), time(0))`` is the whole day. An interval never
  crosses midnight: a night shift is 22:00-24:00 on one day plus 00:00-02:00 on the next, and
  :meth:`BusinessCalendar.open_intervals` joins them into one period.
- DST: an interval opens at the *first* instant the wall clock shows its start and closes at the
  *last* instant it shows its end. A wall time skipped by spring-forward maps to the transition
  instant. So 01:00-03:00 on a spring-forward night lasts 1 real hour, on a fall-back night 3, and
  09:00-17:00 is 8 hours on either day.
- Holidays are whole local dates: an explicit set, plus an optional per-year rule (a country's
  holidays, computed by an adapter and cached per year) so this module never imports a holiday
  library.
- All instants in and out are timezone-aware; results are in UTC. Naive input raises ValueError.
- Searches look at most :data:`HORIZON_DAYS` ahead; a calendar that never opens raises
  :class:`~goodwill.errors.InvalidInput` instead of looping.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from goodwill.errors import InvalidInput

__all__ = [
    "HORIZON_DAYS",
    "WEEKDAYS",
    "BusinessCalendar",
    "ContactWindow",
    "HoursError",
    "Interval",
    "always_open",
    "parse_interval",
    "weekly_hours",
]

#: How far ahead searches look (about ten years) before deciding a calendar never opens.
HORIZON_DAYS = 3660
#: Local dates whose opening spans a calendar keeps (about eleven years of them).
_SPAN_DAYS_KEPT = 4096
#: Weekday keys as written in files, in ``date.weekday()`` order (0 = Monday).
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: How far :meth:`ContactWindow.next_contact` looks before giving up.
CONTACT_HORIZON = timedelta(days=60)

_LONG_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY_NAMES = {name: i for names in (WEEKDAYS, _LONG_DAYS) for i, name in enumerate(names)}
_MIDNIGHT = time(0)
_DAY = timedelta(days=1)
_TICK = timedelta(microseconds=1)
_CLOCK = r"(\d{1,2}):(\d{2})"
_INTERVAL_TEXT = re.compile(rf"^\s*{_CLOCK}\s*[-–—]\s*{_CLOCK}\s*$")

Span = tuple[datetime, datetime]


class HoursError(ValueError):
    """Weekly hours are malformed; ``key`` names the offending entry, e.g. ``mon[1]``."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key
        self.detail = message


@dataclass(frozen=True)
class Interval:
    """One local opening interval ``[start, end)`` within a day; ``end == time(0)`` means 24:00."""

    start: time
    end: time

    def __post_init__(self) -> None:
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("interval times are local wall-clock times and carry no zone")
        if self.end != _MIDNIGHT and self.end <= self.start:
            raise ValueError(f"interval {self} ends before it starts")

    @property
    def start_offset(self) -> timedelta:
        """Time since local midnight at which the interval opens."""
        return _since_midnight(self.start)

    @property
    def end_offset(self) -> timedelta:
        """Time since local midnight at which it closes (24 hours for an end of 00:00)."""
        return _DAY if self.end == _MIDNIGHT else _since_midnight(self.end)

    def __str__(self) -> str:
        end = "24:00" if self.end == _MIDNIGHT else _clock_text(self.end)
        return f"{_clock_text(self.start)}-{end}"


def parse_interval(text: str) -> Interval:
    """Parse ``"HH:MM-HH:MM"`` (hyphen or en dash); an end of ``24:00`` or ``00:00`` is midnight.

    An interval crossing midnight (``"22:00-02:00"``) is refused rather than split: the same text
    is far more often a typo (``"13:00-12:00"``) than a night shift, and a night shift is written
    as ``22:00-24:00`` on one day and ``00:00-02:00`` on the next (they join into one period).
    Raises ValueError with a plain-words reason.
    """
    match = _INTERVAL_TEXT.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not an interval (expected e.g. '09:00-17:30')")
    sh, sm, eh, em = (int(g) for g in match.groups())
    if sm > 59 or em > 59 or sh > 23 or eh > 24 or (eh == 24 and em != 0):
        raise ValueError(f"{text!r} is not a real time of day")
    start = time(sh, sm)
    end = _MIDNIGHT if eh == 24 else time(eh, em)
    if end == start and eh != 24:
        hint = " (write '00:00-24:00' for the whole day)" if start == _MIDNIGHT else ""
        raise ValueError(f"{text!r} is empty{hint}")
    if end != _MIDNIGHT and end < start:
        raise ValueError(
            f"{text!r} ends before it starts (to cross midnight, end this day at 24:00 and "
            "start the next day at 00:00)"
        )
    return Interval(start, end)


def weekly_hours(spec: Mapping[str, Sequence[str]]) -> dict[int, tuple[Interval, ...]]:
    """Turn ``{"mon": ["09:00-12:00", "13:00-17:30"], ...}`` into hours by weekday (0 = Monday).

    Missing days are closed. Overlapping intervals on one day are refused; touching ones
    (12:00-13:00 after 09:00-12:00) are allowed. Raises :class:`HoursError` naming the key, e.g.
    ``mon[1]``, so adapters can say where in their file the problem is.
    """
    placed: dict[int, list[tuple[Interval, str, str]]] = {d: [] for d in range(7)}
    seen: dict[int, str] = {}
    for key, entries in spec.items():
        weekday = _DAY_NAMES.get(key.strip().lower()) if isinstance(key, str) else None
        if weekday is None:
            raise HoursError(str(key), f"unknown weekday (expected one of {', '.join(WEEKDAYS)})")
        if weekday in seen:
            raise HoursError(key, f"the same day as {seen[weekday]!r}; list its intervals once")
        seen[weekday] = key
        if isinstance(entries, str) or not isinstance(entries, Sequence):
            raise HoursError(key, 'expected a list of intervals such as ["09:00-17:00"]')
        for i, text in enumerate(entries):
            where = f"{key}[{i}]"
            if not isinstance(text, str):
                raise HoursError(where, f"{text!r} is not a string like '09:00-17:00'")
            try:
                placed[weekday].append((parse_interval(text), where, text))
            except ValueError as exc:
                raise HoursError(where, str(exc)) from exc
    hours: dict[int, tuple[Interval, ...]] = {}
    for weekday, items in placed.items():
        items.sort(key=lambda item: item[0].start_offset)
        for (a, a_key, a_text), (b, b_key, b_text) in pairwise(items):
            if b.start_offset < a.end_offset:
                raise HoursError(b_key, f"{b_text!r} overlaps {a_text!r} ({a_key})")
        if items:
            hours[weekday] = tuple(item[0] for item in items)
    return hours


@dataclass(frozen=True)
class BusinessCalendar:
    """Opening hours, holidays and time zone: the clock SLAs and reminders count in.

    ``hours`` maps a weekday (0 = Monday) to its intervals; missing weekdays are closed.
    ``holiday_rule``, when given, returns one year's extra holidays; it is called at most once per
    year asked about (cached), so a country's holidays cost nothing until a date needs them. Each
    local date's opening spans are worked out once too (the calendar never changes): an engine
    pass dating hundreds of follow-ups walks the same few weeks for each.
    """

    zone: ZoneInfo
    hours: Mapping[int, tuple[Interval, ...]] = field(hash=False)
    holidays: frozenset[date] = frozenset()
    name: str = ""
    holiday_rule: Callable[[int], frozenset[date]] | None = field(
        default=None, compare=False, hash=False, repr=False
    )
    _rule_years: dict[int, frozenset[date]] = field(
        default_factory=dict, init=False, compare=False, hash=False, repr=False
    )
    _spans: dict[date, tuple[Span, ...]] = field(
        default_factory=dict, init=False, compare=False, hash=False, repr=False
    )

    def __post_init__(self) -> None:
        normal: dict[int, tuple[Interval, ...]] = {}
        for weekday, intervals in self.hours.items():
            if weekday not in range(7):
                raise ValueError(f"weekday {weekday!r} is not 0 (Monday) to 6 (Sunday)")
            ordered = tuple(sorted(intervals, key=lambda iv: iv.start_offset))
            for a, b in pairwise(ordered):
                if b.start_offset < a.end_offset:
                    raise ValueError(f"{WEEKDAYS[weekday]}: {b} overlaps {a}")
            if ordered:
                normal[weekday] = ordered
        object.__setattr__(self, "hours", normal)
        object.__setattr__(self, "holidays", frozenset(self.holidays))

    # -- days ---------------------------------------------------------------------------------

    def is_holiday(self, day: date) -> bool:
        """True when ``day`` is an explicit holiday or one from the per-year rule."""
        if day in self.holidays:
            return True
        if self.holiday_rule is None:
            return False
        year = self._rule_years.get(day.year)
        if year is None:
            year = frozenset(self.holiday_rule(day.year))
            self._rule_years[day.year] = year
        return day in year

    def is_working_day(self, day: date) -> bool:
        """True when the business opens at all on local date ``day``."""
        return bool(self._day_spans(day))

    def next_open_day(self, day: date) -> date:
        """The first working day on or after ``day``."""
        self._require_hours()
        for _ in range(HORIZON_DAYS):
            if self.is_working_day(day):
                return day
            day += _DAY
        raise self._never_opens()

    # -- instants -----------------------------------------------------------------------------

    def is_open(self, instant: datetime) -> bool:
        """True when ``instant`` lies inside an opening interval (a closing instant is closed)."""
        at = _utc(instant)
        return any(True for _ in self._spans_between(at, at + _TICK))

    def next_open(self, instant: datetime) -> datetime:
        """The first open instant at or after ``instant`` (``instant`` itself when open), in UTC."""
        for start, _ in self._spans_from(_utc(instant)):
            return start
        raise self._never_opens()

    def add(self, instant: datetime, duration: timedelta) -> datetime:
        """The instant ``duration`` of business time after ``instant``, in UTC.

        Closed time (nights, weekends, holidays, breaks) does not count, so a start outside hours
        counts from the next opening. A zero duration gives :meth:`next_open`. When the time runs
        out exactly at a closing time, the result is that closing instant (17:00), not the next
        opening: a deadline "by 17:00" is met by the close of business. Consequently
        ``add(add(s, a), b) == add(s, a + b)`` whenever ``b > 0``.
        """
        at = _utc(instant)
        if duration < timedelta(0):
            raise ValueError(f"business time to add must not be negative, got {duration}")
        if not duration:
            return self.next_open(at)
        left = duration
        for start, end in self._spans_from(at):
            if left <= end - start:
                return start + left
            left -= end - start
        raise self._never_opens()

    def business_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Business time from ``a`` to ``b``; zero when ``b`` is not after ``a``."""
        start, end = _utc(a), _utc(b)
        total = timedelta(0)
        for s, e in self._spans_between(start, end):
            total += e - s
        return total

    def open_intervals(self, start: datetime, end: datetime) -> Iterator[Span]:
        """The open periods within ``[start, end)`` as UTC ``(opens, closes)`` pairs, in order.

        Periods that touch (a 00:00 opening right after a 24:00 closing, 12:00-13:00 after
        09:00-12:00) come back merged into one, so every pair is a real opening and closing.
        """
        pending: Span | None = None
        for s, e in self._spans_between(_utc(start), _utc(end)):
            if pending is not None and s <= pending[1]:
                pending = (pending[0], max(pending[1], e))
                continue
            if pending is not None:
                yield pending
            pending = (s, e)
        if pending is not None:
            yield pending

    def add_business_days(self, instant: datetime, n: int) -> datetime:
        """The same time of day ``n`` working days later, kept inside that day's hours (UTC).

        Precisely: let ``s = next_open(instant)`` (so a ticket raised on Saturday counts from
        Monday's opening) and ``d`` the ``n``-th working day after ``s``'s local date. The result
        is the first open instant on ``d`` at or after ``s``'s local time of day; if ``d`` closes
        before that time, it is ``d``'s last closing instant, so the deadline never leaves day
        ``d``. ``n == 0`` gives ``s``.
        """
        if n < 0:
            raise ValueError(f"business days to add must not be negative, got {n}")
        start = self.next_open(instant)
        if n == 0:
            return start
        local = start.astimezone(self.zone)
        day = local.date()
        for _ in range(n):
            day = self.next_open_day(day + _DAY)
        spans = self._day_spans(day)
        target = _to_utc(datetime.combine(day, local.time()), self.zone, last=False)
        for s, e in spans:
            if target < e:
                return max(s, target)
        return spans[-1][1]

    # -- the walk -------------------------------------------------------------------------------

    def _day_spans(self, day: date) -> tuple[Span, ...]:
        """The UTC spans of one local date, DST resolved; empty on holidays and closed days."""
        found = self._spans.get(day)
        if found is None:
            found = self._spans[day] = tuple(self._work_out_spans(day))
            if len(self._spans) > _SPAN_DAYS_KEPT:  # a long-running worker's years of dates
                self._spans.clear()
                self._spans[day] = found
        return found

    def _work_out_spans(self, day: date) -> list[Span]:
        intervals = self.hours.get(day.weekday(), ())
        if not intervals or self.is_holiday(day):
            return []
        spans = []
        midnight = datetime.combine(day, _MIDNIGHT)
        for interval in intervals:
            s = _to_utc(midnight + interval.start_offset, self.zone, last=False)
            e = _to_utc(midnight + interval.end_offset, self.zone, last=True)
            if s < e:
                spans.append((s, e))
        return spans

    def _walk(self, start: datetime, days: int) -> Iterator[Span]:
        """Non-overlapping spans from ``start`` on, each clipped to begin at or after ``start``.

        Begins a day early because a local day's last span can end after the next local
        midnight in zones that fall back at midnight.
        """
        day = start.astimezone(self.zone).date() - _DAY
        floor = start
        for _ in range(days):
            for s, e in self._day_spans(day):
                s = max(s, floor)
                if s < e:
                    yield s, e
                    floor = e
            day += _DAY

    def _spans_from(self, start: datetime) -> Iterator[Span]:
        self._require_hours()
        return self._walk(start, HORIZON_DAYS)

    def _spans_between(self, start: datetime, end: datetime) -> Iterator[Span]:
        if end <= start or not self.hours:
            return
        days = (end.astimezone(self.zone).date() - start.astimezone(self.zone).date()).days + 3
        for s, e in self._walk(start, days):
            if s >= end:
                return
            yield s, min(e, end)

    def _require_hours(self) -> None:
        if not self.hours:
            raise InvalidInput(f"calendar {self._label} has no opening hours", calendar=self.name)

    def _never_opens(self) -> InvalidInput:
        return InvalidInput(
            f"calendar {self._label} does not open within {HORIZON_DAYS} days",
            calendar=self.name,
        )

    @property
    def _label(self) -> str:
        return repr(self.name) if self.name else f"in {self.zone.key}"


def always_open(zone: ZoneInfo) -> BusinessCalendar:
    """A 24/7 calendar with no holidays: business time equals real time."""
    whole_day = (Interval(_MIDNIGHT, _MIDNIGHT),)
    return BusinessCalendar(zone, dict.fromkeys(range(7), whole_day), name="24/7")


@dataclass(frozen=True)
class ContactWindow:
    """When a client likes to be reached: weekly intervals in the client's own zone, no holidays."""

    zone: ZoneInfo
    hours: Mapping[int, tuple[Interval, ...]] = field(hash=False)
    _calendar: BusinessCalendar = field(init=False, compare=False, hash=False, repr=False)

    def __post_init__(self) -> None:
        calendar = BusinessCalendar(self.zone, self.hours, name="contact window")
        object.__setattr__(self, "_calendar", calendar)
        object.__setattr__(self, "hours", calendar.hours)

    @property
    def calendar(self) -> BusinessCalendar:
        """The window as a calendar without holidays, for anything else that needs one."""
        return self._calendar

    def contains(self, instant: datetime) -> bool:
        """True when ``instant`` is inside the client's window."""
        return self._calendar.is_open(instant)

    def next_contact(self, instant: datetime, *, business: BusinessCalendar) -> datetime | None:
        """The first instant at or after ``instant`` inside the window *and* business hours.

        This is when a reminder or call should happen: never at midnight, on a weekend or on a
        holiday unless both sides are open then. None when there is no such instant within
        60 days (the window and the hours never meet), in UTC otherwise.
        """
        start = _utc(instant)
        end = start + CONTACT_HORIZON
        mine = list(self._calendar.open_intervals(start, end))
        theirs = list(business.open_intervals(start, end))
        i = j = 0
        while i < len(mine) and j < len(theirs):
            (a0, a1), (b0, b1) = mine[i], theirs[j]
            if max(a0, b0) < min(a1, b1):
                return max(a0, b0)
            if a1 <= b1:
                i += 1
            else:
                j += 1
        return None


def _utc(instant: datetime) -> datetime:
    """Validate awareness and move to UTC, where datetime arithmetic is real elapsed time."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{instant.isoformat()} has no time zone; calendars need aware instants")
    return instant.astimezone(UTC)


def _to_utc(local: datetime, zone: ZoneInfo, *, last: bool) -> datetime:
    """The UTC instant of a naive local wall time, DST resolved as the module docstring says.

    Ambiguous (fall-back) times give the earlier occurrence, or the later with ``last``. Skipped
    (spring-forward) times give the transition instant, the first moment the clock reads later.
    """
    first = local.replace(tzinfo=zone, fold=0).astimezone(UTC)
    second = local.replace(tzinfo=zone, fold=1).astimezone(UTC)
    if first == second:
        return first
    if first.astimezone(zone).replace(tzinfo=None) == local:
        return max(first, second) if last else min(first, second)
    return _transition(min(first, second), max(first, second), zone)


def _transition(before: datetime, after: datetime, zone: ZoneInfo) -> datetime:
    """The first instant in ``(before, after]`` with ``after``'s UTC offset (bisection)."""
    target = after.astimezone(zone).utcoffset()
    lo, hi = before, after
    while hi - lo > _TICK:
        mid = lo + (hi - lo) // 2
        if mid.astimezone(zone).utcoffset() == target:
            hi = mid
        else:
            lo = mid
    return hi


def _since_midnight(clock: time) -> timedelta:
    return timedelta(
        hours=clock.hour, minutes=clock.minute, seconds=clock.second, microseconds=clock.microsecond
    )


def _clock_text(clock: time) -> str:
    text = clock.strftime("%H:%M")
    return text if not (clock.second or clock.microsecond) else clock.isoformat()
