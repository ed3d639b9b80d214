"""The on-call rota: turns by day and week, overrides, the fallback, and who gets a new conversation."""

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from goodwill.domain.calendars import BusinessCalendar, weekly_hours
from goodwill.domain.rota import Override, Rota, assignee_for_new, parse_rota
from goodwill.errors import ConfigError

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
ANA, BEN, CY, OWNER = (
    "ana@shop.example",
    "ben@shop.example",
    "cy@shop.example",
    "owner@shop.example",
)
# 2026-01-05 is a Monday; Amsterdam springs forward on 2026-03-29 and falls back on 2026-10-25.
WEEKLY = {
    "timezone": "Europe/Amsterdam",
    "fallback": OWNER,
    "rotation": [{"every": "week", "handover": "2026-01-05 09:00", "people": [ANA, BEN]}],
    "override": [{"person": CY, "from": "2026-12-24 00:00", "until": "2026-12-27 00:00"}],
}
SHOP = BusinessCalendar(
    AMSTERDAM, weekly_hours({d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")})
)


def ams(*args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=AMSTERDAM, fold=fold)  # type: ignore[misc]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def rota(data: dict[str, Any]) -> Rota:
    return parse_rota(data, source="rota.toml")


def daily(handover: str, people: list[str]) -> Rota:
    return rota(
        {
            "timezone": "Europe/Amsterdam",
            "rotation": [{"every": "day", "handover": handover, "people": people}],
        }
    )


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (ams(2026, 1, 5, 8, 59), OWNER),  # before the first handover: the fallback
        (ams(2026, 1, 5, 9), ANA),
        (ams(2026, 1, 10, 23), ANA),
        (ams(2026, 1, 12, 8, 59), ANA),
        (ams(2026, 1, 12, 9), BEN),
        (ams(2026, 1, 19, 9), ANA),
        (ams(2027, 1, 11, 9), BEN),  # 53 weeks on
    ],
)
def test_a_weekly_rotation_hands_over_at_its_wall_time(at: datetime, expected: str) -> None:
    assert rota(WEEKLY).on_call(at) == expected


def test_a_daily_rotation_takes_turns_each_day() -> None:
    three = daily("2026-01-05 08:00", [ANA, BEN, CY])
    turns = [three.on_call(ams(2026, 1, 5 + day, 12)) for day in range(4)]
    assert turns == [ANA, BEN, CY, ANA]
    assert three.on_call(ams(2026, 1, 6, 7, 59)) == ANA


def test_the_weekly_handover_stays_at_nine_across_the_spring_dst_change() -> None:
    # Monday 2026-03-30 09:00 CEST is 07:00 UTC; the week before, 09:00 CET was 08:00 UTC.
    weekly = rota(WEEKLY)
    assert weekly.on_call(utc(2026, 3, 23, 7, 59)) == ANA  # turn 10 until 09:00 CET
    assert weekly.on_call(utc(2026, 3, 23, 8)) == BEN  # turn 11
    assert weekly.on_call(utc(2026, 3, 30, 6, 59)) == BEN
    assert weekly.on_call(utc(2026, 3, 30, 7)) == ANA  # turn 12, at 09:00 CEST


def test_the_daily_handover_stays_at_nine_across_the_autumn_dst_change() -> None:
    two = daily("2026-10-20 09:00", [ANA, BEN])
    assert two.on_call(utc(2026, 10, 26, 7, 59)) == BEN  # Sunday's turn, 08:59 CET
    assert two.on_call(utc(2026, 10, 26, 8)) == ANA  # 09:00 CET


def test_a_handover_at_a_skipped_wall_time_happens_when_the_clock_jumps() -> None:
    two = daily("2026-03-28 02:30", [ANA, BEN])  # 02:30 does not exist on 2026-03-29
    assert two.on_call(utc(2026, 3, 29, 0, 59)) == ANA
    assert two.on_call(utc(2026, 3, 29, 1)) == BEN  # 03:00 CEST, the jump past 02:30


def test_a_handover_at_a_repeated_wall_time_happens_once_at_the_first() -> None:
    two = daily("2026-10-24 02:30", [ANA, BEN])  # 02:30 happens twice on 2026-10-25
    assert two.on_call(ams(2026, 10, 25, 2, 29)) == ANA
    assert two.on_call(ams(2026, 10, 25, 2, 30)) == BEN
    assert two.on_call(ams(2026, 10, 25, 2, 15, fold=1)) == BEN  # the second 02:15
    assert two.on_call(ams(2026, 10, 25, 2, 30, fold=1)) == BEN


def test_an_override_covers_from_its_start_until_its_end() -> None:
    weekly = rota(WEEKLY)
    assert weekly.on_call(ams(2026, 12, 23, 23, 59)) != CY
    assert weekly.on_call(ams(2026, 12, 24)) == CY
    assert weekly.on_call(ams(2026, 12, 26, 23, 59)) == CY
    assert weekly.on_call(ams(2026, 12, 27)) != CY


def test_the_latest_starting_override_wins_and_the_dashboard_beats_the_file_on_a_tie() -> None:
    weekly = rota(WEEKLY)
    later = Override(ANA, ams(2026, 12, 25), ams(2026, 12, 26))
    same_start = Override(BEN, ams(2026, 12, 24), ams(2026, 12, 25))
    assert weekly.on_call(ams(2026, 12, 25, 12), [later]) == ANA
    assert weekly.on_call(ams(2026, 12, 24, 12), [later, same_start]) == BEN
    assert weekly.on_call(ams(2026, 12, 26, 12), [later, same_start]) == CY


def test_the_first_rotation_that_has_begun_wins() -> None:
    data = {
        **WEEKLY,
        "rotation": [
            {"every": "week", "handover": "2026-06-01 09:00", "people": [CY]},
            *WEEKLY["rotation"],
        ],
    }
    both = rota(data)
    assert both.on_call(ams(2026, 5, 29, 12)) in (ANA, BEN)
    assert both.on_call(ams(2026, 6, 1, 9)) == CY


def test_only_overrides_and_a_fallback_is_a_rota() -> None:
    bare = rota({"timezone": "Europe/Amsterdam", "fallback": OWNER})
    assert bare.on_call(ams(2026, 1, 1)) == OWNER


def test_the_rota_refuses_naive_instants() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        rota(WEEKLY).on_call(datetime(2026, 1, 5, 9))


# -- who gets a new conversation -----------------------------------------------------------------


def test_the_clients_owner_gets_it_in_business_hours() -> None:
    at = ams(2026, 1, 6, 10)
    assert assignee_for_new(at, owner=CY, business=SHOP, rota=rota(WEEKLY)) == CY


def test_the_on_call_person_gets_it_outside_business_hours() -> None:
    at = ams(2026, 1, 6, 20)
    assert assignee_for_new(at, owner=CY, business=SHOP, rota=rota(WEEKLY)) == ANA
    at = ams(2026, 12, 24, 20)
    override = Override(BEN, ams(2026, 12, 24, 18), ams(2026, 12, 25))
    found = assignee_for_new(at, owner=CY, business=SHOP, rota=rota(WEEKLY), overrides=[override])
    assert found == BEN


def test_a_client_without_an_owner_goes_to_the_on_call_person_even_in_hours() -> None:
    assert (
        assignee_for_new(ams(2026, 1, 6, 10), owner=None, business=SHOP, rota=rota(WEEKLY)) == ANA
    )


def test_without_a_rota_overrides_still_count_and_the_owner_is_the_last_resort() -> None:
    at = ams(2026, 1, 6, 20)
    override = Override(BEN, ams(2026, 1, 6, 18), ams(2026, 1, 7))
    assert assignee_for_new(at, owner=CY, business=SHOP, rota=None, overrides=[override]) == BEN
    assert assignee_for_new(at, owner=CY, business=SHOP, rota=None) == CY
    assert assignee_for_new(at, owner=None, business=SHOP, rota=None) is None
    no_turn_yet = rota({**WEEKLY, "fallback": None})
    assert assignee_for_new(ams(2025, 12, 1, 20), owner=CY, business=SHOP, rota=no_turn_yet) == CY


# -- the file ------------------------------------------------------------------------------------


def test_the_file_accepts_toml_date_times() -> None:
    data = {
        **WEEKLY,
        "rotation": [{"every": "week", "handover": datetime(2026, 1, 5, 9), "people": [ANA, BEN]}],
        "override": [
            {
                "person": CY,
                "from": datetime(2026, 12, 23, 23, tzinfo=UTC),
                "until": datetime(2026, 12, 27),
            }
        ],
    }
    parsed = rota(data)
    assert parsed.rotations == rota(WEEKLY).rotations
    assert parsed.overrides[0].starts_at == ams(2026, 12, 24)


def change(table: str, **values: Any) -> dict[str, Any]:
    """WEEKLY with one key of its first rotation or override changed (None removes it)."""
    changed = {k: v for k, v in {**WEEKLY[table][0], **values}.items() if v is not None}
    return {**WEEKLY, table: [changed]}


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({**WEEKLY, "timezone": None}, "timezone"),
        ({**WEEKLY, "timezone": "Mars/Base"}, "timezone"),
        ({**WEEKLY, "fallback": ""}, "fallback"),
        ({**WEEKLY, "rotations": []}, "rotations"),
        ({"timezone": "Europe/Amsterdam"}, "rotation"),
        (change("rotation", every="month"), "rotation[0].every"),
        (change("rotation", handover="next monday"), "rotation[0].handover"),
        (change("rotation", handover=None), "rotation[0].handover"),
        (change("rotation", people=[]), "rotation[0].people"),
        (change("rotation", person=[ANA]), "rotation[0].person"),
        (change("override", person=None), "override[0].person"),
        (change("override", until="2026-12-24 00:00"), "override[0].until"),
        (change("override", **{"from": "24/12/2026"}), "override[0].from"),
    ],
)
def test_a_wrong_rota_names_the_file_and_the_key(data: dict[str, Any], key: str) -> None:
    data = {k: v for k, v in data.items() if v is not None}
    with pytest.raises(ConfigError) as caught:
        rota(data)
    assert caught.value.message.startswith(f"rota.toml: {key}: ")
    assert caught.value.fields == {"file": "rota.toml", "key": key}


def test_turns_follow_the_list_day_after_day_through_the_dst_change() -> None:
    order = [ANA, BEN, CY]
    three = daily("2026-01-05 09:00", order)
    people = [three.on_call(ams(2026, 3, 20, 9) + timedelta(days=d)) for d in range(30)]
    assert all(order.index(b) == (order.index(a) + 1) % 3 for a, b in pairwise(people))
