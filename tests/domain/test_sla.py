"""SLA policies, critical windows and the pausing response clock (story 7)."""

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from goodwill.domain.calendars import BusinessCalendar, always_open, weekly_hours
from goodwill.domain.sla import (
    ClientFacts,
    Clock,
    ClockState,
    SlaPolicies,
    Target,
    parse_days,
    parse_duration,
    parse_policies,
)
from goodwill.errors import ConfigError

CHICAGO = ZoneInfo("America/Chicago")
NEW_YORK = ZoneInfo("America/New_York")
# 2026-03-08 is the spring-forward Sunday in Chicago; 2026-03-12 (a Thursday) is a holiday.
OFFICE = BusinessCalendar(
    CHICAGO,
    weekly_hours({d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")}),
    frozenset({date(2026, 3, 12)}),
    name="office",
)
LONG_TERM = ClientFacts("C-1042", tier="gold", tags=frozenset({"wholesale"}), timezone=None)
STORY_7 = {
    "warn_at": 0.75,
    "policy": [
        {"name": "standard", "first_response": "8h", "next_response": "1d"},
        {"name": "long-term", "clients": ["C-1042"], "first_response": "4h", "next_response": "4h"},
    ],
    "critical_window": [
        {
            "client": "C-1042",
            "days": "mon-fri",
            "hours": "08:00-10:00",
            "timezone": "America/Chicago",
            "first_response": "30m",
            "next_response": "30m",
        }
    ],
}


def chicago(*args: int) -> datetime:
    return datetime(*args, tzinfo=CHICAGO)  # type: ignore[misc]


def policies(data: dict[str, Any]) -> SlaPolicies:
    return parse_policies(data, source="sla.toml")


def target(
    data: dict[str, Any], client: ClientFacts, received: datetime, kind: str = "first"
) -> Target | None:
    assert kind in ("first", "next")
    return policies(data).target_for(
        client, "first" if kind == "first" else "next", received, business=OFFICE
    )


def due(data: dict[str, Any], client: ClientFacts, received: datetime) -> datetime:
    found = target(data, client, received)
    assert found is not None
    return found.due_from(received).astimezone(CHICAGO)


def business_target(hours: float) -> Target:
    return Target("p", "first", timedelta(hours=hours), OFFICE, critical=False, warn_fraction=0.75)


# -- selection -----------------------------------------------------------------------------------

SELECTION = {
    "policy": [
        {"name": "default", "first_response": "8h"},
        {"name": "gold", "tiers": ["gold"], "first_response": "4h"},
        {"name": "vip", "tags": ["vip"], "first_response": "2h"},
        {"name": "also-vip", "tags": ["vip"], "first_response": "1h"},
        {"name": "acme", "clients": ["C-7"], "first_response": "30m"},
    ]
}


@pytest.mark.parametrize(
    ("client", "expected"),
    [
        (ClientFacts("C-7", tier="gold", tags=frozenset({"vip"})), "acme"),
        (ClientFacts("C-8", tier="gold", tags=frozenset({"vip"})), "vip"),
        (ClientFacts("C-8", tier="Gold", tags=frozenset({"VIP"})), "vip"),
        (ClientFacts("C-8", tier="gold"), "gold"),
        (ClientFacts("C-8", tier="bronze", tags=frozenset({"retail"})), "default"),
        (ClientFacts(None), "default"),
    ],
)
def test_the_client_beats_a_tag_beats_the_tier_beats_the_default(
    client: ClientFacts, expected: str
) -> None:
    found = policies(SELECTION).policy_for(client)
    assert found is not None and found.name == expected


def test_ties_go_to_the_earlier_policy() -> None:
    found = policies(SELECTION).policy_for(ClientFacts("C-8", tags=frozenset({"vip"})))
    assert found is not None and found.name == "vip"


def test_a_client_matching_no_policy_has_no_sla() -> None:
    only_gold = {"policy": [{"name": "gold", "tiers": ["gold"], "first_response": "4h"}]}
    assert target(only_gold, ClientFacts("C-8", tier="silver"), chicago(2026, 3, 10, 11)) is None


def test_a_policy_without_a_next_response_target_gives_none_for_next() -> None:
    first_only = {"policy": [{"name": "default", "first_response": "4h"}]}
    received = chicago(2026, 3, 10, 11)
    assert target(first_only, ClientFacts("C-8"), received, "next") is None
    assert target(first_only, ClientFacts("C-8"), received, "first") is not None


def test_next_response_uses_its_own_target() -> None:
    found = target(STORY_7, ClientFacts("C-9"), chicago(2026, 3, 10, 11), "next")
    assert found is not None and found.kind == "next" and found.duration == timedelta(days=1)


# -- business-hour maths -------------------------------------------------------------------------

TWO_HOURS = {"policy": [{"name": "default", "first_response": "2h"}]}
ANYONE = ClientFacts("C-1")


def test_a_target_skips_the_night() -> None:
    assert due(TWO_HOURS, ANYONE, chicago(2026, 3, 10, 16)) == chicago(2026, 3, 11, 10)


def test_a_target_skips_the_weekend_and_the_dst_change() -> None:
    received = chicago(2026, 3, 6, 16)  # Friday, CST
    found = due(TWO_HOURS, ANYONE, received)
    assert found == chicago(2026, 3, 9, 10)  # Monday, CDT
    assert found.astimezone(UTC) == datetime(2026, 3, 9, 15, tzinfo=UTC)


def test_a_target_skips_a_holiday() -> None:
    assert due(TWO_HOURS, ANYONE, chicago(2026, 3, 11, 16)) == chicago(2026, 3, 13, 10)


def test_a_message_on_a_saturday_counts_from_monday_opening() -> None:
    assert due(TWO_HOURS, ANYONE, chicago(2026, 3, 14, 11)) == chicago(2026, 3, 16, 11)


def test_a_target_running_out_at_closing_time_is_due_at_closing() -> None:
    assert due(TWO_HOURS, ANYONE, chicago(2026, 3, 10, 15)) == chicago(2026, 3, 10, 17)


def test_calendar_hours_count_real_time_across_the_dst_change() -> None:
    one_day = {"policy": [{"name": "24x7", "calendar": "24/7", "first_response": "1d"}]}
    received = chicago(2026, 3, 7, 12)  # Saturday before the 23-hour Sunday
    found = target(one_day, ANYONE, received)
    assert found is not None and found.calendar.name == "24/7"
    assert found.due_from(received) == received.astimezone(UTC) + timedelta(hours=24)
    assert found.due_from(received).astimezone(CHICAGO) == chicago(2026, 3, 8, 13)


# -- critical windows (story 7) ------------------------------------------------------------------


def first_instants(clock: Clock, start: datetime, end: datetime) -> dict[ClockState, datetime]:
    """Step an injected clock every 30 seconds and note when each state is first seen."""
    seen: dict[ClockState, datetime] = {}
    now = start
    while now <= end:
        seen.setdefault(clock.state(now), now)
        now += timedelta(seconds=30)
    return seen


def test_story_7_a_morning_message_gets_the_tighter_target_and_its_events() -> None:
    received = chicago(2026, 3, 10, 8, 20)  # a Tuesday, inside the 08:00-10:00 window
    found = target(STORY_7, LONG_TERM, received)
    assert found is not None
    assert (found.policy, found.critical, found.duration) == (
        "long-term",
        True,
        timedelta(minutes=30),
    )
    clock = Clock.start(found, received)
    assert clock.due_at() == chicago(2026, 3, 10, 8, 50)
    assert clock.warn_at() == chicago(2026, 3, 10, 8, 42, 30)
    assert first_instants(clock, received, chicago(2026, 3, 10, 9)) == {
        "ok": received,
        "warning": chicago(2026, 3, 10, 8, 42, 30),
        "breached": chicago(2026, 3, 10, 8, 50),
    }


def test_story_7_the_same_message_at_eleven_gets_four_business_hours() -> None:
    received = chicago(2026, 3, 10, 11)
    found = target(STORY_7, LONG_TERM, received)
    assert found is not None and not found.critical and found.duration == timedelta(hours=4)
    clock = Clock.start(found, received)
    assert clock.due_at() == chicago(2026, 3, 10, 15)
    assert clock.warn_at() == chicago(2026, 3, 10, 14)
    assert clock.state(chicago(2026, 3, 10, 14, 59)) == "warning"
    assert clock.state(chicago(2026, 3, 10, 15)) == "breached"


@pytest.mark.parametrize(
    ("client", "received"),
    [
        (ClientFacts("C-9"), chicago(2026, 3, 10, 8, 20)),  # someone else's window
        (LONG_TERM, chicago(2026, 3, 14, 8, 20)),  # a Saturday
        (LONG_TERM, chicago(2026, 3, 10, 10, 0)),  # the window closes at 10:00
    ],
)
def test_a_critical_window_applies_only_to_its_client_days_and_hours(
    client: ClientFacts, received: datetime
) -> None:
    found = target(STORY_7, client, received)
    assert found is not None and not found.critical


def test_a_window_without_a_zone_is_read_in_the_clients_own_zone() -> None:
    data = {**STORY_7, "critical_window": [{**STORY_7["critical_window"][0]}]}
    del data["critical_window"][0]["timezone"]
    in_new_york = ClientFacts("C-1042", timezone="America/New_York")
    early = target(data, in_new_york, chicago(2026, 3, 10, 7, 30))  # 08:30 in New York
    late = target(data, in_new_york, chicago(2026, 3, 10, 9, 30))  # 10:30 in New York
    assert early is not None and early.critical
    assert late is not None and not late.critical
    # Without a zone of its own, the client is read in the business's zone.
    local = target(data, ClientFacts("C-1042"), chicago(2026, 3, 10, 9, 30))
    assert local is not None and local.critical


def test_a_window_gives_way_when_the_policy_is_due_sooner() -> None:
    data = {
        **STORY_7,
        "policy": [{"name": "fast", "calendar": "24/7", "first_response": "15m"}],
    }
    found = target(data, LONG_TERM, chicago(2026, 3, 10, 8, 20))
    assert found is not None and found.policy == "fast" and not found.critical


def test_a_window_applies_even_when_no_policy_matches() -> None:
    data = {"critical_window": STORY_7["critical_window"]}
    found = target(data, LONG_TERM, chicago(2026, 3, 10, 8, 20))
    assert found is not None and found.critical and found.policy == "critical window"
    assert target(data, LONG_TERM, chicago(2026, 3, 10, 11)) is None


def test_before_opening_the_window_beats_the_business_hours_target() -> None:
    # At 08:20 the office is closed: 4 business hours would be due at 13:00.
    received = chicago(2026, 3, 10, 8, 20)
    policy_only = {"policy": STORY_7["policy"]}
    assert due(policy_only, LONG_TERM, received) == chicago(2026, 3, 10, 13)
    assert due(STORY_7, LONG_TERM, received) == chicago(2026, 3, 10, 8, 50)


# -- the clock -----------------------------------------------------------------------------------


def test_waiting_on_the_client_pauses_the_clock() -> None:
    clock = Clock.start(business_target(4), chicago(2026, 3, 10, 10))
    assert clock.due_at() == chicago(2026, 3, 10, 14)
    paused = clock.pause(chicago(2026, 3, 10, 11))  # one business hour used
    assert paused.state(chicago(2026, 3, 20)) == "paused"
    assert paused.due_at() is None and paused.warn_at() is None
    assert paused.used(chicago(2026, 3, 20)) == timedelta(hours=1)
    # Resumed Wednesday 16:00: one hour that day, Thursday is a holiday, two on Friday.
    resumed = paused.resume(chicago(2026, 3, 11, 16))
    assert resumed.due_at() == chicago(2026, 3, 13, 11)
    assert resumed.warn_at() == chicago(2026, 3, 13, 10)
    assert resumed.state(chicago(2026, 3, 13, 9, 59)) == "ok"
    assert resumed.state(chicago(2026, 3, 13, 10)) == "warning"
    assert resumed.state(chicago(2026, 3, 13, 11)) == "breached"


def test_pause_and_resume_are_idempotent() -> None:
    clock = Clock.start(business_target(4), chicago(2026, 3, 10, 10))
    assert clock.resume(chicago(2026, 3, 10, 12)) == clock
    paused = clock.pause(chicago(2026, 3, 10, 11))
    assert paused.pause(chicago(2026, 3, 10, 16)) == paused


def test_a_clock_paused_after_its_breach_is_breached_again_when_resumed() -> None:
    clock = Clock.start(business_target(1), chicago(2026, 3, 10, 10))
    resumed = clock.pause(chicago(2026, 3, 10, 12)).resume(chicago(2026, 3, 11, 9, 30))
    assert resumed.due_at() == chicago(2026, 3, 11, 9, 30)
    assert resumed.warn_at() == chicago(2026, 3, 11, 9, 30)
    assert resumed.state(chicago(2026, 3, 11, 9, 30)) == "breached"


def test_a_clock_refuses_naive_instants() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        Clock.start(business_target(1), datetime(2026, 3, 10, 10))


instants = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)
minutes = st.integers(1, 5 * 24 * 60).map(lambda m: timedelta(minutes=m))
calendars = st.sampled_from([OFFICE, always_open(CHICAGO)])


@given(calendars, instants, minutes, st.floats(0.05, 0.95))
@settings(max_examples=60, deadline=None)
def test_due_and_warning_never_precede_the_message(
    calendar: BusinessCalendar, received: datetime, duration: timedelta, fraction: float
) -> None:
    clock = Clock.start(Target("p", "first", duration, calendar, False, fraction), received)
    due_at, warn_at = clock.due_at(), clock.warn_at()
    assert due_at is not None and warn_at is not None
    assert received <= warn_at <= due_at
    assert clock.state(due_at) == "breached"


@given(calendars, instants, minutes, st.integers(0, 10 * 24 * 60), st.integers(0, 10 * 24 * 60))
@settings(max_examples=60, deadline=None)
def test_pausing_never_makes_the_due_instant_earlier(
    calendar: BusinessCalendar, received: datetime, duration: timedelta, run: int, wait: int
) -> None:
    clock = Clock.start(Target("p", "first", duration, calendar, False, 0.75), received)
    paused_at = received + timedelta(minutes=run)
    resumed = clock.pause(paused_at).resume(paused_at + timedelta(minutes=wait))
    before, after = clock.due_at(), resumed.due_at()
    assert before is not None and after is not None
    assert after >= before
    if wait == 0 and clock.used(paused_at) < duration:
        assert after == before  # a pause of no length changes nothing


# -- the file ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90m", timedelta(minutes=90)),
        ("2h", timedelta(hours=2)),
        ("1h30m", timedelta(minutes=90)),
        ("1d", timedelta(hours=24)),
        (" 1D 2H ", timedelta(hours=26)),
    ],
)
def test_durations_are_days_hours_and_minutes(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "2", "2 hours", "1.5h", "30m2h", "0m", "-1h"])
def test_other_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_days_are_ranges_lists_and_wrap_over_the_weekend() -> None:
    assert parse_days("mon-fri") == frozenset(range(5))
    assert parse_days("mon, wed,fri") == frozenset({0, 2, 4})
    assert parse_days("fri-mon") == frozenset({4, 5, 6, 0})


def test_the_example_file_parses() -> None:
    parsed = policies(STORY_7)
    assert parsed.warn_fraction == 0.75
    assert [p.name for p in parsed.policies] == ["standard", "long-term"]
    assert parsed.windows[0].zone == CHICAGO


def broken(change: dict[str, Any], *, window: bool = False) -> dict[str, Any]:
    """The story 7 file with its second policy or its window changed (None removes a key)."""
    original = STORY_7["critical_window"][0] if window else STORY_7["policy"][1]
    table = {k: v for k, v in {**original, **change}.items() if v is not None}
    if window:
        return {**STORY_7, "critical_window": [table]}
    return {**STORY_7, "policy": [STORY_7["policy"][0], table]}


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({**STORY_7, "warn_at": 1.5}, "warn_at"),
        ({**STORY_7, "warn_at": True}, "warn_at"),
        ({**STORY_7, "policies": []}, "policies"),
        ({**STORY_7, "policy": {"name": "x"}}, "policy"),
        (broken({"first_response": "2x"}), "policy[1].first_response"),
        (broken({"next_response": 4}), "policy[1].next_response"),
        (broken({"first_response": None, "next_response": None}), "policy[1].first_response"),
        (broken({"name": ""}), "policy[1].name"),
        (broken({"name": "standard"}), "policy[1].name"),
        (broken({"calendar": "weekly"}), "policy[1].calendar"),
        (broken({"tiers": [1]}), "policy[1].tiers"),
        (broken({"tier": ["gold"]}), "policy[1].tier"),
        (broken({"days": "mon-fry"}, window=True), "critical_window[0].days"),
        (broken({"hours": "10:00-08:00"}, window=True), "critical_window[0].hours"),
        (broken({"hours": "08:00-10:00,09:00-11:00"}, window=True), "critical_window[0].hours"),
        (broken({"timezone": "Mars/Base"}, window=True), "critical_window[0].timezone"),
        (broken({"client": None}, window=True), "critical_window[0].client"),
        (broken({"first_response": "0m"}, window=True), "critical_window[0].first_response"),
    ],
)
def test_a_wrong_file_names_the_file_and_the_key(data: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        policies(data)
    assert caught.value.message.startswith(f"sla.toml: {key}: ")
    assert caught.value.fields == {"file": "sla.toml", "key": key}
