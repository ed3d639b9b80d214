"""The month's printed touches, without a database: months, kinds, addresses, the CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from goodwill.domain.touch_batches import (
    CSV_COLUMNS,
    PostalAddress,
    check_kind,
    kind_of,
    mentions,
    missing_address,
    month_bounds,
    month_label,
    parse_month,
    postal_address,
    postcard_csv,
)
from goodwill.errors import InvalidInput


def test_a_month_is_read_as_its_first_day() -> None:
    assert parse_month("2026-12") == date(2026, 12, 1)
    assert parse_month(" 2027-01 ") == date(2027, 1, 1)
    assert month_label(date(2026, 12, 1)) == "December 2026"


@pytest.mark.parametrize("text", ["2026-13", "2026-00", "2026-1", "December", "", "2026-12-01"])
def test_a_month_that_is_not_one_is_refused_naming_the_field(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_month(text)
    assert caught.value.fields["field"] == "month"
    assert caught.value.message.startswith("month: ")
    assert "YYYY-MM" in caught.value.message


def test_the_month_runs_from_midnight_on_the_first_in_the_business_zone() -> None:
    start, end = month_bounds(date(2026, 12, 1), ZoneInfo("Europe/Berlin"))
    assert start.astimezone(UTC) == datetime(2026, 11, 30, 23, 0, tzinfo=UTC)
    assert end.astimezone(UTC) == datetime(2026, 12, 31, 23, 0, tzinfo=UTC)


@given(st.integers(min_value=1, max_value=9998), st.integers(min_value=1, max_value=12))
def test_months_follow_each_other_without_a_gap(year: int, month: int) -> None:
    zone = ZoneInfo("America/New_York")
    start, end = month_bounds(date(year, month, 1), zone)
    after, _ = month_bounds(end.date(), zone)
    assert end == after
    assert start.day == 1 and end.day == 1 and start < end
    assert parse_month(f"{year:04d}-{month:02d}") == start.date()


def test_the_kind_comes_from_the_touch_point() -> None:
    assert kind_of("client.birthday_month") == "birthday"
    assert kind_of("client.anniversary") == "anniversary"
    assert kind_of("client.milestone") == "milestone"
    assert kind_of("purchase.first") == "other"
    assert kind_of(None) == "other"
    assert check_kind(" Birthday ") == "birthday"
    assert check_kind("") is None and check_kind(None) is None
    with pytest.raises(InvalidInput) as caught:
        check_kind("christmas")
    assert caught.value.fields["field"] == "kind"
    assert "birthday, anniversary, milestone, other" in caught.value.message


def test_a_client_needs_a_street_and_a_city_for_a_card() -> None:
    assert missing_address(street="1 Main St", city="Leeds") is None
    assert missing_address(street=" ", city="Leeds") == "no street in the client's address"
    assert missing_address(street=None, city=None) == "no street or city in the client's address"
    kept = {"company": None, "region": None, "postcode": None, "country": None}
    assert postal_address(name="Ann", street="1 Main St", city="", **kept) is None


def test_a_second_street_line_and_the_company_go_on_line_two() -> None:
    address = postal_address(
        name="Ines Duarte",
        street="Rua das Flores 8\n 2º esq. \n",
        company="Duarte Ceramics",
        city=" Porto",
        region=None,
        postcode="4050-262",
        country="pt",
    )
    assert address == PostalAddress(
        "Rua das Flores 8", "Duarte Ceramics, 2º esq.", "Porto", "", "4050-262", "PT"
    )
    assert address.lines() == [
        "Rua das Flores 8",
        "Duarte Ceramics, 2º esq.",
        "4050-262 Porto",
        "PT",
    ]
    own = postal_address(
        name="Duarte Ceramics",
        street="Rua das Flores 8",
        company="duarte ceramics",
        city="Porto",
        region=None,
        postcode=None,
        country=None,
    )
    assert own is not None and own.line2 == ""  # a company client's name is not written twice


def test_the_csv_has_the_columns_postcard_services_take_and_keeps_the_message_whole() -> None:
    address = PostalAddress("12 Harbour Lane", "Flat 3", "Leeds", "West Yorkshire", "LS1 4AB", "GB")
    text = postcard_csv(
        [
            ("Margaret Holloway", address, "Dear Margaret,\n\nHappy birthday!\n"),
            ("=HYPERLINK(1)", address, "@once"),
        ]
    )
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == list(CSV_COLUMNS)
    assert CSV_COLUMNS == (
        "name",
        "address_line1",
        "address_line2",
        "city",
        "region",
        "postcode",
        "country",
        "message",
    )
    assert rows[1] == [
        "Margaret Holloway",
        "12 Harbour Lane",
        "Flat 3",
        "Leeds",
        "West Yorkshire",
        "LS1 4AB",
        "GB",
        "Dear Margaret,\n\nHappy birthday!",
    ]
    assert rows[2][0] == "'=HYPERLINK(1)" and rows[2][7] == "'@once"  # never run as a formula
    assert postcard_csv([]).splitlines() == [",".join(CSV_COLUMNS)]


def test_a_note_mentions_the_most_personal_facts_first_and_never_a_sensitivity() -> None:
    facts = [
        ("interest", "Interest: sailing"),
        ("sensitivity", "Sensitivity: never call before 10"),
        ("family", "Family event: her son's wedding"),
        ("interest", "Interest: sailing"),
        ("value", "What they value: being on time"),
        ("note", "Note: paid by card"),
    ]
    assert mentions(facts) == (
        "Family event: her son's wedding",
        "Interest: sailing",
        "What they value: being on time",
    )
    assert mentions(facts, limit=1) == ("Family event: her son's wedding",)
