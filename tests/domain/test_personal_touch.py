"""Personal-touch suggestions: hometowns, rivalries, shared schools and interests, dates soon."""

from __future__ import annotations

from datetime import date

import pytest

from goodwill.domain.personal_touch import (
    ClientFacts,
    StaffFacts,
    parse_rivalries,
    suggestions,
)
from goodwill.errors import ConfigError

TODAY = date(2026, 11, 23)
RIVALS = parse_rivalries(
    {
        "pair": [
            {"towns": ["Amsterdam", "Rotterdam"], "note": "De Klassieker."},
            {"towns": ["Minneapolis", "Saint Paul"], "relation": "neighbour"},
        ]
    }
)


def kinds(client: ClientFacts, staff: StaffFacts, today: date = TODAY) -> list[str]:
    return [s.kind for s in suggestions(client, staff, today=today, rivalries=RIVALS)]


def test_the_same_hometown_matches_ignoring_case_accents_and_country() -> None:
    (found,) = suggestions(
        ClientFacts("Ana Sousa", hometown="São Paulo, Brazil"),
        StaffFacts("Olive Owner", hometown="sao paulo"),
        today=TODAY,
    )
    assert found.kind == "same_hometown"
    assert found.text == "You are both from São Paulo."


def test_rival_and_neighbouring_hometowns_come_from_the_table() -> None:
    (rival,) = suggestions(
        ClientFacts("Daan de Vries", hometown="Amsterdam"),
        StaffFacts("Sem Bakker", hometown="Rotterdam"),
        today=TODAY,
        rivalries=RIVALS,
    )
    assert rival.kind == "rival_hometown"
    assert "Amsterdam and Rotterdam" in rival.text and "De Klassieker" in rival.text
    assert kinds(
        ClientFacts("A B", hometown="Saint Paul"), StaffFacts("C D", hometown="Minneapolis")
    ) == ["neighbour_hometown"]
    assert kinds(ClientFacts("A B", hometown="Leeds"), StaffFacts("C D", hometown="Graz")) == []


def test_a_shared_school_or_interest_is_named() -> None:
    found = suggestions(
        ClientFacts("A B", schools=("Leeds Grammar",), interests=("Sailing", "jazz")),
        StaffFacts("C D", schools=("leeds grammar",), interests=("Jazz",)),
        today=TODAY,
    )
    assert [(s.kind, s.text) for s in found] == [
        ("shared_school", "A shared school: Leeds Grammar."),
        ("shared_interest", "A shared interest: jazz."),
    ]


@pytest.mark.parametrize(
    ("birthday", "expected"),
    [
        ((23, 11), "A's birthday is today."),
        ((24, 11), "A's birthday is tomorrow (24 November)."),
        ((6, 12), "A's birthday is in 13 days (Sunday 06 December)."),
    ],
)
def test_a_birthday_within_two_weeks_is_suggested(birthday: tuple[int, int], expected: str) -> None:
    (found,) = suggestions(ClientFacts("A B", birthday=birthday), StaffFacts("C D"), today=TODAY)
    assert (found.kind, found.text) == ("birthday", expected)


def test_a_birthday_two_weeks_or_more_away_or_past_is_not() -> None:
    assert kinds(ClientFacts("A B", birthday=(7, 12)), StaffFacts("C D")) == []
    assert kinds(ClientFacts("A B", birthday=(22, 11)), StaffFacts("C D")) == []


def test_a_29_february_birthday_falls_on_28_february_in_other_years() -> None:
    (found,) = suggestions(
        ClientFacts("Leap Year", birthday=(29, 2)), StaffFacts("C D"), today=date(2027, 2, 20)
    )
    assert found.text == "Leap's birthday is in 8 days (Sunday 28 February)."


def test_the_client_anniversary_says_how_many_years() -> None:
    (found,) = suggestions(
        ClientFacts("A B", client_since=date(2006, 12, 1)), StaffFacts("C D"), today=TODAY
    )
    assert found.kind == "anniversary"
    assert found.text.startswith("20 years as a client in 8 days")
    assert kinds(ClientFacts("A B", client_since=date(2026, 11, 25)), StaffFacts("C D")) == []


def test_a_purchase_milestone_just_reached_is_suggested_once_it_is_recent() -> None:
    (found,) = suggestions(
        ClientFacts("A B", purchase_count=50, last_purchase=date(2026, 11, 10)),
        StaffFacts("C D"),
        today=TODAY,
    )
    assert (found.kind, found.text) == ("milestone", "Their 50th purchase, on 10 November.")
    old = ClientFacts("A B", purchase_count=50, last_purchase=date(2026, 9, 1))
    assert kinds(old, StaffFacts("C D")) == []
    assert kinds(ClientFacts("A B", purchase_count=51, last_purchase=TODAY), StaffFacts("C")) == []


def test_nothing_known_suggests_nothing() -> None:
    assert suggestions(ClientFacts("A B"), StaffFacts("C D"), today=TODAY) == []


def test_a_rivalry_table_with_one_town_is_refused() -> None:
    with pytest.raises(ConfigError, match="pair 1 needs towns"):
        parse_rivalries({"pair": [{"towns": ["Amsterdam"]}]})


def test_every_kind_of_fact_kept_gives_a_suggestion() -> None:
    from goodwill.domain.personal_touch import KeptFact

    facts = (
        KeptFact("family", "Daughter's wedding in Lisbon", date(2026, 12, 1)),
        KeptFact("event", "Moved the office", date(2026, 11, 15)),
        KeptFact("birthday", "Her son Tom's birthday", date(2015, 11, 25)),
        KeptFact("hometown", "Rotterdam"),
        KeptFact("school", "Leeds Grammar"),
        KeptFact("interest", "Sailing"),
        KeptFact("value", "Being on time moves six figures of our cash flow"),
        KeptFact("sensitivity", "Never call before 10"),
        KeptFact("note", "Prefers the Leeds shop"),
    )
    client = ClientFacts(name="Ann Smith", facts=facts)
    staff = StaffFacts(name="Sam", hometown="Amsterdam", schools=("Leeds Grammar",))
    rivals = parse_rivalries({"pair": [{"towns": ["Amsterdam", "Rotterdam"]}]})
    found = suggestions(client, staff, today=date(2026, 11, 23), rivalries=rivals)
    by_kind = {s.kind: s.text for s in found}
    assert by_kind["rival_hometown"].startswith("Rival hometowns: Rotterdam and Amsterdam")
    assert by_kind["shared_school"] == "A shared school: Leeds Grammar."
    assert by_kind["interest"] == "They like Sailing."
    assert by_kind["value"].endswith("six figures of our cash flow")
    assert by_kind["sensitivity"] == "Mind: Never call before 10"
    assert by_kind["note"] == "From the notes: Prefers the Leeds shop"
    events = [s.text for s in found if s.kind == "life_event"]
    assert "Ask how it went: Moved the office (15 November)." in events
    assert any(t.startswith("Coming up in 8 days") and "wedding" in t for t in events)
    assert any(t.startswith("Coming up tomorrow") or "Tom" in t for t in events)
