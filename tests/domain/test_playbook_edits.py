"""A rule edited in a form becomes the keys a playbook file holds, checked by the same parser; a
rule turned off creates nothing; the preview runs a rule over past touch points."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from goodwill.domain.calendars import BusinessCalendar, weekly_hours
from goodwill.domain.followups import ClientFrame
from goodwill.domain.playbook_edits import (
    PAGE_SOURCE,
    find_rule,
    form_from_rule,
    rule_from_form,
    with_enabled,
    with_rule,
    without_rule,
)
from goodwill.domain.playbooks import ClientContext, parse_playbook
from goodwill.domain.rule_preview import Occurrence, would_create
from goodwill.errors import ConfigError

DEFAULTS = Path(__file__).parents[2] / "src" / "goodwill" / "defaults" / "playbooks.toml"
AMS = ZoneInfo("Europe/Amsterdam")
OFFICE = BusinessCalendar(
    AMS, weekly_hours({d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")})
)
MONDAY = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def shipped() -> dict:
    return tomllib.loads(DEFAULTS.read_text("utf-8"))


def form(**fields: str | list[str]) -> dict[str, list[str]]:
    base: dict[str, str | list[str]] = {
        "on": "purchase.first",
        "title": "Thank {client} for a big first order",
        "channel": "email",
        "personal_level": "personal_message",
        "assignee": "client_owner",
        "due": "2 business days",
        "enabled": "1",
    }
    base.update(fields)
    return {k: v if isinstance(v, list) else [v] for k, v in base.items()}


def test_a_rule_read_into_the_form_and_back_is_the_same_rule() -> None:
    for rule in shipped()["rule"]:
        back = rule_from_form(
            {k: v if isinstance(v, list) else [str(v)] for k, v in _posted(rule).items()},
            name=rule["name"],
        )
        left = parse_playbook({"rule": [rule]}, source="file").rules[0]
        right = parse_playbook({"rule": [back]}, source="file").rules[0]
        assert left == right, rule["name"]


def _posted(rule: dict) -> dict:
    """What a browser sends for the form as filled from ``rule`` (unchecked boxes send nothing)."""
    values = form_from_rule(rule)
    posted: dict = {}
    for key, value in values.items():
        if value is True:
            posted[key] = "1"
        elif value is False:
            continue
        else:
            posted[key] = value
    return posted


def test_the_form_writes_only_what_differs_from_the_defaults() -> None:
    rule = rule_from_form(
        form(**{"when.tier": ["gold"], "when.amount.min": "500", "quiet_days": "0"}), name="big"
    )
    assert rule == {
        "name": "big",
        "on": "purchase.first",
        "title": "Thank {client} for a big first order",
        "channel": "email",
        "personal_level": "personal_message",
        "assignee": "client_owner",
        "due": "2 business days",
        "when": {"tier": ["gold"], "amount": {"min": 500}},
    }
    assert rule_from_form(form(assignee="team", team="front desk"), name="x")["assignee"] == (
        "team:front desk"
    )


def test_a_value_the_form_cannot_read_reaches_the_parser_which_names_the_field() -> None:
    document = with_rule(
        shipped(), rule_from_form(form(quiet_days="two"), name="big"), replacing=None
    )
    with pytest.raises(ConfigError) as caught:
        parse_playbook(document, source=PAGE_SOURCE)
    assert caught.value.fields["field"] == "quiet_days"
    assert caught.value.message == (
        "settings page: rule 'big': quiet_days: expected a whole number of days, 0 or more"
    )
    ranged = with_rule(
        shipped(), rule_from_form(form(**{"when.ordinal.min": "2nd"}), name="big"), replacing=None
    )
    with pytest.raises(ConfigError, match=r"when\.ordinal: min and max must be numbers"):
        parse_playbook(ranged, source=PAGE_SOURCE)


def test_a_rule_turned_off_stays_in_the_playbook_and_fires_on_nothing() -> None:
    off = with_enabled(shipped(), "thank-you-first-purchase", on=False)
    assert find_rule(off, "thank-you-first-purchase")["enabled"] is False
    playbook = parse_playbook(off, source=PAGE_SOURCE)
    assert playbook.rule("thank-you-first-purchase").enabled is False
    assert "thank-you-first-purchase" not in [r.name for r in playbook.rules_for("purchase.first")]
    back = with_enabled(off, "thank-you-first-purchase", on=True)
    assert "enabled" not in find_rule(back, "thank-you-first-purchase")
    assert back == shipped()


def test_a_rule_replaced_keeps_its_place_and_a_deleted_one_is_gone() -> None:
    document = shipped()
    names = [r["name"] for r in document["rule"]]
    changed = dict(find_rule(document, names[3]), due="5 business days")
    replaced = with_rule(document, changed, replacing=names[3])
    assert [r["name"] for r in replaced["rule"]] == names
    assert replaced["rule"][3]["due"] == "5 business days"
    assert document["rule"][3]["due"] != "5 business days"  # the original is left alone
    assert [r["name"] for r in without_rule(document, names[3])["rule"]] == names[:3] + names[4:]


def _occurrence(client_id: int, at: datetime, *, tier: str = "gold", amount: int = 800):
    return Occurrence(
        client_id=client_id,
        occurred_at=at,
        payload={"n": 1, "amount": amount},
        client=ClientContext(name=f"Client {client_id}", tier=tier, tenure_years=1.0),
        frame=ClientFrame(zone=AMS),
        who="Olga Owner",
    )


def test_the_preview_lists_what_the_rule_would_have_made_newest_first() -> None:
    raw = rule_from_form(form(**{"when.tier": ["gold"]}), name="big")
    rule = parse_playbook({"rule": [raw]}, source=PAGE_SOURCE).rules[0]
    events = [
        _occurrence(1, MONDAY),
        _occurrence(2, MONDAY + timedelta(days=1), tier="silver"),  # not gold: no follow-up
        _occurrence(3, MONDAY + timedelta(days=2)),
        _occurrence(1, MONDAY + timedelta(hours=2)),  # client 1's first one is still open
        _occurrence(1, MONDAY + timedelta(days=10)),  # long after its due: a new one
    ]
    preview = would_create(rule, events, calendar=OFFICE)
    assert preview.total == 3 and preview.joined == 1
    assert [(w.client_id, w.occurred_at) for w in preview.items] == [
        (1, MONDAY + timedelta(days=10)),
        (3, MONDAY + timedelta(days=2)),
        (1, MONDAY),
    ]
    first = preview.items[-1]
    assert first.title == "Thank Client 1 for a big first order"
    assert first.who == "Olga Owner"
    assert first.due_at == datetime(2026, 11, 4, 9, 0, tzinfo=UTC)  # two business days on
    assert len(would_create(rule, events, calendar=OFFICE, shown=1).items) == 1


def test_the_preview_of_a_rule_with_quiet_days_leaves_out_what_the_quiet_period_holds() -> None:
    raw = rule_from_form(form(quiet_days="14"), name="big")
    rule = parse_playbook({"rule": [raw]}, source=PAGE_SOURCE).rules[0]
    events = [_occurrence(1, MONDAY), _occurrence(2, MONDAY)]
    preview = would_create(rule, events, calendar=OFFICE, closed={1: [MONDAY - timedelta(days=3)]})
    assert [w.client_id for w in preview.items] == [2] and preview.quiet == 1
