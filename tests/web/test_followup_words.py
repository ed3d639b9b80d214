"""How due times, reasons and snooze choices read on the Today page (no database needed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from goodwill.errors import InvalidInput
from goodwill.web.followup_words import (
    due_label,
    event_words,
    parse_local,
    reason_words,
    snooze_picks,
)

BERLIN = ZoneInfo("Europe/Berlin")
#: Monday 23 November 2026, 15:00 UTC (16:00 in Berlin).
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("due", "words"),
    [
        (datetime(2026, 11, 21, 8, 0, tzinfo=UTC), "2 days overdue"),
        (datetime(2026, 11, 22, 22, 30, tzinfo=UTC), "1 day overdue"),  # 23:30 on Sunday there
        (datetime(2026, 11, 23, 9, 0, tzinfo=UTC), "overdue since 10:00"),
        (datetime(2026, 11, 23, 16, 0, tzinfo=UTC), "today 17:00"),
        (datetime(2026, 11, 23, 23, 30, tzinfo=UTC), "tomorrow 00:30"),
        (datetime(2026, 11, 26, 8, 0, tzinfo=UTC), "Thu 09:00"),
        (datetime(2026, 12, 3, 8, 0, tzinfo=UTC), "Thu 3 Dec 09:00"),
        (datetime(2027, 1, 4, 8, 0, tzinfo=UTC), "Mon 4 Jan 2027 09:00"),
    ],
)
def test_due_times_read_relative_to_now_in_the_business_zone(due: datetime, words: str) -> None:
    assert due_label(due, now=NOW, zone=BERLIN) == words


@given(st.integers(min_value=-60 * 24 * 40, max_value=60 * 24 * 40))
def test_a_due_time_is_overdue_exactly_when_it_is_in_the_past(minutes: int) -> None:
    due = NOW + timedelta(minutes=minutes)
    assert ("overdue" in due_label(due, now=NOW, zone=BERLIN)) == (minutes < 0)


def test_touch_points_and_reasons_are_put_into_plain_words() -> None:
    assert event_words("purchase.missed") == "a regular client missed their usual purchase"
    assert event_words("something.custom") == "something custom"
    assert reason_words("late-payment-escalation") == "late payment escalation"


def test_snooze_picks_are_tomorrow_and_next_monday_at_nine_local_time() -> None:
    sunday_night = datetime(2026, 11, 29, 23, 30, tzinfo=UTC)  # already Monday in Berlin
    assert snooze_picks(now=sunday_night, zone=BERLIN) == [
        ("Tomorrow 09:00", "2026-12-01T09:00"),
        ("Next week", "2026-12-07T09:00"),
    ]


def test_a_form_time_without_offset_is_the_business_zones() -> None:
    assert parse_local("2026-11-24T09:00", zone=BERLIN, field="until") == datetime(
        2026, 11, 24, 8, 0, tzinfo=UTC
    )
    assert parse_local("2026-11-24T09:00+00:00", zone=BERLIN, field="until").hour == 9
    with pytest.raises(InvalidInput):
        parse_local("next tuesday", zone=BERLIN, field="until")
