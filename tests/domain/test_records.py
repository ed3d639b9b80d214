from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from goodwill.domain.records import (
    ClientRow,
    FileKind,
    PaymentRow,
    PurchaseRow,
    Reading,
    RowError,
    missing_columns,
    read_row,
)

READING = Reading(zone=ZoneInfo("Europe/Amsterdam"), currency="EUR")


def test_a_purchase_row_is_read_with_exact_money_and_utc_time() -> None:
    row = read_row(
        FileKind.PURCHASES,
        {
            "order_id": "1001",
            "client_id": "C1",
            "email": "Ann@Example.com",
            "occurred_at": "2025-03-05 10:00",
            "amount": "€1.240,50",
            "product": "Grinder",
            "channel": "Reseller: Northwind",
        },
        READING,
    )
    assert isinstance(row, PurchaseRow)
    assert row.amount_minor == 124050 and row.currency == "EUR"
    assert row.occurred_at == datetime(2025, 3, 5, 9, 0, tzinfo=UTC)
    assert row.ref.email == "ann@example.com"
    assert row.quantity == 1


def test_a_row_without_any_client_key_is_refused_naming_the_column() -> None:
    with pytest.raises(RowError) as caught:
        read_row(
            FileKind.PURCHASES,
            {"order_id": "1", "occurred_at": "2025-01-01", "amount": "1"},
            READING,
        )
    assert caught.value.column == "client_id"


@pytest.mark.parametrize(
    ("values", "column"),
    [
        ({"amount": "lots"}, "amount"),
        ({"occurred_at": "someday"}, "occurred_at"),
        ({"email": "not-an-email"}, "email"),
        ({"currency": "EURO"}, "currency"),
        ({"quantity": "1.5"}, "quantity"),
        ({"order_id": ""}, "order_id"),
    ],
)
def test_each_bad_value_is_reported_with_its_column(values: dict[str, str], column: str) -> None:
    base = {"order_id": "1", "client_id": "C1", "occurred_at": "2025-01-01", "amount": "10"}
    with pytest.raises(RowError) as caught:
        read_row(FileKind.PURCHASES, base | values, READING)
    assert caught.value.column == column


def test_an_unpaid_invoice_has_no_paid_date_and_due_cannot_precede_issue() -> None:
    row = read_row(
        FileKind.PAYMENTS,
        {
            "invoice_id": "I1",
            "client_id": "C1",
            "amount": "99",
            "issued_at": "01/02/2025",
            "due_date": "03/03/2025",
            "paid_at": "",
        },
        READING,
    )
    assert isinstance(row, PaymentRow)
    assert row.issued_at == date(2025, 2, 1) and row.paid_at is None
    with pytest.raises(RowError) as caught:
        read_row(
            FileKind.PAYMENTS,
            {
                "invoice_id": "I1",
                "client_id": "C1",
                "amount": "99",
                "issued_at": "2025-03-01",
                "due_date": "2025-02-01",
            },
            READING,
        )
    assert caught.value.column == "due_date"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1980-05-17", (17, 5, 1980)),
        ("--0517", (17, 5, None)),
        ("05-17", (17, 5, None)),
        ("17/05", (17, 5, None)),
        ("29/02", (29, 2, None)),
    ],
)
def test_birthdays_keep_day_and_month_apart_from_an_optional_year(
    text: str, expected: tuple[int, int, int | None]
) -> None:
    row = read_row(FileKind.CLIENTS, {"client_id": "C1", "name": "Ann", "birthday": text}, READING)
    assert isinstance(row, ClientRow)
    assert row.birthday == expected


def test_a_client_row_carries_interests_values_and_history_older_than_the_exports() -> None:
    row = read_row(
        FileKind.CLIENTS,
        {
            "client_id": "C1",
            "name": "Ann",
            "interests": "sailing; jazz",
            "timezone": "Asia/Tokyo",
            "values": "being on time",
            "client_since": "2006-03-01",
        },
        READING,
    )
    assert isinstance(row, ClientRow)
    assert row.interests == ("sailing", "jazz")
    assert row.client_since == date(2006, 3, 1)
    with pytest.raises(RowError):
        read_row(
            FileKind.CLIENTS, {"client_id": "C1", "name": "Ann", "timezone": "Mars/Base"}, READING
        )


def test_missing_required_columns_are_named() -> None:
    assert missing_columns(FileKind.PURCHASES, ["order_id", "amount"]) == [
        "occurred_at",
        "client_id or email",
    ]
    assert missing_columns(FileKind.CLIENTS, ["name", "email"]) == []
