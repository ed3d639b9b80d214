"""Amounts and dates as each import profile's source writes them read back exactly.

Every built-in profile is exercised through its own locale: the amount formats of its export
(``$1,240.00``, ``1,549.00``, ``399,00``, ``1.249,00``, Xero's four decimals) and the way its date
column writes a moment (an offset, UTC, a date, a time and a Rails zone name in three columns,
month or day first, an Excel serial number). Each property goes through the public functions and
through ``read_documents`` with a row shaped like the export's.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import goodwill
from goodwill.domain.dates import parse_date, parse_instant
from goodwill.domain.exports import Document, Layout, read_documents
from goodwill.domain.money import parse_amount, to_minor
from goodwill.domain.profiles import Profile, parse_profiles
from goodwill.domain.records import Reading
from goodwill.domain.zone_names import RAILS, zone_named

PROFILES_TOML = Path(goodwill.__file__).parent / "defaults" / "profiles.toml"
PROFILES: dict[str, Profile] = parse_profiles(
    tomllib.loads(PROFILES_TOML.read_text(encoding="utf-8")),
    source=str(PROFILES_TOML),
    builtin=True,
)
AMS = ZoneInfo("Europe/Amsterdam")
READING = Reading(zone=AMS, currency="EUR", date_order="dmy")
EXCEL_EPOCH = date(1899, 12, 30)

# -- how each source writes an amount ------------------------------------------------------------


def plain(value: Decimal) -> str:
    """Shopify, Stripe: ``1240.00``."""
    return f"{value:.2f}"


def dollars(value: Decimal) -> str:
    """Square: ``$1,240.00``, refunds ``-$45.00``."""
    return f"{'-' if value < 0 else ''}${abs(value):,.2f}"


def grouped(value: Decimal) -> str:
    """QuickBooks reports: ``1,549.00``, credit memos ``-62.50``."""
    return f"{value:,.2f}"


def comma(value: Decimal) -> str:
    """Stripe in a European locale: ``399,00``."""
    return f"{value:.2f}".replace(".", ",")


def four_places(value: Decimal) -> str:
    """Xero's LineAmount and UnitAmount: ``450.0000``."""
    return f"{value:.4f}"


def excel_european(value: Decimal) -> str:
    """A WooCommerce export re-saved by a European Excel: ``1.249,00``."""
    return f"{value:,.2f}".translate(str.maketrans(",.", ".,"))


AMOUNT_FORMATS: list[tuple[str, Callable[[Decimal], str]]] = [
    ("shopify", plain),
    ("square-transactions", dollars),
    ("square-items", dollars),
    ("stripe-payments", plain),
    ("stripe-payments", comma),
    ("stripe-invoices", plain),
    ("quickbooks-sales", grouped),
    ("xero-invoices", plain),
    ("xero-invoices", four_places),
    ("woocommerce", excel_european),
    ("woocommerce", comma),
]

cents = st.decimals(
    min_value=Decimal("-9999999.99"),
    max_value=Decimal("9999999.99"),
    places=2,
    allow_nan=False,
    allow_infinity=False,
)
positive_cents = st.decimals(
    min_value=Decimal("0.01"),
    max_value=Decimal("9999999.99"),
    places=2,
    allow_nan=False,
    allow_infinity=False,
)
instants = st.datetimes(
    min_value=datetime(1990, 1, 1),
    max_value=datetime(2060, 12, 31),
    timezones=st.just(UTC),
).map(lambda moment: moment.replace(microsecond=0))
days = st.dates(min_value=date(1990, 1, 1), max_value=date(2060, 12, 31))
rails_names = st.sampled_from(sorted(RAILS))


@pytest.mark.parametrize(
    ("profile", "written"), AMOUNT_FORMATS, ids=[f"{p}-{f.__name__}" for p, f in AMOUNT_FORMATS]
)
@given(value=cents)
def test_an_amount_written_as_the_source_writes_it_parses_back_exactly(
    profile: str, written: Callable[[Decimal], str], value: Decimal
) -> None:
    text = written(value)
    parsed = parse_amount(text, decimal_comma=PROFILES[profile].decimal_comma)
    assert parsed == value, text
    assert to_minor(parsed, "EUR") == int(value * 100)


@pytest.mark.parametrize(
    ("text", "profile", "expected"),
    [
        ("$1,240.00", "square-transactions", "1240.00"),
        ("-$45.00", "square-items", "-45.00"),
        ("1,549.00", "quickbooks-sales", "1549.00"),
        ("-62.50", "quickbooks-sales", "-62.50"),
        ("399,00", "stripe-payments", "399.00"),
        ("450.0000", "xero-invoices", "450.00"),
        ("89.5000", "xero-invoices", "89.50"),
        ("1.249,00", "woocommerce", "1249.00"),
        ("24,95", "woocommerce", "24.95"),
    ],
)
def test_the_documented_examples_of_each_source(text: str, profile: str, expected: str) -> None:
    assert parse_amount(text, decimal_comma=PROFILES[profile].decimal_comma) == Decimal(expected)


# -- how each source writes a moment -------------------------------------------------------------


def local_round_trips(moment: datetime, zone: ZoneInfo) -> datetime:
    """The wall-clock time ``moment`` shows in ``zone``; assumes it names one instant only (the
    second pass of a clock set back is written exactly like the first)."""
    local = moment.astimezone(zone).replace(tzinfo=None)
    assume(local.replace(tzinfo=zone).astimezone(UTC) == moment)
    return local


@given(moment=instants, quarters=st.integers(min_value=-48, max_value=56))
def test_shopify_created_at_with_its_offset_is_the_same_instant(
    moment: datetime, quarters: int
) -> None:
    offset = timezone(timedelta(minutes=15 * quarters))
    text = moment.astimezone(offset).strftime("%Y-%m-%d %H:%M:%S %z")
    assert parse_instant(text, zone=AMS) == moment


@given(moment=instants, name=rails_names)
def test_square_date_time_and_rails_zone_are_the_same_instant(moment: datetime, name: str) -> None:
    zone = zone_named(name)
    assert zone is not None, name
    local = local_round_trips(moment, zone)
    text = f"{local:%m/%d/%Y} {local:%H:%M:%S}"
    assert parse_instant(text, zone=zone, date_order="mdy") == moment


def test_every_rails_zone_name_and_its_short_form_is_a_zone() -> None:
    assert all(zone_named(name) is not None for name in RAILS)
    assert zone_named("Pacific Time (US & Canada)") == ZoneInfo("America/Los_Angeles")
    assert zone_named("Eastern Time") == ZoneInfo("America/New_York")
    assert zone_named("Europe/Amsterdam") == AMS
    assert zone_named("Not a Zone") is None


@given(day=days)
def test_month_first_and_day_first_dates_read_as_their_source_writes_them(day: date) -> None:
    assert parse_date(f"{day:%m/%d/%Y}", date_order="mdy") == day  # QuickBooks, Square
    assert parse_date(f"{day:%d/%m/%Y}", date_order="dmy") == day  # Xero


def test_the_same_text_is_a_different_day_for_a_month_first_and_a_day_first_source() -> None:
    assert parse_date("05/11/2025", date_order="mdy") == date(2025, 5, 11)
    assert parse_date("05/11/2025", date_order="dmy") == date(2025, 11, 5)


@given(moment=instants, fraction_digits=st.integers(min_value=8, max_value=12))
def test_an_excel_serial_date_is_the_local_moment_it_counts(
    moment: datetime, fraction_digits: int
) -> None:
    local = local_round_trips(moment, AMS)
    serial = (local.date() - EXCEL_EPOCH).days
    seconds = local.hour * 3600 + local.minute * 60 + local.second
    fraction = f"{Decimal(seconds) / 86400:.{fraction_digits}f}".split(".")[1]
    text = f"{serial}.{fraction}" if seconds else str(serial)
    assert parse_instant(text, zone=AMS) == moment


# -- whole rows, read under each profile ---------------------------------------------------------


def read_one(
    profile: str, header: list[str], rows: list[list[str]], reading: Reading = READING
) -> Document:
    layout = Layout.of(PROFILES[profile], header)
    items = list(read_documents(layout, list(enumerate(rows, start=2)), reading))
    assert len(items) == 1 and isinstance(items[0], Document), items
    return items[0]


@given(value=positive_cents, moment=instants, quarters=st.integers(min_value=-48, max_value=56))
def test_a_shopify_row(value: Decimal, moment: datetime, quarters: int) -> None:
    created = moment.astimezone(timezone(timedelta(minutes=15 * quarters)))
    header = ["Name", "Email", "Financial Status", "Currency", "Total", "Created at"]
    header += ["Lineitem quantity", "Lineitem name", "Lineitem price", "Refunded Amount"]
    row = ["#1001", "anna@example.nl", "paid", "EUR", plain(value)]
    row += [created.strftime("%Y-%m-%d %H:%M:%S %z"), "1", "Dripper", plain(value), "0.00"]
    document = read_one("shopify", header, [row])
    assert document.amount_minor == to_minor(value, "EUR")
    assert document.occurred_at == moment


@pytest.mark.parametrize("profile", ["square-transactions", "square-items"])
@given(value=positive_cents, moment=instants, name=rails_names)
@settings(deadline=None)
def test_a_square_row(profile: str, value: Decimal, moment: datetime, name: str) -> None:
    zone = zone_named(name)
    assert zone is not None
    local = local_round_trips(moment, zone)
    header = ["Date", "Time", "Time Zone", "Transaction ID", "Customer ID", "Customer Name"]
    header += ["Event Type", "Item", "Qty", "Gross Sales", "Net Sales", "Total Collected"]
    row = [f"{local:%m/%d/%Y}", f"{local:%H:%M:%S}", name, "TX1", "CUST1", "Maya Thompson"]
    row += ["Payment", "Latte", "1", dollars(value), dollars(value), dollars(value)]
    reading = Reading(zone=AMS, currency="USD", date_order="dmy")
    document = read_one(profile, header, [row], reading)
    assert document.amount_minor == to_minor(value, "USD")
    assert document.currency == "USD"
    assert document.occurred_at == moment


@given(value=positive_cents, moment=instants, written=st.sampled_from([plain, comma]))
def test_a_stripe_payment_row(
    value: Decimal, moment: datetime, written: Callable[[Decimal], str]
) -> None:
    header = ["id", "Created date (UTC)", "Amount", "Amount Refunded", "Currency", "Status"]
    header += ["Customer ID", "Customer Email", "Invoice ID"]
    row = ["ch_1", f"{moment:%Y-%m-%d %H:%M:%S}", written(value), written(Decimal(0)), "eur"]
    row += ["Paid", "cus_1", "femke@example.nl", ""]
    document = read_one("stripe-payments", header, [row])
    assert document.amount_minor == to_minor(value, "EUR")
    assert document.currency == "EUR"
    assert document.occurred_at == moment


@given(value=positive_cents, moment=instants)
def test_a_stripe_invoice_row(value: Decimal, moment: datetime) -> None:
    header = ["id", "Number", "Customer", "Customer Email", "Status", "Date (UTC)"]
    header += ["Due Date (UTC)", "Paid At (UTC)", "Currency", "Total", "Amount Due", "Amount Paid"]
    due = moment + timedelta(days=30)
    row = ["in_1", "ABC-0001", "cus_1", "lotus@example.nl", "open", f"{moment:%Y-%m-%d %H:%M:%S}"]
    row += [f"{due:%Y-%m-%d %H:%M:%S}", "", "eur", plain(value), plain(value), "0.00"]
    document = read_one("stripe-invoices", header, [row])
    assert document.amount_minor == to_minor(value, "EUR")
    assert document.occurred_at == moment
    assert document.invoice is not None
    assert document.invoice.issued_on == moment.date()
    assert document.invoice.due_on == due.date()


@given(value=positive_cents, day=days)
def test_a_quickbooks_report_row(value: Decimal, day: date) -> None:
    header = ["", "Date", "Transaction type", "Num", "Product/Service", "Qty", "Amount"]
    rows = [
        ["Blue Door Cafe", "", "", "", "", "", ""],
        ["", f"{day:%m/%d/%Y}", "Invoice", "1001", "Coffee:Espresso Blend", "2", grouped(value)],
        ["Total for Blue Door Cafe", "", "", "", "", "", f"${value:,.2f}"],
    ]
    document = read_one("quickbooks-sales", header, rows)
    assert document.order_id == "Invoice 1001"
    assert document.ref.name == "Blue Door Cafe"
    assert document.amount_minor == to_minor(value, "EUR")
    assert document.occurred_at == datetime.combine(day, time(), AMS).astimezone(UTC)
    assert [(line.category, line.product) for line in document.lines] == [
        ("Coffee", "Espresso Blend")
    ]


@given(value=positive_cents, day=days, quantity=st.integers(min_value=1, max_value=50))
def test_a_xero_row(value: Decimal, day: date, quantity: int) -> None:
    header = ["ContactName", "EmailAddress", "InvoiceNumber", "InvoiceDate", "DueDate", "Total"]
    header += ["Description", "Quantity", "UnitAmount", "LineAmount", "Currency", "Status"]
    due = day + timedelta(days=14)
    row = ["Studio Kaasboer", "", "INV-0041", f"{day:%d/%m/%Y}", f"{due:%d/%m/%Y}", plain(value)]
    row += ["Work", f"{quantity:.4f}", four_places(value), four_places(value), "EUR", "PAID"]
    document = read_one("xero-invoices", header, [row])
    assert document.amount_minor == to_minor(value, "EUR")
    assert len(document.lines) == 1  # LineAmount, not UnitAmount times Quantity
    assert document.occurred_at == datetime.combine(day, time(), AMS).astimezone(UTC)
    assert document.invoice is not None
    assert (document.invoice.issued_on, document.invoice.due_on) == (day, due)
    assert (document.invoice.paid_on, document.invoice.settled) == (None, True)


@given(value=positive_cents, moment=instants, serial=st.booleans())
def test_a_woocommerce_row(value: Decimal, moment: datetime, serial: bool) -> None:
    local = local_round_trips(moment, AMS)
    if serial:
        seconds = local.hour * 3600 + local.minute * 60 + local.second
        fraction = f"{Decimal(seconds) / 86400:.10f}".split(".")[1]
        written = f"{(local.date() - EXCEL_EPOCH).days}.{fraction}"
    else:
        written = f"{local:%Y-%m-%d %H:%M:%S}"
    header = ["Order Number", "Order Date", "Order Status", "Customer User ID", "Billing Email"]
    header += ["Billing First Name", "Billing Last Name", "Order Total Amount", "Order Currency"]
    header += ["Item Name", "Quantity", "Item Total"]
    row = ["00123", written, "completed", "0", "zoe@example.com", "Zoë", "Hendriks"]
    row += [excel_european(value), "EUR", "Pan", "1", excel_european(value)]
    document = read_one("woocommerce", header, [row])
    assert document.order_id == "00123"
    assert document.ref.client_id is None  # a guest: Customer User ID 0
    assert document.ref.name == "Zoë Hendriks"
    assert document.amount_minor == to_minor(value, "EUR")
    assert document.occurred_at == moment
