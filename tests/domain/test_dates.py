from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from goodwill.domain.dates import DateError, parse_date, parse_instant

AMS = ZoneInfo("Europe/Amsterdam")


@pytest.mark.parametrize(
    ("text", "order", "expected"),
    [
        ("2025-10-07", "dmy", date(2025, 10, 7)),
        ("2025/10/07", "mdy", date(2025, 10, 7)),
        ("07/10/2025", "dmy", date(2025, 10, 7)),
        ("07/10/2025", "mdy", date(2025, 7, 10)),
        ("13/04/2025", "mdy", date(2025, 4, 13)),
        ("04/13/2025", "dmy", date(2025, 4, 13)),
        ("7.10.25", "dmy", date(2025, 10, 7)),
        ("7 Oct 2025", "mdy", date(2025, 10, 7)),
        ("October 7, 2025", "dmy", date(2025, 10, 7)),
        ("2025-10-07 09:50:26 +0200", "dmy", date(2025, 10, 7)),
    ],
)
def test_dates_are_read_in_every_common_form(text: str, order: str, expected: date) -> None:
    assert parse_date(text, date_order=order) == expected


@pytest.mark.parametrize(
    "text", ["", "yesterday", "2025-02-30", "31/31/2025", "2025-13-01", "7 Foo 2025", "12:00"]
)
def test_text_that_is_not_a_date_is_refused(text: str) -> None:
    with pytest.raises(DateError):
        parse_date(text)


def test_an_instant_with_an_offset_is_converted_to_utc() -> None:
    got = parse_instant("2025-10-07 09:50:26 +0200", zone=AMS)
    assert got == datetime(2025, 10, 7, 7, 50, 26, tzinfo=UTC)


def test_an_instant_without_a_zone_is_local_time_of_the_business_across_dst() -> None:
    summer = parse_instant("2025-07-01T12:00", zone=AMS)
    winter = parse_instant("2025-12-01 12:00", zone=AMS)
    assert summer.hour == 10
    assert winter.hour == 11


def test_twelve_hour_clock_and_z_are_understood() -> None:
    assert parse_instant("10/07/2025 3:05 PM", zone=AMS, date_order="mdy").hour == 13
    assert parse_instant("2025-10-07T00:00:00Z", zone=AMS).hour == 0


@given(
    st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31)),
    st.sampled_from(["dmy", "mdy"]),
    st.sampled_from(["/", ".", "-"]),
)
def test_numeric_dates_round_trip_in_the_configured_order(day: date, order: str, sep: str) -> None:
    first, second = (day.day, day.month) if order == "dmy" else (day.month, day.day)
    assert parse_date(f"{first:02d}{sep}{second:02d}{sep}{day.year}", date_order=order) == day


@given(
    st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31)),
    st.sampled_from(["dmy", "mdy"]),
)
def test_iso_dates_never_depend_on_the_order_setting(day: date, order: str) -> None:
    assert parse_date(day.isoformat(), date_order=order) == day


@given(
    st.datetimes(
        min_value=datetime(1970, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)
    ).map(lambda d: d.replace(microsecond=0)),
    st.integers(min_value=-12 * 60, max_value=14 * 60).map(lambda m: m - m % 15),
)
def test_iso_instants_with_any_offset_round_trip(instant: datetime, minutes: int) -> None:
    from datetime import timezone

    local = instant.astimezone(timezone(timedelta(minutes=minutes)))
    assert parse_instant(local.isoformat(), zone=AMS) == instant
