"""The canonical import rows: which columns each kind of file has, and how a row is read.

A row is read in full or rejected with the column and the reason; nothing about files, databases or
line counting lives here (the import action adds the line number).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from goodwill.domain.consent import read_consent
from goodwill.domain.contact_windows import parse_contact_window
from goodwill.domain.dates import DateError, parse_date, parse_instant
from goodwill.domain.money import AmountError, currency_in, parse_amount, to_minor


class FileKind(StrEnum):
    CLIENTS = "clients"
    PURCHASES = "purchases"
    PAYMENTS = "payments"
    PROFILE = "profile"  # a vendor's export, read by its import profile


#: Canonical columns per kind; the first tuple is required, the second optional.
COLUMNS: dict[FileKind, tuple[tuple[str, ...], tuple[str, ...]]] = {
    FileKind.CLIENTS: (
        ("name",),
        (
            "client_id",
            "email",
            "phone",
            "birthday",
            "timezone",
            "hometown",
            "notes",
            "interests",
            "values",
            "client_since",
            "owner",
            "contact_window",
            "tags",
            "marketing_consent",
            "street",
            "postcode",
            "city",
            "region",
            "country",
        ),
    ),
    FileKind.PURCHASES: (
        ("order_id", "occurred_at", "amount"),
        (
            "client_id",
            "client_name",
            "email",
            "currency",
            "product",
            "category",
            "channel",
            "quantity",
        ),
    ),
    FileKind.PAYMENTS: (
        ("invoice_id", "amount", "issued_at"),
        ("client_id", "client_name", "email", "currency", "due_date", "paid_at"),
    ),
}

#: At least one of these identifies the client on every row.
CLIENT_KEYS = ("client_id", "email")

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class RowError(ValueError):
    def __init__(self, column: str, reason: str) -> None:
        super().__init__(f"{column}: {reason}")
        self.column = column
        self.reason = reason


@dataclass(frozen=True)
class Reading:
    """How to read values: the business's defaults for what a file leaves unsaid."""

    zone: ZoneInfo
    currency: str
    date_order: str = "dmy"
    decimal_comma: bool | None = None


@dataclass(frozen=True)
class ClientRef:
    client_id: str | None
    email: str | None
    name: str | None


@dataclass(frozen=True)
class ClientRow:
    ref: ClientRef
    phone: str | None
    birthday: tuple[int, int, int | None] | None
    timezone: str | None
    hometown: str | None
    notes: str | None
    interests: tuple[str, ...]
    values: str | None
    client_since: date | None
    owner: str | None = None
    contact_window: str | None = None
    tags: tuple[str, ...] = ()
    #: What the file says of marketing consent: yes, no, or nothing (None).
    marketing_consent: bool | None = None
    #: The postal address (for postcards), each part as the file has it; country ISO 3166.
    street: str | None = None
    postcode: str | None = None
    city: str | None = None
    region: str | None = None
    country: str | None = None


@dataclass(frozen=True)
class PurchaseRow:
    ref: ClientRef
    order_id: str
    occurred_at: datetime
    amount_minor: int
    currency: str
    product: str | None
    category: str | None
    channel: str | None
    quantity: int


@dataclass(frozen=True)
class PaymentRow:
    ref: ClientRef
    invoice_id: str
    amount_minor: int
    currency: str
    issued_at: date
    due_date: date | None
    paid_at: date | None
    settled: bool = False  # paid on a day the source does not say


Row = ClientRow | PurchaseRow | PaymentRow


def _bounded(v: Mapping[str, str], column: str, most: int) -> str | None:
    text = " ".join(v.get(column, "").split())
    if len(text) > most:
        raise RowError(column, f"longer than {most} characters")
    return text or None


def _country(text: str) -> str | None:
    code = text.strip().upper()
    if not code:
        return None
    if not re.fullmatch(r"[A-Z]{2}", code):
        raise RowError("country", f"{text.strip()!r} is not a two-letter country code such as NL")
    return code


def missing_columns(kind: FileKind, header: list[str]) -> list[str]:
    """Required columns the header lacks (after mapping); a client key counts as one column."""
    required, _ = COLUMNS[kind]
    missing = [c for c in required if c not in header]
    if kind is not FileKind.CLIENTS and not any(k in header for k in CLIENT_KEYS):
        missing.append("client_id or email")
    if kind is FileKind.CLIENTS and not any(k in header for k in CLIENT_KEYS):
        missing.append("client_id or email")
    return missing


def read_row(kind: FileKind, values: Mapping[str, str], reading: Reading) -> Row:
    """Read one row of canonical fields; raises RowError naming the column."""
    v = {k: (val or "").strip() for k, val in values.items()}
    ref = _ref(v)
    if kind is FileKind.CLIENTS:
        if not v.get("name"):
            raise RowError("name", "a client needs a name")
        return ClientRow(
            ref=ref,
            phone=v.get("phone") or None,
            birthday=_birthday(v.get("birthday", ""), reading.date_order),
            timezone=_zone(v.get("timezone", "")),
            hometown=v.get("hometown") or None,
            notes=v.get("notes") or None,
            interests=tuple(
                i.strip() for i in re.split(r"[;|]", v.get("interests", "")) if i.strip()
            ),
            values=v.get("values") or None,
            client_since=_date("client_since", v.get("client_since", ""), reading, True),
            owner=v.get("owner", "").lower() or None,
            contact_window=_window(v.get("contact_window", ""), reading),
            tags=tuple(t.strip() for t in re.split(r"[;|]", v.get("tags", "")) if t.strip()),
            marketing_consent=consent_cell("marketing_consent", v.get("marketing_consent", "")),
            street=_bounded(v, "street", 300),
            postcode=_bounded(v, "postcode", 20),
            city=_bounded(v, "city", 200),
            region=_bounded(v, "region", 200),
            country=_country(v.get("country", "")),
        )
    currency = _currency(v, reading)
    if kind is FileKind.PURCHASES:
        return PurchaseRow(
            ref=ref,
            order_id=_required(v, "order_id"),
            occurred_at=_instant("occurred_at", _required(v, "occurred_at"), reading),
            amount_minor=_amount(v.get("amount", ""), currency, reading),
            currency=currency,
            product=v.get("product") or None,
            category=v.get("category") or None,
            channel=v.get("channel") or None,
            quantity=_quantity(v.get("quantity", "")),
        )
    issued = _date("issued_at", _required(v, "issued_at"), reading, False)
    due = _date("due_date", v.get("due_date", ""), reading, True)
    if issued is None:  # pragma: no cover - _required guarantees a value
        raise RowError("issued_at", "missing")
    if due is not None and due < issued:
        raise RowError("due_date", f"due {due} is before the invoice was issued ({issued})")
    return PaymentRow(
        ref=ref,
        invoice_id=_required(v, "invoice_id"),
        amount_minor=_amount(v.get("amount", ""), currency, reading),
        currency=currency,
        issued_at=issued,
        due_date=due,
        paid_at=_date("paid_at", v.get("paid_at", ""), reading, True),
    )


def _ref(v: Mapping[str, str]) -> ClientRef:
    email = v.get("email", "").lower() or None
    if email is not None and not _EMAIL.match(email):
        raise RowError("email", f"{email!r} is not an email address")
    client_id = v.get("client_id") or None
    if client_id is None and email is None:
        raise RowError("client_id", "each row needs a client_id or an email")
    return ClientRef(
        client_id=client_id, email=email, name=v.get("name") or v.get("client_name") or None
    )


def _required(v: Mapping[str, str], column: str) -> str:
    value = v.get(column, "")
    if not value:
        raise RowError(column, "missing")
    return value


def _currency(v: Mapping[str, str], reading: Reading) -> str:
    written = v.get("currency", "").upper()
    if written and not re.fullmatch(r"[A-Z]{3}", written):
        raise RowError("currency", f"{written!r} is not an ISO 4217 code")
    in_amount = currency_in(v.get("amount", ""))
    if written and in_amount and in_amount != written and in_amount != "USD":
        raise RowError(
            "amount", f"the amount is in {in_amount} but the currency column says {written}"
        )
    return written or in_amount or reading.currency


def _amount(text: str, currency: str, reading: Reading) -> int:
    try:
        return to_minor(parse_amount(text, decimal_comma=reading.decimal_comma), currency)
    except AmountError as exc:
        raise RowError("amount", str(exc)) from exc


def _quantity(text: str) -> int:
    if not text:
        return 1
    try:
        value = Decimal(text.replace(",", "."))
    except ArithmeticError as exc:
        raise RowError("quantity", f"{text!r} is not a number") from exc
    if value != value.to_integral_value():
        raise RowError("quantity", f"{text!r} is not a whole number")
    return int(value)


def _instant(column: str, text: str, reading: Reading) -> datetime:
    try:
        return parse_instant(text, zone=reading.zone, date_order=reading.date_order)
    except DateError as exc:
        raise RowError(column, str(exc)) from exc


def _date(column: str, text: str, reading: Reading, optional: bool) -> date | None:
    if not text and optional:
        return None
    try:
        return parse_date(text, date_order=reading.date_order)
    except DateError as exc:
        raise RowError(column, str(exc)) from exc


def _window(text: str, reading: Reading) -> str | None:
    if not text:
        return None
    try:
        parse_contact_window(text, reading.zone)
    except ValueError as exc:
        raise RowError("contact_window", str(exc)) from exc
    return " ".join(text.split())


def _zone(text: str) -> str | None:
    if not text:
        return None
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise RowError("timezone", f"{text!r} is not an IANA time zone") from exc
    return text


_NO_YEAR = re.compile(r"^(?:--)?(\d{1,2})[-/.]?(\d{2})$")


def _birthday(text: str, date_order: str) -> tuple[int, int, int | None] | None:
    """Day and month, with the year when known (vCard's ``--MMDD`` has none).

    Without a year, ``MM-DD`` and ``--MMDD`` are month first (ISO and vCard); ``17/05`` and
    ``05/17`` follow the date-order rule of full dates.
    """
    if not text:
        return None
    if match := re.fullmatch(r"(\d{1,2})[/.](\d{1,2})", text):
        a, b = int(match[1]), int(match[2])
        day, month = (a, b) if (a > 12 or (date_order == "dmy" and b <= 12)) else (b, a)
        return _check_birthday(day, month, None, text)
    if match := _NO_YEAR.match(text):
        return _check_birthday(int(match[2]), int(match[1]), None, text)
    try:
        found = parse_date(text, date_order=date_order)
    except DateError as exc:
        raise RowError("birthday", str(exc)) from exc
    return found.day, found.month, found.year


def _check_birthday(day: int, month: int, year: int | None, text: str) -> tuple[int, int, None]:
    try:
        date(2000, month, day)  # a leap year, so 29 February is a real birthday
    except ValueError as exc:
        raise RowError("birthday", f"{text!r} is not a real day of the year") from exc
    return day, month, None


def upcoming_birthday(day: int, month: int, *, today: date) -> date:
    """The next birthday on or after ``today``; 29 February falls on 28 February in other years."""
    for year in (today.year, today.year + 1):
        try:
            when = date(year, month, day)
        except ValueError:
            when = date(year, 2, 28)
        if when >= today:
            return when
    raise AssertionError("unreachable")  # pragma: no cover


def consent_cell(column: str, text: str) -> bool | None:
    """A yes/no consent cell; anything else rejects the row naming ``column``."""
    try:
        return read_consent(text)
    except ValueError as exc:
        raise RowError(column, f"{exc} (write yes or no, or leave it empty)") from exc
