from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from goodwill.domain.calendars import always_open
from goodwill.domain.conversation_merge import (
    Side,
    merged_assignee,
    merged_clock,
    merged_status,
)
from goodwill.domain.sla import Clock, Target

TARGET = Target("standard", "first", timedelta(hours=4), always_open(ZoneInfo("UTC")), False)
NINE = datetime(2026, 3, 2, 9, tzinfo=UTC)


def clock(started: datetime, *, used: timedelta = timedelta(0), running: bool = True) -> Clock:
    return Clock(TARGET, started, used, started + used if running else None)


def test_the_merged_conversation_is_open_when_either_was_open() -> None:
    assert merged_status([Side("answered", None, None), Side("open", None, None)]) == "open"
    assert merged_status([Side("closed", None, None), Side("waiting", None, None)]) == "waiting"
    assert merged_status([Side("closed", None, None), Side("answered", None, None)]) == "answered"


def test_the_assignee_is_the_earliests_unless_only_a_later_one_had_one() -> None:
    assert merged_assignee([Side("open", 3, None), Side("open", 7, None)]) == 3
    assert merged_assignee([Side("open", None, None), Side("open", 7, None)]) == 7
    assert merged_assignee([Side("open", None, None), Side("open", None, None)]) is None


def test_the_clock_keeps_the_earliest_start_and_the_time_already_used() -> None:
    early = clock(NINE, used=timedelta(hours=1), running=False)  # waiting on the client
    late = clock(NINE + timedelta(hours=3))
    found = merged_clock([Side("open", None, late), Side("waiting", None, early)])
    assert found is not None
    index, merged = found
    assert index == 1
    assert merged.started_at == NINE
    assert merged.elapsed == timedelta(hours=1)
    # The later conversation's client was waiting: the kept clock runs from then.
    assert merged.running_since == NINE + timedelta(hours=3)
    assert merged.due_at() == NINE + timedelta(hours=6)


def test_a_running_earliest_clock_is_kept_as_it_is() -> None:
    early, late = clock(NINE), clock(NINE + timedelta(hours=2))
    assert merged_clock([Side("open", None, early), Side("open", None, late)]) == (0, early)


def test_an_answered_conversations_spent_clock_does_not_count() -> None:
    answered = clock(NINE, used=timedelta(hours=1), running=False)
    late = clock(NINE + timedelta(hours=5))
    sides = [Side("answered", 1, answered), Side("open", None, late)]
    assert merged_clock(sides) == (1, late)


def test_no_clock_when_nothing_is_owed() -> None:
    assert merged_clock([Side("closed", None, clock(NINE)), Side("open", None, None)]) is None
