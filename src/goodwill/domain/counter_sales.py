"""A sale typed in at the counter, for businesses with no export: the amount and its items.

Items are optional and written one per entry as ``Walking boots`` or ``Walking boots = 89.90``.
With no items the sale is one line of the whole amount. Priced items must not add up to more
than the amount; what the prices leave goes on the first item without a price, and when every
item has a price the amount may be left out (it is their sum) or must equal it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from goodwill.domain.money import AmountError, format_money, parse_amount, to_minor
from goodwill.errors import InvalidInput

__all__ = ["ITEM_MAX", "MAX_ITEMS", "SaleLine", "parse_money", "sale_lines"]

#: The longest item name (the order line's product column).
ITEM_MAX = 300
MAX_ITEMS = 100


@dataclass(frozen=True)
class SaleLine:
    product: str | None
    amount_minor: int


def parse_money(text: str | None, currency: str, *, field: str) -> int | None:
    """An amount in minor units of ``currency``; blank is None; negative or zero is refused."""
    if text is None or not str(text).strip():
        return None
    try:
        minor = to_minor(parse_amount(str(text)), currency)
    except (AmountError, ArithmeticError) as exc:
        raise InvalidInput(
            f"{field}: {str(text)[:40]!r} is not an amount ({exc})", field=field
        ) from None
    if minor <= 0:
        raise InvalidInput(f"{field}: the amount must be more than zero", field=field)
    return minor


def sale_lines(amount: str | None, items: Sequence[str], currency: str) -> list[SaleLine]:
    """The order lines of a counter sale, or InvalidInput naming ``amount`` or ``items``."""
    entries = [item.strip() for item in items if item.strip()]
    if len(entries) > MAX_ITEMS:
        raise InvalidInput(f"items: at most {MAX_ITEMS} items in one sale", field="items")
    parsed: list[tuple[str, int | None]] = []
    for entry in entries:
        name, _, price = entry.partition("=")
        name = name.strip()
        if not name:
            raise InvalidInput(f"items: {entry[:40]!r} has a price but no name", field="items")
        if len(name) > ITEM_MAX:
            raise InvalidInput(
                f"items: an item name is at most {ITEM_MAX} characters", field="items"
            )
        parsed.append((name, parse_money(price, currency, field="items") if price else None))
    total = parse_money(amount, currency, field="amount")
    priced = sum(p for _, p in parsed if p is not None)
    unpriced = [name for name, p in parsed if p is None]
    if total is None:
        if not parsed or unpriced:
            raise InvalidInput("amount: say how much the sale came to", field="amount")
        total = priced
    if priced > total or (priced != total and not unpriced and parsed):
        raise InvalidInput(
            f"amount: the items add up to {format_money(priced, currency)}, "
            f"not {format_money(total, currency)}",
            field="amount",
        )
    if not parsed:
        return [SaleLine(None, total)]
    rest = total - priced
    lines: list[SaleLine] = []
    for item, cost in parsed:
        if cost is None:
            lines.append(SaleLine(item, rest))
            rest = 0
        else:
            lines.append(SaleLine(item, cost))
    return lines
