"""Deadlines pulled from a client's own words, read from the moment they wrote."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from goodwill.domain.recovery_dates import deadline_from

AMS = ZoneInfo("Europe/Amsterdam")
WROTE = datetime(2026, 11, 23, 10, 0, tzinfo=AMS)  # a Monday morning


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=AMS)


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("My flight leaves at 3pm tomorrow and I have no car.", at(24, 15)),
        ("The interview is in 3 hours.", at(23, 13)),
        ("We had a table booked tonight at 8.", at(23, 20)),
        ("Dinner is tonight at 8:30", at(23, 20, 30)),
        ("My interview is at 2 this afternoon", at(23, 14)),
        ("I need the suit by Saturday", at(28, 0)),
        ("The wedding is on Saturday at 2pm", at(28, 14)),
        ("I land at 18:30", at(23, 18, 30)),
        ("I'm at the airport, my flight is at 6 am", at(24, 6)),
        ("Please have it ready within 2 hours", at(23, 12)),
        ("The ceremony starts at noon on Friday", at(27, 12)),
        ("We fly out tomorrow morning", at(24, 9)),
    ],
)
def test_a_deadline_is_read_from_how_clients_write(words: str, expected: datetime) -> None:
    assert deadline_from(words, reference=WROTE, zone=AMS) == expected


@pytest.mark.parametrize(
    "words",
    [
        "We are stranded at the address you gave us",
        "I have been a client for 12 years",
        "I booked it 3 weeks ago",
        "Yesterday I ordered the wrong size",
        "please call me",
        "",
    ],
)
def test_words_without_a_future_time_give_no_deadline(words: str) -> None:
    assert deadline_from(words, reference=WROTE, zone=AMS) is None


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("We need the beans by Saturday please", at(28, 0)),
        ("Could it come before Friday?", at(27, 0)),
        ("I need it on Saturday, we have guests", at(28, 0)),
        ("The wedding is on Saturday and the grinder broke", at(28, 0)),
        ("Our café opens on Saturday", at(28, 0)),
        ("My flight leaves at 3 pm", at(23, 15)),
        ("I can bring it in on Saturday, but I need it back before Friday", at(27, 0)),
    ],
)
def test_a_day_is_a_deadline_when_the_words_say_it_is_one(words: str, expected: datetime) -> None:
    assert deadline_from(words, reference=WROTE, zone=AMS) == expected


@pytest.mark.parametrize(
    "words",
    [
        "I can bring it in on Saturday.",
        "The grinder broke. I can drop it off on Saturday",
        "I ordered it on Monday and it came with a cracked hopper",
        "I am away until Monday, so no rush",
        "I can come by next Saturday to pick it up",
    ],
)
def test_a_day_mentioned_in_passing_is_no_deadline(words: str) -> None:
    assert deadline_from(words, reference=WROTE, zone=AMS) is None


def test_the_earliest_future_instant_wins() -> None:
    words = "I land at 18:30 and the wedding is on Saturday at 2pm"
    assert deadline_from(words, reference=WROTE, zone=AMS) == at(23, 18, 30)


def test_relative_words_count_from_the_message_time_in_the_given_zone() -> None:
    # 23:30 UTC is already Tuesday in Amsterdam: "tomorrow" is Wednesday.
    late = datetime(2026, 11, 23, 23, 30, tzinfo=UTC)
    found = deadline_from("my flight leaves at 3pm tomorrow", reference=late, zone=AMS)
    assert found == at(25, 15)
    assert found is not None and found.utcoffset() == AMS.utcoffset(found.replace(tzinfo=None))


def test_a_naive_reference_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        deadline_from("at 3pm", reference=datetime(2026, 11, 23, 10, 0), zone=AMS)
