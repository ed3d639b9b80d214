import tomllib
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from goodwill.domain.calendars import BusinessCalendar, weekly_hours
from goodwill.domain.contact_windows import parse_contact_window
from goodwill.domain.followups import ClientFrame, due_at
from goodwill.domain.playbooks import (
    ClientContext,
    Due,
    PersonalLevel,
    matches,
    parse_due,
    parse_playbook,
    render_title,
)
from goodwill.errors import ConfigError

DEFAULTS = Path(__file__).parents[2] / "src" / "goodwill" / "defaults" / "playbooks.toml"
AMS = ZoneInfo("Europe/Amsterdam")
OFFICE = BusinessCalendar(
    AMS,
    weekly_hours({d: ["09:00-12:00", "13:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")}),
    holidays=frozenset({datetime(2026, 12, 25).date()}),
)


def default_playbook():
    return parse_playbook(tomllib.loads(DEFAULTS.read_text("utf-8")), source="defaults")


def rule_named(name: str):
    return next(r for r in default_playbook().rules if r.name == name)


def client(tier: str | None = "silver", years: float = 3.0) -> ClientContext:
    return ClientContext(name="Ann Example", tier=tier, tenure_years=years)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2 business days", Due("business_days", 2)),
        ("within 1 hour", Due("business_hours", 1)),
        ("3 days", Due("days", 3)),
        ("90 minutes", Due("hours", 1.5)),
        ("4 business hours", Due("business_hours", 4)),
        ("next contact window", Due("next_contact_window")),
        ("Birthday week Monday", Due("birthday_week_monday")),
    ],
)
def test_due_rules_are_read_from_plain_words(text: str, expected: Due) -> None:
    assert parse_due(text) == expected


def test_the_shipped_playbook_embodies_the_design() -> None:
    playbook = default_playbook()
    on_late = playbook.rules_for("payment.late")
    first = [r for r in on_late if matches(r, {"n": 1}, client())]
    second = [r for r in on_late if matches(r, {"n": 2}, client())]
    assert [r.personal_level for r in first] == [PersonalLevel.PERSONAL_MESSAGE]
    assert [(r.assignee.kind, r.personal_level) for r in second] == [
        ("business_owner", PersonalLevel.OWNER_CALL)
    ]
    assert all("fee" not in (r.template or "") for r in on_late)
    # Birthday touches grow more personal with value: a mail, a printed postcard in the post,
    # a note the owner writes by hand.
    felt = ("email", "postcard", "note")
    levels = {
        tier: next(
            (r.personal_level.rank, felt.index(r.channel))
            for r in playbook.rules_for("client.birthday_month")
            if matches(r, {}, client(tier))
        )
        for tier in ("bronze", "silver", "gold")
    }
    assert levels["bronze"] < levels["silver"] < levels["gold"]
    missed = rule_named("missed-regular-purchase")
    assert missed.channel == "call" and "purchase.repeat" in missed.closes_on
    assert rule_named("thank-you-first-purchase").on == "purchase.first"
    assert rule_named("incident-follow-up").due == Due("business_days", 1)


def test_titles_name_the_client_and_the_facts() -> None:
    rule = rule_named("late-payment-owner-conversation")
    title = render_title(rule, {"n": 2}, client())
    assert title == "Late payment #2 from Ann Example: talk about payment dates or method"


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"on": "purchase.first"}, "rule 'r': title: required"),
        ({"on": "purchase.frist"}, "rule 'r': on: 'purchase.frist' is not a touch point"),
        ({"due": "soonish"}, "rule 'r': due: 'soonish' is not a due rule"),
        ({"assignee": "boss"}, "rule 'r': assignee: 'boss'"),
        ({"channel": "fax"}, "rule 'r': channel: 'fax'"),
        ({"title": "Hi {nmae}"}, "rule 'r': title: unknown placeholder {nmae}"),
        ({"when": {"late": 2}}, "rule 'r': when.late: unknown condition"),
        ({"when": {"ordinal": "two"}}, "rule 'r': when.ordinal: expected a number"),
        ({"fresh_days": -1}, "rule 'r': fresh_days: expected a whole number"),
    ],
)
def test_a_bad_rule_is_refused_naming_file_rule_and_field(rule: dict, message: str) -> None:
    base = {
        "name": "r",
        "on": "purchase.first",
        "title": "Thanks {client}",
        "channel": "email",
        "personal_level": "automated",
        "assignee": "client_owner",
        "due": "2 business days",
    }
    if rule.get("on") == "purchase.first" and len(rule) == 1:
        base.pop("title")
    with pytest.raises(ConfigError) as caught:
        parse_playbook({"rule": [base | rule]}, source="mine.toml")
    assert str(caught.value).startswith("mine.toml: ")
    assert message in str(caught.value)


def test_two_rules_with_one_name_are_refused() -> None:
    rule = {
        "name": "r",
        "on": "purchase.first",
        "title": "x",
        "channel": "email",
        "personal_level": "automated",
        "assignee": "client_owner",
        "due": "1 days",
    }
    with pytest.raises(ConfigError, match="name: used by two rules"):
        parse_playbook({"rule": [rule, rule]}, source="mine.toml")


def test_conditions_on_tier_tenure_channel_and_amount() -> None:
    rule = parse_playbook(
        {
            "rule": [
                {
                    "name": "r",
                    "on": "purchase.repeat",
                    "title": "x",
                    "channel": "call",
                    "personal_level": "owner_call",
                    "assignee": "business_owner",
                    "due": "1 days",
                    "when": {
                        "tier": ["gold"],
                        "tenure_years": {"min": 10},
                        "channel": "Reseller: *",
                        "amount": {"min": 100},
                    },
                }
            ]
        },
        source="s",
    ).rules[0]
    good = {"channel": "Reseller: Northwind", "amount": "150.00"}
    assert matches(rule, good, client("gold", 12))
    assert not matches(rule, good, client("silver", 12))
    assert not matches(rule, good, client("gold", 3))
    assert not matches(rule, good | {"channel": "web shop"}, client("gold", 12))
    assert not matches(rule, good | {"amount": "20"}, client("gold", 12))


def frame(window: str | None = None) -> ClientFrame:
    return ClientFrame(
        zone=AMS, window=parse_contact_window(window, AMS) if window else None, birthday=(17, 12)
    )


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=AMS)


def test_business_days_skip_weekends_and_holidays() -> None:
    friday = local(2026, 12, 18, 15, 0)
    due = due_at(Due("business_days", 5), base=friday, business=OFFICE, client=frame())
    assert due == local(2026, 12, 28, 15, 0)  # 25 December is a holiday


def test_within_an_hour_on_saturday_means_monday_morning() -> None:
    saturday = local(2026, 11, 21, 23, 59)
    due = due_at(Due("business_hours", 1), base=saturday, business=OFFICE, client=frame())
    assert due == local(2026, 11, 23, 10, 0)


def test_next_contact_window_meets_the_clients_window_inside_business_hours() -> None:
    evening = local(2026, 11, 23, 18, 0)
    due = due_at(
        Due("next_contact_window"),
        base=evening,
        business=OFFICE,
        client=frame("mon-fri 08:00-10:00"),
    )
    assert due == local(2026, 11, 24, 9, 0)
    no_window = due_at(Due("next_contact_window"), base=evening, business=OFFICE, client=frame())
    assert no_window == local(2026, 11, 24, 9, 0)


def test_birthday_week_monday_is_the_opening_of_that_monday() -> None:
    start_of_month = local(2026, 12, 1, 0, 0)
    due = due_at(Due("birthday_week_monday"), base=start_of_month, business=OFFICE, client=frame())
    assert due == local(2026, 12, 14, 9, 0)  # the birthday is Thursday 17 December


def test_wall_clock_days_land_on_an_opening() -> None:
    friday_evening = local(2026, 11, 20, 16, 30)
    due = due_at(Due("days", 1), base=friday_evening, business=OFFICE, client=frame())
    assert due == local(2026, 11, 23, 9, 0)
    assert due.utcoffset() == timedelta(0)  # instants leave the domain in UTC


@pytest.mark.parametrize("text", ["mon-fri", "mon 25:00-26:00", "xyz 08:00-10:00", ""])
def test_a_bad_contact_window_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_contact_window(text, AMS)
