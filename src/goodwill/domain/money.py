"""Money as exact amounts: text from exports becomes a Decimal, stored as integer minor units.

Exports write amounts every way: ``$1,240.00``, ``"1.240,00 €"``, ``-12.5``, ``(12.50)``,
``399,00``, ``1 240,00``. The rule for a lone separator: a comma or dot followed by exactly three
digits and nothing else is a thousands separator when ``decimal_comma`` is unknown (``1,240`` is one
thousand two hundred and forty); otherwise the last separator is the decimal mark.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

#: ISO 4217 currencies whose minor unit is not 1/100.
_EXPONENTS = {
    "BIF": 0,
    "CLP": 0,
    "DJF": 0,
    "GNF": 0,
    "ISK": 0,
    "JPY": 0,
    "KMF": 0,
    "KRW": 0,
    "PYG": 0,
    "RWF": 0,
    "UGX": 0,
    "VND": 0,
    "VUV": 0,
    "XAF": 0,
    "XOF": 0,
    "XPF": 0,
    "BHD": 3,
    "IQD": 3,
    "JOD": 3,
    "KWD": 3,
    "LYD": 3,
    "OMR": 3,
    "TND": 3,
}
_SYMBOLS = {
    "$": "USD",
    "€": "EUR",
    "£": "GBP",
    "¥": "JPY",
    "₹": "INR",
    "₩": "KRW",
    "₽": "RUB",
    "₺": "TRY",
    "₪": "ILS",
    "₫": "VND",
    "฿": "THB",
    "₱": "PHP",
    "₦": "NGN",
}
_CODE = re.compile(r"\b([A-Za-z]{3})\b")
_KEEP = re.compile(r"[^0-9,.\-]")


class AmountError(ValueError):
    """The text is not an amount; the message says why in plain words."""


#: Currencies whose minor unit is not 1/100, by their number of decimals.
EXPONENTS = dict(_EXPONENTS)


def exponent(currency: str) -> int:
    return _EXPONENTS.get(currency.upper(), 2)


def to_minor(amount: Decimal, currency: str) -> int:
    """Whole minor units; refuses amounts finer than the currency allows (no silent rounding)."""
    scaled = amount.scaleb(exponent(currency))
    if scaled != scaled.to_integral_value():
        raise AmountError(f"{amount} has more decimals than {currency.upper()} allows")
    return int(scaled)


def from_minor(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-exponent(currency))


def format_money(minor: int, currency: str) -> str:
    value = from_minor(minor, currency)
    places = exponent(currency)
    return f"{value:,.{places}f} {currency.upper()}"


def currency_in(text: str) -> str | None:
    """The currency an amount's text names by symbol or ISO code, if any."""
    for symbol, code in _SYMBOLS.items():
        if symbol in text:
            return code
    match = _CODE.search(text)
    return match.group(1).upper() if match else None


def parse_amount(text: str, *, decimal_comma: bool | None = None) -> Decimal:
    """Parse an amount as exports write it.

    ``decimal_comma``: True when the source writes ``1.240,50``; False for ``1,240.50``; None to
    infer from the text (the rule in the module docstring).
    """
    raw = text.strip()
    if not raw:
        raise AmountError("empty amount")
    negative = raw.startswith("(") and raw.endswith(")")
    body = _KEEP.sub("", raw.replace("\u2212", "-"))
    if body.count("-") > 1 or ("-" in body and not body.startswith("-")):
        raise AmountError(f"{text!r} is not an amount")
    if body.startswith("-"):
        negative, body = not negative, body[1:]
    if not body or not any(ch.isdigit() for ch in body):
        raise AmountError(f"{text!r} is not an amount")
    letters = re.sub(r"[0-9,.\-\s()'\u00a0\u202f]", "", raw.replace("\u2212", "-"))
    if letters and currency_in(raw) is None:
        raise AmountError(f"{text!r} is not an amount")
    body = _normalise(body, decimal_comma, text)
    try:
        value = Decimal(body)
    except InvalidOperation as exc:
        raise AmountError(f"{text!r} is not an amount") from exc
    return -value if negative else value


def _normalise(body: str, decimal_comma: bool | None, text: str) -> str:
    commas, dots = body.count(","), body.count(".")
    if commas and dots:
        decimal = "," if body.rfind(",") > body.rfind(".") else "."
    elif commas or dots:
        sep = "," if commas else "."
        count = commas or dots
        head, _, tail = body.rpartition(sep)
        if decimal_comma is True:
            decimal = "," if sep == "," else ("" if count > 1 or len(tail) == 3 else ".")
        elif decimal_comma is False:
            decimal = "." if sep == "." else ""
        elif count > 1 or (len(tail) == 3 and head and head != "0"):
            decimal = ""
        else:
            decimal = sep
    else:
        return body
    thousands = {",", "."} - {decimal}
    if decimal:
        head, _, tail = body.rpartition(decimal)
        if any(sep in tail for sep in thousands):
            raise AmountError(f"{text!r} is not an amount")
    else:
        head, tail = body, ""
    groups = re.split(r"[.,]", head)
    if len(groups) > 1 and (not groups[0] or not all(len(g) == 3 for g in groups[1:])):
        raise AmountError(f"{text!r} has misplaced thousands separators")
    digits = "".join(groups)
    return f"{digits}.{tail}" if decimal else digits
