"""The month's batch of printed touches: postcards for the postcard service, notes written by hand.

A batch is one calendar month in the business's time zone (``2026-12``) and, optionally, one
kind of occasion (:data:`KINDS`: birthday month, anniversary, milestone). Each card goes to a
postal address; a client without at least a street and a city cannot get one and is listed apart
(:func:`missing_address` says why). The postcard service receives a CSV in the column layout such
services accept (:data:`CSV_COLUMNS`); :func:`postcard_csv` writes it.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from goodwill.errors import InvalidInput

__all__ = [
    "CSV_COLUMNS",
    "KINDS",
    "MENTION_KINDS",
    "OTHER",
    "PostalAddress",
    "check_kind",
    "kind_of",
    "mentions",
    "missing_address",
    "month_bounds",
    "month_label",
    "parse_month",
    "postal_address",
    "postcard_csv",
]

#: The touch point behind a follow-up -> the batch kind it belongs to.
KINDS: dict[str, str] = {
    "client.birthday_month": "birthday",
    "client.anniversary": "anniversary",
    "client.milestone": "milestone",
}
#: The kind of a card whose touch point is none of the above (a rule of the owner's own).
OTHER = "other"
#: The columns postcard services take, in their order.
CSV_COLUMNS = (
    "name",
    "address_line1",
    "address_line2",
    "city",
    "region",
    "postcode",
    "country",
    "message",
)
#: Facts worth mentioning in a handwritten note, the most personal first.
MENTION_KINDS = ("family", "event", "interest", "value", "hometown", "school", "anniversary")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class PostalAddress:
    """Where a card goes: the first street line, then the rest of the street or the company."""

    line1: str
    line2: str
    city: str
    region: str
    postcode: str
    country: str

    def lines(self) -> list[str]:
        """The address as written on an envelope, blank parts left out."""
        place = " ".join(p for p in (self.postcode, self.city) if p)
        return [p for p in (self.line1, self.line2, place, self.region, self.country) if p]


def parse_month(text: str) -> date:
    """The first day of the month ``YYYY-MM``; InvalidInput naming ``month`` otherwise."""
    match = _MONTH.match(text.strip())
    if match is not None and 1 <= int(match.group(2)) <= 12 and int(match.group(1)) >= 1:
        return date(int(match.group(1)), int(match.group(2)), 1)
    raise InvalidInput(
        f"month: {text.strip()[:20]!r} is not a month: write it as YYYY-MM (2026-12)",
        field="month",
    )


def month_bounds(month: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The month from its 1st 00:00 to the next month's 1st 00:00 in ``zone`` (aware)."""
    following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    start = datetime.combine(month.replace(day=1), time()).replace(tzinfo=zone)
    return start, datetime.combine(following, time()).replace(tzinfo=zone)


def month_label(month: date) -> str:
    """``December 2026``: how the outcome and the pages name a batch."""
    return f"{month:%B %Y}"


def kind_of(event_type: str | None) -> str:
    """The batch kind of a follow-up from its touch point (:data:`OTHER` when none fits)."""
    return KINDS.get(event_type or "", OTHER)


def check_kind(text: str | None) -> str | None:
    """A ``--kind`` as given (blank: every kind); InvalidInput naming ``kind`` otherwise."""
    if text is None or not text.strip():
        return None
    kind = text.strip().lower()
    known = (*KINDS.values(), OTHER)
    if kind not in known:
        raise InvalidInput(
            f"kind: {text.strip()[:40]!r} is not a kind of batch (known: {', '.join(known)})",
            field="kind",
        )
    return kind


def _clean(value: str | None) -> str:
    return " ".join((value or "").split())


def missing_address(*, street: str | None, city: str | None) -> str | None:
    """Why a client cannot be sent a card, or None when they can: a street and a city are
    the least a postal address needs."""
    missing = [name for name, value in (("street", street), ("city", city)) if not _clean(value)]
    if not missing:
        return None
    return f"no {' or '.join(missing)} in the client's address"


def postal_address(
    *,
    name: str,
    street: str | None,
    company: str | None,
    city: str | None,
    region: str | None,
    postcode: str | None,
    country: str | None,
) -> PostalAddress | None:
    """The card's address, or None when :func:`missing_address` finds it lacking.

    A street of several lines keeps its first as line 1; the rest, and the company (unless it
    is the client's own name), go on line 2.
    """
    if missing_address(street=street, city=city) is not None:
        return None
    lines = [_clean(line) for line in (street or "").replace(",\n", "\n").splitlines()]
    lines = [line for line in lines if line]
    firm = _clean(company)
    extra = ([firm] if firm and firm.lower() != _clean(name).lower() else []) + lines[1:]
    return PostalAddress(
        line1=lines[0],
        line2=", ".join(extra),
        city=_clean(city),
        region=_clean(region),
        postcode=_clean(postcode),
        country=_clean(country).upper(),
    )


def mentions(facts: Iterable[tuple[str, str]], *, limit: int = 4) -> tuple[str, ...]:
    """What a handwritten note could mention: the client's facts of :data:`MENTION_KINDS`,
    ``(kind, text)`` pairs given newest first, the most personal kinds first, at most ``limit``."""
    kept = [(kind, " ".join(text.split())) for kind, text in facts if kind in MENTION_KINDS]
    kept.sort(key=lambda pair: MENTION_KINDS.index(pair[0]))  # stable: newest first per kind
    return tuple(dict.fromkeys(text for _, text in kept if text))[:limit]


def _cell(value: str) -> str:
    """A cell a spreadsheet will not run as a formula when the owner opens the file."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def postcard_csv(rows: Sequence[tuple[str, PostalAddress, str]]) -> str:
    """The CSV for the postcard service: a header of :data:`CSV_COLUMNS`, then one line per
    ``(name, address, message)``; the message keeps its line breaks inside its quoted cell."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for name, address, message in rows:
        cells = (
            name,
            address.line1,
            address.line2,
            address.city,
            address.region,
            address.postcode,
            address.country,
            message.strip(),
        )
        writer.writerow([_cell(cell) for cell in cells])
    return out.getvalue()
