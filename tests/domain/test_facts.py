"""Facts, notes and logged interactions are checked before they are kept: each refusal names
its field; dated facts come on their day (yearly for birthdays and anniversaries)."""

from __future__ import annotations

from datetime import date

import pytest

from goodwill.domain.counter_sales import SaleLine, sale_lines
from goodwill.domain.facts import (
    DATED_KINDS,
    FACT_KINDS,
    check_fact,
    check_interaction,
    check_note,
    check_version,
    occurrence,
)
from goodwill.errors import InvalidInput


def _field(call) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInput) as caught:
        call()
    return str(caught.value.fields["field"])


def test_every_kind_of_fact_is_known_and_dated_ones_are_a_subset() -> None:
    assert list(FACT_KINDS) == [
        "birthday", "anniversary", "family", "event", "hometown",
        "school", "interest", "value", "sensitivity", "note",
    ]  # fmt: skip
    assert set(FACT_KINDS) >= DATED_KINDS


def test_a_family_event_keeps_its_day_and_trimmed_text() -> None:
    fact = check_fact(" Family ", "  Daughter's wedding in Lisbon ", "2027-06-12")
    assert (fact.kind, fact.text, fact.on_date) == (
        "family",
        "Daughter's wedding in Lisbon",
        date(2027, 6, 12),
    )
    assert check_fact("family", "Two kids", "").on_date is None


def test_bad_facts_are_refused_naming_the_field() -> None:
    assert _field(lambda: check_fact("horoscope", "Leo")) == "kind"
    assert _field(lambda: check_fact("interest", "")) == "text"
    assert _field(lambda: check_fact("interest", "x" * 1001)) == "text"
    assert _field(lambda: check_fact("interest", "bell\x07")) == "text"
    assert _field(lambda: check_fact("event", "Shop launch", "next-ish")) == "on_date"
    assert _field(lambda: check_fact("event", "Shop launch", "2027-02-30")) == "on_date"
    assert _field(lambda: check_fact("event", "Shop launch")) == "on_date"
    assert _field(lambda: check_fact("hometown", "Leeds", "2027-01-01")) == "on_date"
    assert _field(lambda: check_fact("note", "x", source="rumour")) == "source"
    assert _field(lambda: check_fact("note", "x", quote="q" * 2001)) == "quote"


def test_interactions_notes_and_versions_are_checked() -> None:
    logged = check_interaction("Call", " Asked about boots ", " Friday ")
    assert (logged.kind, logged.text, logged.outcome) == ("call", "Asked about boots", "Friday")
    assert check_interaction("visit", "Came in", "  ").outcome is None
    assert _field(lambda: check_interaction("note", "x")) == "kind"
    assert _field(lambda: check_interaction("call", "x", "o" * 501)) == "outcome"
    assert _field(lambda: check_note(" ")) == "text"
    assert check_version("3") == 3
    assert _field(lambda: check_version("three")) == "version"
    assert _field(lambda: check_version(0)) == "version"


@pytest.mark.parametrize(
    ("kind", "on", "today", "expected"),
    [
        ("family", date(2027, 6, 12), date(2027, 6, 11), None),  # not yet
        ("family", date(2027, 6, 12), date(2027, 6, 12), date(2027, 6, 12)),  # the day
        ("family", date(2027, 6, 12), date(2027, 6, 19), date(2027, 6, 12)),  # caught up
        ("family", date(2027, 6, 12), date(2027, 6, 20), None),  # too late
        ("event", date(2027, 6, 12), date(2028, 6, 12), None),  # once
        ("birthday", date(2015, 12, 3), date(2027, 12, 3), date(2027, 12, 3)),  # yearly
        ("birthday", date(2015, 12, 30), date(2027, 1, 2), date(2026, 12, 30)),  # over new year
        ("anniversary", date(2016, 2, 29), date(2027, 2, 28), date(2027, 2, 28)),
        ("birthday", date(2027, 3, 1), date(2026, 3, 1), None),  # never before the date
        ("interest", date(2027, 3, 1), date(2027, 3, 1), None),
    ],
)
def test_a_dated_fact_comes_on_its_day(
    kind: str, on: date, today: date, expected: date | None
) -> None:
    assert occurrence(kind, on, today=today) == expected


def test_a_counter_sale_splits_into_lines_and_refuses_sums_that_do_not_add_up() -> None:
    assert sale_lines("120", [], "EUR") == [SaleLine(None, 12000)]
    assert sale_lines("120.00", ["Boots = 89.90", "Laces"], "EUR") == [
        SaleLine("Boots", 8990),
        SaleLine("Laces", 3010),
    ]
    assert sale_lines(None, ["Boots = 89.90", "Laces=1"], "EUR")[1] == SaleLine("Laces", 100)
    assert _field(lambda: sale_lines("twelve", [], "EUR")) == "amount"
    assert _field(lambda: sale_lines("-5", [], "EUR")) == "amount"
    assert _field(lambda: sale_lines("5 apples", [], "EUR")) == "amount"
    assert _field(lambda: sale_lines(None, ["Boots"], "EUR")) == "amount"
    assert _field(lambda: sale_lines("50", ["Boots = 89.90"], "EUR")) == "amount"
    assert _field(lambda: sale_lines("50", ["= 5"], "EUR")) == "items"
