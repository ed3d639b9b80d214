"""A playbook rule's conditions and deadlines in the words the Playbook page uses."""

from __future__ import annotations

from goodwill.domain.playbooks import Assignee, Due, Rule, parse_playbook
from goodwill.web import rule_words


def _rule(**fields: object) -> Rule:
    raw = {
        "name": "r",
        "on": "purchase.repeat",
        "title": "{client} came back",
        "channel": "email",
        "personal_level": "automated",
        "assignee": "client_owner",
        "due": "2 business days",
        "template": "welcome-back",
        "reason": "r",
        **fields,
    }
    return parse_playbook({"rule": [raw]}, source="test").rules[0]


def test_ordinals_read_as_people_say_them() -> None:
    said = [rule_words.ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111)]
    assert said == [
        "1st",
        "2nd",
        "3rd",
        "4th",
        "11th",
        "12th",
        "13th",
        "21st",
        "22nd",
        "101st",
        "111th",
    ]


def test_conditions_read_as_a_sentence() -> None:
    rule = _rule(when={"ordinal": {"min": 3}, "tier": ["gold", "silver"], "channel": "Etsy*"})
    assert rule_words.when_words(rule) == (
        "A repeat purchase: the 3rd order or later; gold or silver clients; through Etsy*"
    )
    late = _rule(on="payment.late", when={"late_count": 1})
    assert rule_words.condition_words(late) == ["the client's 1st late payment"]
    tenure = _rule(on="client.anniversary", when={"tenure_years": {"max": 4.99}})
    assert rule_words.condition_words(tenure) == ["clients of less than 5 years"]
    assert rule_words.when_words(_rule(on="purchase.first")) == "A client's first purchase"


def test_who_and_by_when_in_words() -> None:
    assert rule_words.who_words(Assignee("team", "Support")) == "The Support team, in turn"
    assert rule_words.who_words(Assignee("on_call")) == "Whoever is on call"
    assert rule_words.due_words(Due("business_hours", 1)) == "Within 1 business hour"
    assert rule_words.due_words(Due("days", 3)) == "Within 3 days"
    assert rule_words.due_words(Due("next_contact_window")) == (
        "In the client's next contact window"
    )


def test_a_title_shows_stand_ins_for_its_placeholders() -> None:
    rule = _rule(title="{client}'s {n}th order ({amount})")
    assert rule_words.title_words(rule) == "The client's Nth order (the amount)"


def test_why_a_rule_needs_a_person() -> None:
    assert rule_words.cannot_automate(_rule(channel="call")) == "a call needs a person"
    assert rule_words.cannot_automate(_rule(template=None)) == "it names no template to send"
