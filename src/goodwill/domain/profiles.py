"""Import profiles: how one tool's export is read, declared as data.

A profile names the headers each canonical field is known by (vendors rename columns, so matching
is by name with aliases, never by position), the row shapes of the export (line items grouped
into one document, refunds as rows or as a column, report rows around the data) and its locale
(day or month first, decimal comma, the zone of times that carry none). The built-in profiles are
``defaults/profiles.toml``; a business adds or overrides one under ``[profiles.NAME]`` in its own
configuration. The format is documented in docs/import-profiles.md.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from goodwill.errors import ConfigError

#: Every field a profile can map, with what it means.
FIELDS: dict[str, str] = {
    "order_id": "the document's key: an order, transaction, charge or invoice number",
    "refund_id": "the key of a refund row, when refunds are rows of their own",
    "client_id": "the source's own customer id",
    "email": "the client's email address",
    "client_name": "the client's name",
    "phone": "the client's phone number",
    "occurred_at": "when the sale happened: a date or a date and time",
    "time": "the time of day, when the export writes it in a column of its own",
    "zone": "the time zone of the date and time (IANA or Rails names such as 'Eastern Time')",
    "total": "the document's total as charged (shipping, taxes and discounts included)",
    "line_amount": "a line's amount",
    "line_price": "a line's unit price (the line's amount is price times quantity)",
    "quantity": "a line's quantity",
    "product": "a line's product or description",
    "sku": "a line's stock-keeping unit",
    "category": "a line's product category",
    "currency": "the ISO 4217 currency of the amounts",
    "refunded": "the amount refunded so far on the whole document",
    "event_type": "what a row is (a sale, a refund, a credit memo)",
    "status": "the document's status (paid, voided, draft, ...)",
    "channel": "the channel or partner the sale came through",
    "due_date": "the date an invoice is due",
    "paid_at": "the date an invoice was paid",
    "cancelled_at": "when the document was cancelled",
    "marketing_consent": "whether the client accepts marketing email (yes or no)",
}

CREATES = ("orders", "invoices")
ZONES = ("business", "utc")
#: Fields only read from a document's first row (the others are per line).
DOCUMENT_FIELDS = (
    "client_id",
    "email",
    "client_name",
    "phone",
    "occurred_at",
    "time",
    "zone",
    "total",
    "currency",
    "refunded",
    "status",
    "channel",
    "due_date",
    "paid_at",
    "cancelled_at",
    "marketing_consent",
)


def normalise(name: str) -> str:
    """A header as compared: case, spaces, dashes and underscores do not matter."""
    return re.sub(r"[\s\-_]+", "", name.strip().lower())


@dataclass(frozen=True)
class Profile:
    name: str
    title: str
    source: str
    creates: tuple[str, ...]
    detect: tuple[str, ...]
    columns: Mapping[str, tuple[str, ...]]
    date_order: str | None = None
    decimal_comma: bool | None = None
    zone: str = "business"
    report: bool = False
    refund_types: tuple[str, ...] = ()
    negative_refunds: bool = False
    skip_status: tuple[str, ...] = ()
    skip_types: tuple[str, ...] = ()
    skip_if_set: tuple[str, ...] = ()
    paid_status: tuple[str, ...] = ()
    category_separator: str | None = None
    blank: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    builtin: bool = True

    def matches(self, header: Sequence[str]) -> bool:
        present = {normalise(h) for h in header}
        return all(normalise(d) in present for d in self.detect)

    def header_names(self) -> set[str]:
        """Every header this profile knows (normalised), for telling which columns it ignores."""
        names: set[str] = set()
        for aliases in self.columns.values():
            for alias in aliases:
                names.update(normalise(part) for part in alias.split(" + "))
        return names


@dataclass(frozen=True)
class Detection:
    profile: Profile
    reason: str


def detect(profiles: Mapping[str, Profile], header: Sequence[str]) -> Detection | None:
    """The one profile whose telltale headers the header row has; refuses to pick between two.

    When several match, a profile whose telltales include all of another's is more specific and
    wins (square-items over square-transactions); a real tie raises ConfigError naming both.
    """
    found = [p for p in profiles.values() if p.matches(header)]
    if not found:
        return None
    specific = [
        p
        for p in found
        if not any(
            q is not p and {normalise(d) for d in p.detect} < {normalise(d) for d in q.detect}
            for q in found
        )
    ]
    if len(specific) > 1:
        names = " and ".join(sorted(p.name for p in specific))
        raise ConfigError(
            f"the header row fits both {names}; say which with --profile",
            candidates=sorted(p.name for p in specific),
        )
    chosen = specific[0]
    return Detection(chosen, f"the header has {', '.join(repr(d) for d in chosen.detect)}")


def parse_profiles(
    data: Mapping[str, Any],
    *,
    source: str,
    base: Mapping[str, Profile] | None = None,
    builtin: bool = False,
) -> dict[str, Profile]:
    """Profiles from parsed TOML; a table named like one in ``base`` overrides the keys it sets.

    Errors name the file, the profile and the key.
    """
    out: dict[str, Profile] = dict(base or {})
    for name, table in data.items():
        if not isinstance(table, Mapping):
            raise ConfigError(f"{source}: profiles.{name} must be a table", file=source)
        out[name] = _profile(str(name), table, source, (base or {}).get(name), builtin)
    return out


def _profile(
    name: str, raw: Mapping[str, Any], source: str, base: Profile | None, builtin: bool
) -> Profile:
    where = f"{source}: profile {name}"

    def fail(key: str, why: str) -> ConfigError:
        return ConfigError(f"{where}: {key}: {why}", file=source, profile=name, key=key)

    known = {
        "title",
        "source",
        "creates",
        "detect",
        "columns",
        "date_order",
        "decimal_comma",
        "zone",
        "report",
        "refund_types",
        "negative_refunds",
        "skip_status",
        "skip_types",
        "skip_if_set",
        "paid_status",
        "category_separator",
        "blank",
    }
    for key in raw:
        if key not in known:
            raise fail(key, f"unknown key (known: {', '.join(sorted(known))})")

    def lowered(key: str) -> tuple[str, ...]:
        return tuple(v.lower() for v in strings(key, inherited(key) or ()))

    def strings(key: str, default: tuple[str, ...]) -> tuple[str, ...]:
        value = raw.get(key)
        if value is None:
            return default
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise fail(key, "must be a list of strings")
        return tuple(value)

    def text(key: str, default: str | None) -> str | None:
        value = raw.get(key, default)
        if value is not None and not isinstance(value, str):
            raise fail(key, "must be a string")
        return value

    def flag(key: str, default: bool) -> bool:
        value = raw.get(key, default)
        if not isinstance(value, bool):
            raise fail(key, "must be true or false")
        return value

    columns: dict[str, tuple[str, ...]] = dict(base.columns) if base else {}
    raw_columns = raw.get("columns", {})
    if not isinstance(raw_columns, Mapping):
        raise fail("columns", "must be a table of field = [header names]")
    for fname, aliases in raw_columns.items():
        if fname not in FIELDS:
            raise fail(f"columns.{fname}", f"not a field (fields: {', '.join(FIELDS)})")
        if isinstance(aliases, str):
            aliases = [aliases]
        if not isinstance(aliases, list) or not all(isinstance(a, str) and a for a in aliases):
            raise fail(f"columns.{fname}", "must be a list of header names")
        columns[fname] = tuple(aliases)
    blank: dict[str, tuple[str, ...]] = dict(base.blank) if base else {}
    raw_blank = raw.get("blank", {})
    if not isinstance(raw_blank, Mapping):
        raise fail("blank", "must be a table of field = [values read as empty]")
    for fname, values in raw_blank.items():
        if fname not in FIELDS or not isinstance(values, list):
            raise fail(f"blank.{fname}", "must name a field and list values")
        blank[fname] = tuple(str(v) for v in values)

    def inherited(key: str) -> Any:
        return getattr(base, key) if base else None

    creates = strings("creates", inherited("creates") or ())
    if not creates or any(c not in CREATES for c in creates):
        raise fail("creates", f"must list what the export creates: {', '.join(CREATES)}")
    detect_ = strings("detect", inherited("detect") or ())
    if not detect_:
        raise fail("detect", "must list the headers that tell this export apart")
    if "order_id" not in columns:
        raise fail("columns.order_id", "every profile needs the document's key")
    if "occurred_at" not in columns:
        raise fail("columns.occurred_at", "every profile needs the sale's date")
    if not ({"total", "line_amount", "line_price"} & set(columns)):
        raise fail("columns", "needs an amount: total, line_amount or line_price")
    date_order = text("date_order", inherited("date_order"))
    if date_order not in (None, "dmy", "mdy"):
        raise fail("date_order", "must be 'dmy' or 'mdy'")
    zone = text("zone", inherited("zone") or "business") or "business"
    if zone not in ZONES:
        raise fail("zone", f"must be one of {', '.join(ZONES)}")
    decimal_comma = raw.get("decimal_comma", inherited("decimal_comma"))
    if decimal_comma is not None and not isinstance(decimal_comma, bool):
        raise fail("decimal_comma", "must be true or false")
    return Profile(
        name=name,
        title=text("title", inherited("title") or name) or name,
        source=text("source", inherited("source") or name) or name,
        creates=creates,
        detect=detect_,
        columns=columns,
        date_order=date_order,
        decimal_comma=decimal_comma,
        zone=zone,
        report=flag("report", bool(inherited("report"))),
        refund_types=lowered("refund_types"),
        negative_refunds=flag("negative_refunds", bool(inherited("negative_refunds"))),
        skip_status=lowered("skip_status"),
        skip_types=lowered("skip_types"),
        skip_if_set=strings("skip_if_set", inherited("skip_if_set") or ()),
        paid_status=lowered("paid_status"),
        category_separator=text("category_separator", inherited("category_separator")),
        blank=blank,
        builtin=base.builtin if base else builtin,
    )
