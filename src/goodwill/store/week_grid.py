"""Weeks in the business's time zone, as numbers SQLite and PostgreSQL bucket the same way.

The insights series count things per local week. Rather than ask each database to convert time
zones (they disagree), the grid spells out the range in epoch seconds and the UTC offsets in force
over it, and :class:`WeekSql` writes the few expressions the two dialects spell differently.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from goodwill.errors import InvalidInput

WEEK_S = 7 * 86400
MAX_WEEKS = 520


@dataclass(frozen=True)
class Grid:
    """The weeks as numbers the SQL can use: epoch seconds of the range, the local origin, and
    the UTC offsets in force over the range (``shifts``: (instant, offset after it))."""

    weeks: tuple[date, ...]
    start: datetime  # the first Monday's midnight, UTC
    cutoff: datetime  # the end of the as-of day (or of the last week if earlier), UTC
    start_s: int
    cutoff_s: int
    origin_s: int  # the first Monday's midnight as local wall-clock seconds
    first_offset: int
    shifts: tuple[tuple[int, int], ...]
    week_ends_s: tuple[int, ...]


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def week_grid(zone: ZoneInfo, *, first: date, last: date, as_of: date) -> Grid:
    """Weeks from the one containing ``first`` to the one containing ``last``, cut at the end of
    ``as_of`` (local midnight after it)."""
    first, last = monday(first), monday(last)
    if last < first:
        raise InvalidInput("the date range ends before it starts", field="until")
    count = (last - first).days // 7 + 1
    if count > MAX_WEEKS:
        raise InvalidInput(f"at most {MAX_WEEKS} weeks at a time", field="weeks")
    weeks = tuple(first + timedelta(weeks=k) for k in range(count))

    def instant(day: date) -> datetime:
        return datetime.combine(day, time(), zone).astimezone(UTC)

    start = instant(first)
    end = instant(last + timedelta(weeks=1))
    cutoff = min(end, instant(as_of + timedelta(days=1)))
    start_s, cutoff_s = epoch_seconds(start), epoch_seconds(cutoff)
    ends = [min(epoch_seconds(instant(w + timedelta(weeks=1))), cutoff_s) for w in weeks]
    return Grid(
        weeks=weeks,
        start=start,
        cutoff=cutoff,
        start_s=start_s,
        cutoff_s=cutoff_s,
        origin_s=calendar.timegm(first.timetuple()),
        first_offset=utc_offset(zone, start_s),
        shifts=offset_changes(zone, start_s, epoch_seconds(end)),
        week_ends_s=tuple(ends),
    )


def epoch_seconds(moment: datetime) -> int:
    return calendar.timegm(moment.astimezone(UTC).timetuple())


def utc_offset(zone: ZoneInfo, at: int) -> int:
    offset = datetime.fromtimestamp(at, zone).utcoffset()
    return int(offset.total_seconds()) if offset else 0


def offset_changes(zone: ZoneInfo, since: int, until: int) -> tuple[tuple[int, int], ...]:
    """The instants in [since, until] where the zone's UTC offset changes: a daily scan, then a
    bisection to the second."""
    out: list[tuple[int, int]] = []
    at, current = since, utc_offset(zone, since)
    while at < until:
        step = min(at + 86400, until)
        after = utc_offset(zone, step)
        if after != current:
            low, high = at, step  # offset(low) == current, offset(high) != current
            while high - low > 1:
                middle = (low + high) // 2
                if utc_offset(zone, middle) == current:
                    low = middle
                else:
                    high = middle
            out.append((high, after))
            current = after
        at = step
    return tuple(out)


def epoch_sql(column: str, *, postgres: bool) -> str:
    """Whole seconds since 1970 of a stored instant (UTC on both stores), as SQL.

    date_part gives a double where EXTRACT gives a numeric (PostgreSQL 14+), several times
    slower to compute; the double's floor is exact for instants before the year 2500.
    """
    if postgres:
        return f"CAST(FLOOR(date_part('epoch', {column})) AS BIGINT)"
    return f"CAST(strftime('%s', {column}) AS INTEGER)"


class WeekSql:
    """The dialect's spelling of the few things SQLite and PostgreSQL write differently."""

    def __init__(self, session: Session, grid: Grid) -> None:
        self.postgres = session.get_bind().dialect.name == "postgresql"
        self.grid = grid

    def epoch(self, column: str) -> str:
        """Whole seconds since 1970 of a stored instant (UTC on both stores)."""
        return epoch_sql(column, postgres=self.postgres)

    def later(self, first: str, second: str) -> str:
        """The later of two non-null instants."""
        return f"{'GREATEST' if self.postgres else 'MAX'}({first}, {second})"

    def days(self, column: str) -> str:
        """Whole days since 1970 of a stored date."""
        if self.postgres:
            return f"({column} - DATE '1970-01-01')"
        return f"CAST(julianday({column}) - 2440587.5 AS INTEGER)"

    def bucket(self, seconds: str) -> str:
        """The week number (0 = the first week) of an epoch-seconds expression; -1 before the
        range. The caller keeps values below the cutoff."""
        grid = self.grid
        offset = str(grid.first_offset)
        if grid.shifts:
            whens = " ".join(f"WHEN {seconds} < {at} THEN {before}" for at, before in self._pairs())
            offset = f"CASE {whens} ELSE {grid.shifts[-1][1]} END"
        return (
            f"CASE WHEN {seconds} < {grid.start_s} THEN -1 "
            f"ELSE ({seconds} + {offset} - {grid.origin_s}) / {WEEK_S} END"
        )

    def _pairs(self) -> list[tuple[int, int]]:
        before = self.grid.first_offset
        pairs = []
        for at, after in self.grid.shifts:
            pairs.append((at, before))
            before = after
        return pairs


__all__ = [
    "MAX_WEEKS",
    "WEEK_S",
    "Grid",
    "WeekSql",
    "epoch_seconds",
    "epoch_sql",
    "monday",
    "week_grid",
]
