import time as stopwatch
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from goodwill.domain.calendars import (
    BusinessCalendar,
    ContactWindow,
    HoursError,
    Interval,
    always_open,
    parse_interval,
    weekly_hours,
)
from goodwill.errors import InvalidInput

DENVER = ZoneInfo("America/Denver")
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
NEW_YORK = ZoneInfo("America/New_York")
TICK = timedelta(microseconds=1)
H = timedelta(hours=1)
WEEKDAYS_9_TO_5 = {d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")}


def calendar(
    zone: ZoneInfo, hours: dict[str, list[str]], *holidays: date, **kw
) -> BusinessCalendar:
    return BusinessCalendar(zone, weekly_hours(hours), frozenset(holidays), **kw)


def at(zone: ZoneInfo, *args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=zone, fold=fold)  # type: ignore[misc]


def local(instant: datetime, zone: ZoneInfo = DENVER) -> datetime:
    return instant.astimezone(zone)


def july_fourth(year: int) -> frozenset[date]:
    return frozenset({date(year, 7, 4)})


# The calendars the properties run on: lunch breaks, a 24:00 close joined to a 00:00 opening, a
# night interval over the DST switch, explicit and rule-made holidays, and 24/7.
OFFICE = calendar(
    DENVER,
    {
        "mon": ["09:00-12:00", "13:00-17:30"],
        "tue": ["09:00-17:00"],
        "wed": ["09:00-17:00"],
        "thu": ["09:00-17:00", "20:00-24:00"],
        "fri": ["00:00-02:00", "09:00-17:00"],
        "sun": ["01:00-03:00"],
    },
    date(2026, 12, 25),
    date(2027, 1, 1),
    holiday_rule=july_fourth,
)
NIGHT_SHOP = calendar(
    AMSTERDAM,
    {
        "mon": ["08:30-12:00", "12:30-17:00"],
        "wed": ["08:30-17:00"],
        "sat": ["22:00-24:00"],
        "sun": ["00:00-04:00"],
    },
    date(2026, 4, 27),
)
CALENDARS = [OFFICE, NIGHT_SHOP, always_open(DENVER)]

# Days around DST switches in both zones, and around the year-end holidays.
SPECIAL_DAYS = [
    date(2026, 3, 8),
    date(2026, 11, 1),
    date(2026, 3, 29),
    date(2026, 10, 25),
    date(2026, 12, 31),
    date(2026, 12, 25),
    date(2026, 7, 4),
]
BOUNDARY_TIMES = [
    time(0),
    time(0, 59),
    time(1),
    time(1, 30),
    time(2),
    time(2, 30),
    time(3),
    time(4),
    time(8, 30),
    time(9),
    time(12),
    time(13),
    time(17),
    time(17, 30),
    time(20),
    time(22),
    time(23, 59),
]


@st.composite
def boundary_instants(draw: st.DrawFn) -> datetime:
    day = draw(st.sampled_from(SPECIAL_DAYS)) + timedelta(days=draw(st.integers(-3, 3)))
    clock = draw(st.sampled_from(BOUNDARY_TIMES))
    zone = draw(st.sampled_from([DENVER, AMSTERDAM]))
    naive = datetime.combine(day, clock)
    return naive.replace(tzinfo=zone, fold=draw(st.integers(0, 1)))


instants = st.one_of(
    st.datetimes(datetime(2025, 1, 1), datetime(2028, 12, 31), timezones=st.just(UTC)),
    st.datetimes(datetime(2026, 1, 1), datetime(2027, 1, 31), timezones=st.just(DENVER)),
    boundary_instants(),
)
durations = st.one_of(
    st.integers(0, 300 * 60).map(lambda m: timedelta(minutes=m)),
    st.timedeltas(timedelta(0), timedelta(hours=300)),
)
positive = durations.filter(bool)
calendars = st.sampled_from(CALENDARS)


def inside_or_closing(cal: BusinessCalendar, instant: datetime) -> bool:
    return any(s < instant <= e for s, e in cal.open_intervals(instant - H * 48, instant + H * 48))


# -- properties -------------------------------------------------------------------------------


@given(calendars, instants, durations)
@example(OFFICE, at(DENVER, 2026, 3, 8, 2, 30), 5 * H)
@example(OFFICE, at(DENVER, 2026, 11, 1, 1, 30, fold=1), 5 * H)
@example(NIGHT_SHOP, at(AMSTERDAM, 2026, 10, 25, 2, 30, fold=1), 2 * H)
def test_measuring_what_was_added_gives_the_same_duration(cal, start, duration) -> None:
    assert cal.business_time_between(start, cal.add(start, duration)) == duration


@given(calendars, instants, positive)
def test_adding_time_lands_in_an_open_interval_or_exactly_at_its_close(cal, start, d) -> None:
    result = cal.add(start, d)
    assert result > start or (cal.is_open(start) and result - start == d)
    assert inside_or_closing(cal, result)
    # The business time just before the result was open: the last of ``d`` was spent there.
    assert cal.is_open(result - TICK)


@given(calendars, instants)
def test_next_open_is_open_and_nothing_open_comes_before_it(cal, start) -> None:
    nxt = cal.next_open(start)
    assert cal.is_open(nxt)
    assert nxt >= start
    assert cal.business_time_between(start, nxt) == timedelta(0)
    # Compared in UTC: Python never calls instants in different zones equal during a repeated hour.
    assert (nxt == start.astimezone(UTC)) == cal.is_open(start)


@given(calendars, instants, durations, positive)
def test_adding_in_two_steps_equals_adding_at_once_when_the_second_step_is_positive(
    cal, start, a, b
) -> None:
    assert cal.add(cal.add(start, a), b) == cal.add(start, a + b)


@given(calendars, instants, durations)
def test_adding_zero_after_a_step_moves_to_the_next_opening(cal, start, a) -> None:
    first = cal.add(start, a)
    assert cal.add(first, timedelta(0)) == cal.next_open(first)


@given(calendars, instants, st.integers(0, 4 * 24 * 60))
@settings(max_examples=40)
def test_business_time_matches_a_minute_by_minute_count_of_the_wall_clock(cal, start, minutes):
    # An independent oracle: a minute is open when its local wall time falls inside the day's
    # hours and the local date is not a holiday. It agrees with the DST rule for these calendars.
    start = start.astimezone(UTC).replace(second=0, microsecond=0)
    end = start + timedelta(minutes=minutes)
    counted = 0
    t = start
    while t < end:
        wall = t.astimezone(cal.zone)
        if not cal.is_holiday(wall.date()):
            offset = timedelta(hours=wall.hour, minutes=wall.minute)
            hours = cal.hours.get(wall.weekday(), ())
            counted += any(iv.start_offset <= offset < iv.end_offset for iv in hours)
        t += timedelta(minutes=1)
    assert cal.business_time_between(start, end) == timedelta(minutes=counted)


@given(calendars, instants, instants)
@settings(deadline=None)  # instants up to four years apart
def test_business_time_splits_at_any_point_and_is_zero_backwards(cal, a, b) -> None:
    # In UTC: within one zone Python compares and subtracts wall times, ignoring DST.
    a, b = sorted([a.astimezone(UTC), b.astimezone(UTC)])
    middle = a + (b - a) / 2
    whole = cal.business_time_between(a, b)
    assert whole == cal.business_time_between(a, middle) + cal.business_time_between(middle, b)
    assert cal.business_time_between(b, a) == timedelta(0) or a == b
    assert whole == sum((e - s for s, e in cal.open_intervals(a, b)), timedelta(0))


@given(calendars, instants, st.integers(0, 30))
def test_business_days_land_on_a_working_day_inside_its_hours(cal, start, n) -> None:
    due = cal.add_business_days(start, n)
    assert due >= cal.next_open(start)
    assert cal.is_working_day(local(due, cal.zone).date()) or inside_or_closing(cal, due)
    assert cal.is_open(due) or inside_or_closing(cal, due)


# -- the peers' weak spots --------------------------------------------------------------------


def test_a_ticket_raised_late_on_saturday_is_due_monday_after_lunch() -> None:
    cal = calendar(DENVER, WEEKDAYS_9_TO_5)
    due = cal.add(at(DENVER, 2026, 5, 16, 23, 59), 4 * H)
    assert local(due) == at(DENVER, 2026, 5, 18, 13, 0)


def test_a_ticket_raised_at_midnight_counts_from_the_morning_opening() -> None:
    cal = calendar(DENVER, WEEKDAYS_9_TO_5)
    assert local(cal.add(at(DENVER, 2026, 5, 18), H)) == at(DENVER, 2026, 5, 18, 10)
    assert local(cal.add(at(DENVER, 2026, 5, 17), H)) == at(DENVER, 2026, 5, 18, 10)
    assert cal.business_time_between(at(DENVER, 2026, 5, 18), at(DENVER, 2026, 5, 19)) == 8 * H


def test_a_ticket_on_new_years_eve_skips_the_holiday_and_the_weekend() -> None:
    cal = calendar(DENVER, WEEKDAYS_9_TO_5, date(2027, 1, 1))
    due = cal.add(at(DENVER, 2026, 12, 31, 16), 2 * H)
    assert local(due) == at(DENVER, 2027, 1, 4, 10)


def test_a_ticket_raised_on_a_holiday_counts_from_the_next_working_morning() -> None:
    cal = calendar(DENVER, WEEKDAYS_9_TO_5, date(2026, 12, 25))
    assert not cal.is_open(at(DENVER, 2026, 12, 25, 10))
    due = cal.add(at(DENVER, 2026, 12, 25, 10), 3 * H)
    assert local(due) == at(DENVER, 2026, 12, 28, 12)


def test_holidays_from_a_yearly_rule_are_closed_and_asked_once_per_year() -> None:
    asked: list[int] = []

    def rule(year: int) -> frozenset[date]:
        asked.append(year)
        return frozenset({date(year, 7, 4)})

    cal = calendar(DENVER, WEEKDAYS_9_TO_5, holiday_rule=rule)
    assert not cal.is_open(at(DENVER, 2030, 7, 4, 10))  # a Thursday
    assert cal.is_open(at(DENVER, 2030, 7, 5, 10))
    assert cal.add(at(DENVER, 2030, 7, 3, 16), 2 * H) == at(DENVER, 2030, 7, 5, 10)
    assert asked == [2030]


def test_a_day_worked_out_once_gives_the_same_answers_and_the_memory_stays_bounded() -> None:
    """Each local date's hours are worked out once and kept, at most a bounded number of dates:
    a worker running for years asks about ever new dates."""
    kept = calendar(DENVER, WEEKDAYS_9_TO_5, date(2030, 12, 25))
    start = at(DENVER, 2030, 3, 8, 16)  # the Friday before the spring switch
    first = [kept.add_business_days(start, n) for n in range(0, 400, 7)]
    again = [kept.add_business_days(start, n) for n in range(0, 400, 7)]
    fresh = [
        calendar(DENVER, WEEKDAYS_9_TO_5, date(2030, 12, 25)).add_business_days(start, n)
        for n in range(0, 400, 7)
    ]
    assert first == again == fresh
    assert kept.add_business_days(at(DENVER, 2030, 12, 24, 10), 1) == at(DENVER, 2030, 12, 26, 10)
    for n in range(0, 12_000, 3):  # over thirty years of dates
        kept.is_working_day(date(2030, 1, 1) + timedelta(days=n))
    assert 0 < len(kept._spans) <= 4096


def test_the_denver_spring_forward_day_still_has_eight_business_hours() -> None:
    cal = calendar(DENVER, {d: ["09:00-17:00"] for d in ("sat", "sun", "mon")})
    for day in (date(2026, 3, 8), date(2026, 11, 1)):
        start = datetime.combine(day, time(0), DENVER)
        assert cal.business_time_between(start, start + 30 * H) == 8 * H


def test_opening_hours_follow_the_local_clock_in_summer_and_winter() -> None:
    cal = calendar(DENVER, {"sat": ["09:00-17:00"], "sun": ["09:00-17:00"]})
    spans = list(cal.open_intervals(at(DENVER, 2026, 3, 7), at(DENVER, 2026, 3, 9)))
    assert spans == [
        (datetime(2026, 3, 7, 16, tzinfo=UTC), datetime(2026, 3, 8, 0, tzinfo=UTC)),
        (datetime(2026, 3, 8, 15, tzinfo=UTC), datetime(2026, 3, 8, 23, tzinfo=UTC)),
    ]


def test_an_interval_over_the_switch_lasts_one_hour_in_spring_and_three_in_autumn() -> None:
    cal = calendar(DENVER, {"sun": ["01:00-03:00"]})
    assert cal.business_time_between(at(DENVER, 2026, 3, 8), at(DENVER, 2026, 3, 9)) == H
    assert cal.business_time_between(at(DENVER, 2026, 11, 1), at(DENVER, 2026, 11, 2)) == 3 * H
    assert cal.is_open(at(DENVER, 2026, 11, 1, 1, 30, fold=1))  # the repeated half hour


def test_an_interval_starting_in_the_spring_gap_opens_at_the_switch() -> None:
    cal = calendar(AMSTERDAM, {"sun": ["02:30-04:00"]})
    spans = list(cal.open_intervals(at(AMSTERDAM, 2026, 3, 29), at(AMSTERDAM, 2026, 3, 30)))
    assert spans == [(datetime(2026, 3, 29, 1, tzinfo=UTC), datetime(2026, 3, 29, 2, tzinfo=UTC))]


def test_a_night_shift_written_over_two_days_is_one_period() -> None:
    cal = calendar(AMSTERDAM, {"sat": ["22:00-24:00"], "sun": ["00:00-02:00"]})
    spans = list(cal.open_intervals(at(AMSTERDAM, 2026, 5, 16), at(AMSTERDAM, 2026, 5, 18)))
    assert [(local(s, AMSTERDAM), local(e, AMSTERDAM)) for s, e in spans] == [
        (at(AMSTERDAM, 2026, 5, 16, 22), at(AMSTERDAM, 2026, 5, 17, 2))
    ]


# -- the closing boundary ---------------------------------------------------------------------


def test_time_running_out_at_closing_gives_the_closing_instant_not_the_next_opening() -> None:
    cal = calendar(DENVER, {"mon": ["09:00-12:00", "13:00-17:00"], "tue": ["09:00-17:00"]})
    monday_9 = at(DENVER, 2026, 5, 18, 9)
    assert local(cal.add(monday_9, 3 * H)) == at(DENVER, 2026, 5, 18, 12)
    assert local(cal.add(monday_9, 7 * H)) == at(DENVER, 2026, 5, 18, 17)
    assert not cal.is_open(at(DENVER, 2026, 5, 18, 17))
    assert local(cal.next_open(at(DENVER, 2026, 5, 18, 17))) == at(DENVER, 2026, 5, 19, 9)
    # Zero more hours moves to the next opening; any positive amount counts from there.
    closing = cal.add(monday_9, 3 * H)
    assert local(cal.add(closing, timedelta(0))) == at(DENVER, 2026, 5, 18, 13)
    assert local(cal.add(closing, TICK)) == at(DENVER, 2026, 5, 18, 13) + TICK


def test_a_start_exactly_at_opening_counts_from_that_instant() -> None:
    cal = calendar(DENVER, WEEKDAYS_9_TO_5)
    assert cal.is_open(at(DENVER, 2026, 5, 18, 9))
    assert cal.next_open(at(DENVER, 2026, 5, 18, 9)) == at(DENVER, 2026, 5, 18, 9)
    assert cal.add(at(DENVER, 2026, 5, 18, 9), 8 * H) == at(DENVER, 2026, 5, 18, 17)


def test_results_are_in_utc() -> None:
    due = calendar(DENVER, WEEKDAYS_9_TO_5).add(at(DENVER, 2026, 5, 18, 9), H)
    assert due.tzinfo is UTC


# -- business days ----------------------------------------------------------------------------


def test_two_business_days_from_friday_afternoon_is_tuesday_afternoon() -> None:
    cal = calendar(DENVER, WEEKDAYS_9_TO_5)
    assert local(cal.add_business_days(at(DENVER, 2026, 5, 15, 16), 2)) == at(
        DENVER, 2026, 5, 19, 16
    )


def test_two_business_days_from_saturday_counts_from_monday_morning() -> None:
    cal = calendar(DENVER, WEEKDAYS_9_TO_5)
    assert local(cal.add_business_days(at(DENVER, 2026, 5, 16, 10), 2)) == at(
        DENVER, 2026, 5, 20, 9
    )
    assert local(cal.add_business_days(at(DENVER, 2026, 5, 16, 10), 0)) == at(
        DENVER, 2026, 5, 18, 9
    )


def test_business_days_keep_the_time_inside_a_shorter_or_split_day() -> None:
    cal = calendar(
        DENVER,
        {"mon": ["09:00-17:00"], "tue": ["09:00-12:00", "13:00-17:00"], "wed": ["09:00-12:00"]},
    )
    monday = at(DENVER, 2026, 5, 18, 12, 30)
    assert local(cal.add_business_days(monday, 1)) == at(DENVER, 2026, 5, 19, 13)
    assert local(cal.add_business_days(monday, 2)) == at(DENVER, 2026, 5, 20, 12)


def test_the_next_open_day_skips_weekends_and_holidays() -> None:
    cal = calendar(DENVER, WEEKDAYS_9_TO_5, date(2026, 5, 25))
    assert cal.next_open_day(date(2026, 5, 23)) == date(2026, 5, 26)
    assert cal.next_open_day(date(2026, 5, 26)) == date(2026, 5, 26)


# -- contact windows --------------------------------------------------------------------------


def test_a_reminder_goes_out_when_both_the_client_and_the_business_are_available() -> None:
    business = calendar(DENVER, WEEKDAYS_9_TO_5, date(2026, 5, 18))
    client = ContactWindow(NEW_YORK, weekly_hours({"mon": ["10:00-12:00"], "tue": ["10:00-12:00"]}))
    # Saturday midnight: not now, not Monday (a holiday), but Tuesday 09:00 Denver = 11:00 NY.
    when = client.next_contact(at(DENVER, 2026, 5, 16), business=business)
    assert when is not None
    assert local(when) == at(DENVER, 2026, 5, 19, 9)
    assert client.contains(when)


def test_a_window_that_never_meets_the_business_hours_gives_none() -> None:
    business = calendar(DENVER, WEEKDAYS_9_TO_5)
    client = ContactWindow(NEW_YORK, weekly_hours({"sat": ["10:00-12:00"]}))
    assert client.next_contact(at(DENVER, 2026, 5, 16), business=business) is None


@given(st.sampled_from(CALENDARS), instants)
@settings(max_examples=50)
def test_a_contact_time_is_inside_both_the_window_and_the_hours(business, start) -> None:
    client = ContactWindow(NEW_YORK, weekly_hours({"mon": ["08:00-11:00"], "fri": ["15:00-18:00"]}))
    when = client.next_contact(start, business=business)
    if when is not None:
        assert when >= start
        assert client.contains(when)
        assert business.is_open(when)


# -- guards and errors ------------------------------------------------------------------------


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        OFFICE.add(datetime(2026, 5, 18, 9), H)


def test_a_calendar_without_hours_refuses_to_add_time_instead_of_looping() -> None:
    closed = BusinessCalendar(DENVER, {}, name="closed")
    assert not closed.is_open(at(DENVER, 2026, 5, 18, 10))
    assert closed.business_time_between(at(DENVER, 2026, 5, 1), at(DENVER, 2026, 6, 1)) == (
        timedelta(0)
    )
    with pytest.raises(InvalidInput, match="'closed' has no opening hours"):
        closed.add(at(DENVER, 2026, 5, 18, 10), H)
    with pytest.raises(InvalidInput):
        closed.next_open(at(DENVER, 2026, 5, 18, 10))


def test_a_calendar_that_is_always_on_holiday_gives_up_after_ten_years() -> None:
    def every_day(year: int) -> frozenset[date]:
        first = date(year, 1, 1)
        return frozenset(
            first + timedelta(days=i)
            for i in range(366)
            if (first + timedelta(days=i)).year == year
        )

    cal = calendar(DENVER, WEEKDAYS_9_TO_5, holiday_rule=every_day)
    with pytest.raises(InvalidInput, match="does not open within"):
        cal.add(at(DENVER, 2026, 5, 18), H)


def test_negative_durations_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        OFFICE.add(at(DENVER, 2026, 5, 18, 9), -H)


def test_adding_a_thousand_hours_walks_days_not_minutes() -> None:
    begun = stopwatch.perf_counter()
    due = OFFICE.add(at(DENVER, 2026, 1, 1), timedelta(hours=1000))
    assert stopwatch.perf_counter() - begun < 0.5
    assert OFFICE.business_time_between(at(DENVER, 2026, 1, 1), due) == timedelta(hours=1000)


def test_always_open_counts_real_time_across_dst() -> None:
    cal = always_open(DENVER)
    start = at(DENVER, 2026, 3, 7, 12).astimezone(
        UTC
    )  # UTC: aware arithmetic in a zone is wall time
    assert cal.add(start, 48 * H) == start + 48 * H
    assert list(cal.open_intervals(start, start + 48 * H)) == [(start, start + 48 * H)]


# -- hours text -------------------------------------------------------------------------------


def test_hours_text_accepts_dashes_and_midnight_as_24_00() -> None:
    assert parse_interval("9:00 – 12:00") == Interval(time(9), time(12))
    assert parse_interval("18:00-24:00") == Interval(time(18), time(0))
    assert parse_interval("00:00-24:00").end_offset == timedelta(days=1)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("13:00-12:00", "ends before it starts"),
        ("22:00-02:00", "ends before it starts"),
        ("09:00-09:00", "empty"),
        ("00:00-00:00", "00:00-24:00"),
        ("25:00-26:00", "not a real time"),
        ("9-5", "not an interval"),
    ],
)
def test_bad_hours_text_says_why(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_interval(text)


def test_weekly_hours_errors_name_the_entry() -> None:
    with pytest.raises(HoursError, match=r"mon\[1\]: '13:00-12:00' ends before it starts"):
        weekly_hours({"mon": ["09:00-12:00", "13:00-12:00"]})
    with pytest.raises(HoursError, match=r"tue\[1\]: '11:00-13:00' overlaps '09:00-12:00'"):
        weekly_hours({"tue": ["09:00-12:00", "11:00-13:00"]})
    with pytest.raises(HoursError, match="monday: the same day as 'mon'"):
        weekly_hours({"mon": ["09:00-12:00"], "monday": ["13:00-17:00"]})
    with pytest.raises(HoursError, match="funday: unknown weekday"):
        weekly_hours({"funday": ["09:00-12:00"]})


def test_weekly_hours_allow_touching_intervals_and_long_day_names() -> None:
    hours = weekly_hours({"Monday": ["12:00-13:00", "09:00-12:00"]})
    assert hours == {0: (Interval(time(9), time(12)), Interval(time(12), time(13)))}
