"""``as_utc``: every way an instant comes back from a store reads as the same aware UTC time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from goodwill.store.base import as_utc

_INSTANT = datetime(2026, 3, 29, 0, 30, 15, 250000, tzinfo=UTC)


def test_naive_text_and_other_zones_read_as_the_same_utc_instant() -> None:
    naive = _INSTANT.replace(tzinfo=None)
    forms = [
        _INSTANT,
        naive,  # SQLite's aggregates: naive, meaning UTC
        naive.isoformat(sep=" "),  # SQLite's UNION columns: text
        _INSTANT.isoformat(),
        _INSTANT.astimezone(timezone(timedelta(hours=-5))),  # PostgreSQL in another session zone
    ]
    for form in forms:
        got = as_utc(form)
        assert got == _INSTANT and got.utcoffset() == timedelta(0), form


@given(
    st.datetimes(timezones=st.timezones()).filter(lambda d: d.utcoffset() is not None),
)
def test_any_aware_instant_keeps_its_moment_and_comes_back_in_utc(value: datetime) -> None:
    got = as_utc(value)
    assert got.tzinfo is UTC
    assert got.timestamp() == value.timestamp()  # (``==`` is never true for a time in a DST gap)
    assert as_utc(got.isoformat()) == got
