"""Reading the client record's fields: every value checked, every problem named by its field."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from goodwill.domain.client_record import (
    Reading,
    RecordError,
    birthday_text,
    read_birthday,
    read_contact,
    read_record,
    restricted,
)

READING = Reading(today=date(2026, 11, 23), zone=ZoneInfo("Europe/Amsterdam"), region="NL")


def test_a_new_client_is_read_into_stored_values() -> None:
    values = read_record(
        {
            "name": "  Ana   Lima ",
            "email": "Ana@Example.COM",
            "other_emails": "ana@work.example\nANA@example.com, second@example.com",
            "phone": "020 123 4567",
            "country": "nl",
            "preferred_channel": "Phone",
            "birthday": "--06-12",
            "client_since": "1 March 2004",
            "marketing_consent": "withdrawn",
            "consent_at": "2026-11-20 10:00",
        },
        READING,
        creating=True,
    )
    assert values["name"] == "Ana Lima" and values["email"] == "ana@example.com"
    assert values["other_emails"] == ["ana@work.example", "second@example.com"]
    assert values["phone"] == "+31201234567" and values["country"] == "NL"
    assert values["preferred_channel"] == "phone" and values["birthday"] == (12, 6, None)
    assert values["client_since"] == date(2004, 3, 1) and values["marketing_consent"] is False
    assert values["consent_at"] == datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def test_every_wrong_field_is_named_at_once() -> None:
    with pytest.raises(RecordError) as caught:
        read_record(
            {
                "name": "",
                "email": "not-an-email",
                "phone": "12",
                "country": "Netherlands",
                "timezone": "Mars/Olympus",
                "contact_window": "whenever",
                "client_since": "31 February 2020",
                "birthday": "2030-01-01",
                "marketing_consent": "maybe",
            },
            READING,
            creating=True,
        )
    errors = caught.value.errors
    assert set(errors) == {
        "name",
        "email",
        "phone",
        "country",
        "timezone",
        "contact_window",
        "client_since",
        "birthday",
        "marketing_consent",
    }
    assert "not a time zone" in errors["timezone"] and "future" in errors["birthday"]


def test_an_edit_reads_only_the_fields_given_and_an_empty_one_clears() -> None:
    assert read_record({"city": ""}, READING, creating=False) == {"city": None}
    with pytest.raises(RecordError) as caught:
        read_record({"name": " "}, READING, creating=False)
    assert caught.value.field == "name"
    with pytest.raises(RecordError) as unknown:
        read_record({"shoe_size": "42"}, READING, creating=False)
    assert unknown.value.field == "shoe_size"


def test_a_client_since_in_the_future_and_a_date_that_is_not_one_are_refused() -> None:
    for text in ("2027-01-01", "soon", "2026-13-01"):
        with pytest.raises(RecordError) as caught:
            read_record({"client_since": text}, READING, creating=False)
        assert caught.value.field == "client_since"


def test_birthdays_may_leave_out_the_year_and_29_february_is_a_day() -> None:
    today = date(2026, 11, 23)
    assert read_birthday("1980-06-12", "dmy", today=today) == (12, 6, 1980)
    assert read_birthday("--02-29", "dmy", today=today) == (29, 2, None)
    assert read_birthday("12 June 1980", "dmy", today=today) == (12, 6, 1980)
    with pytest.raises(ValueError, match="not a real day"):
        read_birthday("--02-30", "dmy", today=today)
    assert birthday_text(12, 6, None) == "--06-12" and birthday_text(12, 6, 1980) == "1980-06-12"


def test_a_contact_needs_a_name_and_reads_like_the_record() -> None:
    contact = read_contact(
        {"name": "Rui", "email": "RUI@x.example", "birthday": "--01-05"}, READING, creating=True
    )
    assert contact == {"name": "Rui", "email": "rui@x.example", "birthday": (5, 1, None)}
    with pytest.raises(RecordError) as caught:
        read_contact({"role": "buyer"}, READING, creating=True)
    assert caught.value.field == "name"


def test_the_name_and_consent_are_for_managers_the_address_for_staff_too() -> None:
    assert restricted(["city", "email", "other_phones", "timezone"]) == []
    assert restricted(["name", "city", "marketing_consent"]) == ["marketing_consent", "name"]
