from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from goodwill.domain.money import AmountError, currency_in, format_money, parse_amount, to_minor


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1240.00", "1240.00"),
        ("$1,240.00", "1240.00"),
        ("1.240,00 €", "1240.00"),
        ("399,00", "399.00"),
        ("1 240,50", "1240.50"),
        ("-12.5", "-12.5"),
        ("(12.50)", "-12.50"),
        ("1,240", "1240"),
        ("0,500", "0.500"),
        ("12", "12"),
        ("EUR 1.234.567,89", "1234567.89"),
        ("−7.25", "-7.25"),
    ],
)
def test_amounts_are_read_as_exports_write_them(text: str, expected: str) -> None:
    assert parse_amount(text) == Decimal(expected)


@pytest.mark.parametrize("text", ["", "abc", "1-2", "12.34.5,6,7", "1,2,3", "--5", "12 apples"])
def test_text_that_is_not_an_amount_is_refused_with_a_reason(text: str) -> None:
    with pytest.raises(AmountError):
        parse_amount(text)


def test_a_declared_decimal_comma_settles_the_lone_separator() -> None:
    assert parse_amount("1,240", decimal_comma=True) == Decimal("1.240")
    assert parse_amount("1.240", decimal_comma=True) == Decimal("1240")
    assert parse_amount("1.240", decimal_comma=False) == Decimal("1.240")


def test_minor_units_follow_the_currency_and_never_round_silently() -> None:
    assert to_minor(Decimal("12.34"), "EUR") == 1234
    assert to_minor(Decimal("1234"), "JPY") == 1234
    assert to_minor(Decimal("1.234"), "KWD") == 1234
    with pytest.raises(AmountError):
        to_minor(Decimal("12.345"), "EUR")


def test_currency_is_recognised_by_symbol_or_code() -> None:
    assert currency_in("€ 12") == "EUR"
    assert currency_in("12.00 GBP") == "GBP"
    assert currency_in("12.00") is None


def test_money_is_formatted_with_thousands_and_currency() -> None:
    assert format_money(124050, "EUR") == "1,240.50 EUR"


cents = st.integers(min_value=-(10**12), max_value=10**12)


@given(cents)
def test_plain_and_grouped_point_decimals_round_trip(minor: int) -> None:
    value = Decimal(minor).scaleb(-2)
    assert parse_amount(f"{value:.2f}") == value
    assert parse_amount(f"${value:,.2f}") == value


@given(cents)
def test_european_grouping_with_decimal_comma_round_trips(minor: int) -> None:
    value = Decimal(minor).scaleb(-2)
    text = f"{value:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")
    assert parse_amount(text + " €", decimal_comma=True) == value
    assert parse_amount(text) == value
