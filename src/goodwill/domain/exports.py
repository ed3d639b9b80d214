"""Reading a vendor's export under its profile: rows in, documents and refunds out.

The rows of an export come in shapes: one row per line item with the order's fields on the first
row only or repeated on every row, refunds as rows of their own (negative, or marked by their
type) or as a refunded-amount column, and report files with title rows, a group-header row per
client, "Total for ..." rows and a footer. This module turns them into documents (an order, and
for invoicing tools an invoice too) and refunds, each carrying the editor line numbers it came
from, or into a problem naming the line, the column as the file writes it, and the reason.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from goodwill.domain.consent import read_consent
from goodwill.domain.dates import DateError, parse_date, parse_instant
from goodwill.domain.money import AmountError, currency_in, parse_amount, to_minor
from goodwill.domain.profiles import DOCUMENT_FIELDS, Profile, normalise
from goodwill.domain.records import _EMAIL, ClientRef, Reading
from goodwill.domain.zone_names import zone_named

ADJUSTMENT = "Shipping, taxes and discounts"


@dataclass(frozen=True)
class Line:
    product: str | None
    category: str | None
    quantity: int
    amount_minor: int
    key: str


@dataclass(frozen=True)
class InvoicePart:
    issued_on: date
    due_on: date | None
    paid_on: date | None
    settled: bool
    amount_minor: int


@dataclass(frozen=True)
class Document:
    """One order (and, for invoicing tools, its invoice) with the lines that make it up."""

    lines_read: tuple[int, ...]
    ref: ClientRef
    order_id: str
    occurred_at: datetime
    currency: str
    channel: str | None
    lines: tuple[Line, ...]
    refunded_minor: int | None = None
    invoice: InvoicePart | None = None
    #: Whether the client accepts marketing email, when the export says (Shopify does).
    marketing_consent: bool | None = None

    @property
    def amount_minor(self) -> int:
        return sum(line.amount_minor for line in self.lines)


@dataclass(frozen=True)
class RefundDoc:
    """Money given back. ``cumulative``: the amount is the document's refunded total so far (a
    refunded-amount column), not one refund of its own."""

    line: int
    ref: ClientRef
    order_id: str
    key: str
    amount_minor: int
    occurred_at: datetime
    currency: str
    cumulative: bool = False


@dataclass(frozen=True)
class Skipped:
    lines: tuple[int, ...]
    reason: str


@dataclass(frozen=True)
class Problem:
    line: int
    column: str
    reason: str


Item = Document | RefundDoc | Skipped | Problem


class _RowError(ValueError):
    def __init__(self, column: str, reason: str) -> None:
        super().__init__(reason)
        self.column, self.reason = column, reason


@dataclass
class Layout:
    """Where each field's aliases sit in the header row."""

    profile: Profile
    header: list[str]
    positions: dict[str, list[tuple[str, list[int]]]] = field(default_factory=dict)

    @classmethod
    def of(cls, profile: Profile, header: Sequence[str]) -> Layout:
        index = {normalise(h): i for i, h in reversed(list(enumerate(header)))}
        layout = cls(profile, list(header))
        for fname, aliases in profile.columns.items():
            found = []
            for alias in aliases:
                parts = [normalise(p) for p in alias.split(" + ")]
                if all(p in index for p in parts):
                    found.append((alias, [index[p] for p in parts]))
            if found:
                layout.positions[fname] = found
        return layout

    def missing(self) -> list[str]:
        """Aliases of the fields a document cannot do without, when none is in the header."""
        needed = ["order_id", "occurred_at"]
        if not ({"total", "line_amount", "line_price"} & set(self.positions)):
            needed.append("total")
        return [
            " or ".join(repr(a) for a in self.profile.columns.get(f, (f,)))
            for f in needed
            if f not in self.positions
        ]

    def get(self, record: Sequence[str], fname: str) -> tuple[str, str]:
        """(value, the header it came from): the first alias with a value on this row."""
        blank = self.profile.blank.get(fname, ())
        for alias, indexes in self.positions.get(fname, []):
            parts = [record[i].strip() if i < len(record) else "" for i in indexes]
            value = " ".join(p for p in parts if p)
            if value and value not in blank:
                return value, alias
        first = self.positions.get(fname)
        return "", first[0][0] if first else fname


def find_header(
    profile: Profile, records: Iterable[tuple[int, list[str]]], *, within: int = 25
) -> tuple[int, list[str]] | None:
    """The header row: the first row (of the first ``within``) with the profile's telltales."""
    for count, (line, record) in enumerate(records):
        if profile.matches(record):
            return line, record
        if count + 1 >= within:
            return None
    return None


def read_documents(
    layout: Layout, rows: Iterable[tuple[int, list[str]]], reading: Reading
) -> Iterator[Item]:
    """Documents, refunds, skipped rows and problems, in file order (refunds where they stand).

    Consecutive rows with the same document key make one document; the document's fields are
    read from its first row, and lines from every row.
    """
    profile = layout.profile
    group: list[tuple[int, list[str]]] = []
    group_key: str | None = None
    report_client: str | None = None
    refunds_seen: dict[str, int] = {}
    for line, record in rows:
        if not any(v.strip() for v in record):
            continue
        if profile.report:
            first = record[0].strip() if record else ""
            rest = any(v.strip() for v in record[1:])
            total = first.lower() == "total" or first.lower().startswith("total for ")
            if total or (first and not rest):
                if group:
                    yield from _document(layout, group, reading, report_client)
                    group, group_key = [], None
                if not total:
                    report_client = first
                continue
        key, _ = layout.get(record, "order_id")
        if _is_refund(layout, record):
            yield from _refund(layout, line, record, reading, report_client, refunds_seen)
            continue
        if group and key != group_key:
            yield from _document(layout, group, reading, report_client)
            group = []
        group_key = key
        group.append((line, record))
    if group:
        yield from _document(layout, group, reading, report_client)


def _is_refund(layout: Layout, record: Sequence[str]) -> bool:
    profile = layout.profile
    kind, _ = layout.get(record, "event_type")
    if kind and kind.lower() in profile.refund_types:
        return True
    if profile.negative_refunds:
        for fname in ("total", "line_amount"):
            value, _ = layout.get(record, fname)
            if value.strip().startswith(("-", "(", "\u2212")):
                return True
    return False


def _client(
    layout: Layout, record: Sequence[str], report_client: str | None
) -> tuple[ClientRef, str | None]:
    client_id, _ = layout.get(record, "client_id")
    email, email_column = layout.get(record, "email")
    email = email.lower()
    if email and not _EMAIL.match(email):
        raise _RowError(email_column, f"{email!r} is not an email address")
    name, _ = layout.get(record, "client_name")
    name = name or report_client or ""
    if not (client_id or email or name):
        raise _RowError(
            "client", "the row names no client (no customer id, email or name on its document)"
        )
    phone, _ = layout.get(record, "phone")
    return ClientRef(client_id or None, email or None, name or None), phone or None


def _zone(layout: Layout, record: Sequence[str], reading: Reading) -> ZoneInfo:
    named, column = layout.get(record, "zone")
    if named:
        zone = zone_named(named)
        if zone is None:
            raise _RowError(column, f"{named!r} is not a time zone name")
        return zone
    return ZoneInfo("UTC") if layout.profile.zone == "utc" else reading.zone


def _instant(layout: Layout, record: Sequence[str], reading: Reading) -> datetime:
    text, column = layout.get(record, "occurred_at")
    if not text:
        raise _RowError(column, "missing")
    clock, _ = layout.get(record, "time")
    if clock:
        text = f"{text} {clock}"
    try:
        return parse_instant(
            text,
            zone=_zone(layout, record, reading),
            date_order=layout.profile.date_order or reading.date_order,
        )
    except DateError as exc:
        raise _RowError(column, str(exc)) from exc


def _date(layout: Layout, record: Sequence[str], fname: str, reading: Reading) -> date | None:
    text, column = layout.get(record, fname)
    if not text:
        return None
    try:
        return parse_date(text, date_order=layout.profile.date_order or reading.date_order)
    except DateError as exc:
        raise _RowError(column, str(exc)) from exc


def _currency(layout: Layout, record: Sequence[str], reading: Reading) -> str:
    written, column = layout.get(record, "currency")
    written = written.upper()
    if written:
        if len(written) != 3 or not written.isalpha():
            raise _RowError(column, f"{written!r} is not an ISO 4217 code")
        return written
    for fname in ("total", "line_amount", "line_price"):
        value, _ = layout.get(record, fname)
        found = currency_in(value) if value else None
        if found == "USD" and "$" in value:
            return reading.currency  # "$" alone is the business's dollar, whichever it is
        if found:
            return found
    return reading.currency


def _decimal(layout: Layout, record: Sequence[str], fname: str) -> tuple[Decimal, str] | None:
    text, column = layout.get(record, fname)
    if not text:
        return None
    try:
        return parse_amount(text, decimal_comma=layout.profile.decimal_comma), column
    except AmountError as exc:
        raise _RowError(column, str(exc)) from exc


def _minor(value: Decimal, currency: str, column: str) -> int:
    try:
        return to_minor(value, currency)
    except AmountError as exc:
        raise _RowError(column, str(exc)) from exc


def _quantity(layout: Layout, record: Sequence[str]) -> tuple[Decimal, str]:
    found = _decimal(layout, record, "quantity")
    if found is None:
        return Decimal(1), "quantity"
    return found


def _line(layout: Layout, record: Sequence[str], currency: str) -> Line | None:
    """A line from a row's line fields; None when the row has no line-level amount."""
    quantity, qcolumn = _quantity(layout, record)
    amount = _decimal(layout, record, "line_amount")
    if amount is None:
        price = _decimal(layout, record, "line_price")
        if price is None:
            return None
        amount = (price[0] * quantity, price[1])
    if quantity != quantity.to_integral_value():
        raise _RowError(qcolumn, f"{quantity} is not a whole number")
    minor = _minor(amount[0], currency, amount[1])
    product, _ = layout.get(record, "product")
    category, _ = layout.get(record, "category")
    separator = layout.profile.category_separator
    if separator and not category and separator in product:
        category, product = (part.strip() for part in product.rsplit(separator, 1))
    sku, _ = layout.get(record, "sku")
    basis = f"{product}|{sku}|{category}|{quantity}|{minor}|{currency}"
    return Line(
        product=product or None,
        category=category or None,
        quantity=int(quantity),
        amount_minor=minor,
        key="line:" + hashlib.sha256(basis.encode()).hexdigest()[:28],
    )


def _skip_reason(layout: Layout, record: Sequence[str]) -> str | None:
    profile = layout.profile
    status, column = layout.get(record, "status")
    if status and status.lower() in profile.skip_status:
        return f"{column} is {status!r}"
    kind, kcolumn = layout.get(record, "event_type")
    if kind and kind.lower() in profile.skip_types:
        return f"{kcolumn} is {kind!r}"
    for fname in profile.skip_if_set:
        value, vcolumn = layout.get(record, fname)
        if value:
            return f"{vcolumn} is set ({value})"
    return None


def _document(
    layout: Layout,
    group: list[tuple[int, list[str]]],
    reading: Reading,
    report_client: str | None,
) -> Iterator[Item]:
    lines_read = tuple(line for line, _ in group)
    first_line, first = group[0]
    skip = _skip_reason(layout, first)
    if skip:
        yield Skipped(lines_read, skip)
        return
    order_id, column = layout.get(first, "order_id")
    try:
        if not order_id:
            raise _RowError(column, "missing")
        ref, _ = _client(layout, _merged(layout, group), report_client)
        occurred_at = _instant(layout, first, reading)
        currency = _currency(layout, first, reading)
        channel, _ = layout.get(first, "channel")
        consent = _consent(layout, first)
    except _RowError as exc:
        yield Problem(first_line, exc.column, exc.reason)
        return
    lines: list[Line] = []
    seen: dict[str, int] = {}
    for line_no, record in group:
        try:
            row_currency = _currency(layout, record, reading) if record is not first else currency
            if row_currency != currency and layout.get(record, "currency")[0]:
                raise _RowError(
                    layout.get(record, "currency")[1],
                    f"{row_currency} on a line of a document in {currency}",
                )
            found = _line(layout, record, currency)
            if found is not None:
                count = seen.get(found.key, 0)
                seen[found.key] = count + 1
                if count:  # the same line twice in one document: two lines
                    found = replace(found, key=f"{found.key}#{count}")
                lines.append(found)
        except _RowError as exc:
            yield Problem(line_no, exc.column, exc.reason)
            return
    try:
        total = _decimal(layout, first, "total")
        refunded = _decimal(layout, first, "refunded")
        total_minor = _minor(total[0], currency, total[1]) if total else None
        refunded_minor = _minor(refunded[0], currency, refunded[1]) if refunded else None
        if not lines:
            if total_minor is None:
                raise _RowError(
                    layout.get(first, "total")[1], "the document has no amount on any row"
                )
            product, _ = layout.get(first, "product")
            lines.append(Line(product or None, None, 1, total_minor, "total"))
        elif total_minor is not None:
            rest = total_minor - sum(line.amount_minor for line in lines)
            if rest:
                lines.append(Line(ADJUSTMENT, None, 1, rest, "adjustment"))
        invoice = None
        if "invoices" in layout.profile.creates:
            status, _ = layout.get(first, "status")
            paid_on = _date(layout, first, "paid_at", reading)
            invoice = InvoicePart(
                issued_on=occurred_at.astimezone(_zone(layout, first, reading)).date(),
                due_on=_date(layout, first, "due_date", reading),
                paid_on=paid_on,
                settled=paid_on is None and status.lower() in layout.profile.paid_status,
                amount_minor=sum(line.amount_minor for line in lines),
            )
            if invoice.due_on is not None and invoice.due_on < invoice.issued_on:
                raise _RowError(
                    layout.get(first, "due_date")[1],
                    f"due {invoice.due_on} is before the invoice was issued ({invoice.issued_on})",
                )
    except _RowError as exc:
        yield Problem(first_line, exc.column, exc.reason)
        return
    yield Document(
        lines_read=lines_read,
        ref=ref,
        order_id=order_id,
        occurred_at=occurred_at,
        currency=currency,
        channel=channel or None,
        lines=tuple(lines),
        refunded_minor=refunded_minor,
        invoice=invoice,
        marketing_consent=consent,
    )
    if refunded_minor:
        yield RefundDoc(
            line=first_line,
            ref=ref,
            order_id=order_id,
            key="refunded",
            amount_minor=abs(refunded_minor),
            occurred_at=occurred_at,
            currency=currency,
            cumulative=True,
        )


def _consent(layout: Layout, record: Sequence[str]) -> bool | None:
    value, column = layout.get(record, "marketing_consent")
    try:
        return read_consent(value)
    except ValueError as exc:
        raise _RowError(column, f"{exc} (yes or no)") from exc


def _merged(layout: Layout, group: list[tuple[int, list[str]]]) -> list[str]:
    """The first row, with its empty document fields filled from later rows of the document
    (some exports put the customer on one line item only)."""
    merged = list(group[0][1])
    for fname in DOCUMENT_FIELDS:
        for _, indexes in layout.positions.get(fname, []):
            for index in indexes:
                if index < len(merged) and not merged[index].strip():
                    for _, record in group[1:]:
                        if index < len(record) and record[index].strip():
                            merged[index] = record[index]
                            break
    return merged


def _refund(
    layout: Layout,
    line: int,
    record: list[str],
    reading: Reading,
    report_client: str | None,
    seen: dict[str, int],
) -> Iterator[Item]:
    """A refund row. Its key is the row itself (refund id, item, amount, time), counted when
    the same row comes twice, so each item of one refund and each partial refund is kept."""
    skip = _skip_reason(layout, record)
    if skip and layout.get(record, "event_type")[0].lower() not in layout.profile.refund_types:
        yield Skipped((line,), skip)
        return
    try:
        order_id, column = layout.get(record, "order_id")
        if not order_id:
            raise _RowError(column, "missing")
        ref, _ = _client(layout, record, report_client)
        occurred_at = _instant(layout, record, reading)
        currency = _currency(layout, record, reading)
        amount = _decimal(layout, record, "line_amount") or _decimal(layout, record, "total")
        if amount is None:
            raise _RowError(layout.get(record, "total")[1], "a refund row needs an amount")
        minor = abs(_minor(amount[0], currency, amount[1]))
        if minor == 0:
            yield Skipped((line,), "a refund of nothing")
            return
        refund_id, _ = layout.get(record, "refund_id")
        product, _ = layout.get(record, "product")
        basis = (
            f"{order_id}|{refund_id}|{product}|{minor}|{occurred_at.astimezone(UTC).isoformat()}"
        )
        count = seen.get(basis, 0)
        seen[basis] = count + 1
        key = f"refund/{hashlib.sha256(basis.encode()).hexdigest()[:20]}"
        if count:
            key += f"#{count}"
    except _RowError as exc:
        yield Problem(line, exc.column, exc.reason)
        return
    yield RefundDoc(
        line=line,
        ref=ref,
        order_id=order_id,
        key=key,
        amount_minor=minor,
        occurred_at=occurred_at,
        currency=currency,
    )
