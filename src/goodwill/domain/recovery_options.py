"""Recovery options: the catalog of ways to make things right, and which fit an incident.

The catalog is TOML (``defaults/recovery/<kind>.toml``, one per business kind; the format is in
docs/recovery.md): each ``[[option]]`` has a name, a description, a cost ("0", an amount in the
business's currency, or "refund" for what the client paid), the tiers it suits, the situations
it fits and who may grant it (staff, or the owner at tier 3 only). A catalog must hold a free
option at every tier, so each recommendation includes one that costs nothing: redoing the work,
sending the right thing again, pointing the client to someone who can help today and a call
from the owner cost the business nothing but effort.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any, Literal

from goodwill.errors import ConfigError

Tier = Literal[1, 2, 3]
Authority = Literal["staff", "owner"]
TIERS: tuple[Tier, ...] = (1, 2, 3)
#: The situations an option can fit; "any" fits every incident.
SITUATIONS = ("stranded", "out_of_stock", "late", "damaged", "wrong_item", "partner", "any")


@cache
def _mention(word: str) -> re.Pattern[str]:
    words = [re.escape(w) for w in word.split()]
    words[-1] += r"(?:s|es|er|ers|ing|ed|d)?"
    return re.compile(r"(?<![\w'])" + r"\s+".join(words) + r"(?![\w'])", re.IGNORECASE)


@dataclass(frozen=True)
class Option:
    """One way to make things right, as the catalog declares it.

    ``cost`` is an amount in the business's currency (0 = free); ``refund`` options cost what
    the client paid, known only per incident. Options needing the owner's authority are offered
    at tier 3 only.
    """

    name: str
    description: str
    cost: Decimal | None
    refund: bool
    tiers: frozenset[int]
    fits: frozenset[str]
    authority: Authority
    mentions: tuple[str, ...] = ()  # offered only when the incident mentions one (any form)

    @property
    def free(self) -> bool:
        return not self.refund and self.cost == 0

    def mentioned_in(self, text: str) -> bool:
        """Whether ``text`` mentions one of ``mentions`` in any word form (True when none set)."""
        normal = text.replace("\u2019", "'")
        return not self.mentions or any(_mention(word).search(normal) for word in self.mentions)


@dataclass(frozen=True)
class Catalog:
    options: tuple[Option, ...]


@dataclass(frozen=True)
class Offer:
    """An option recommended for this incident: its cost here and the situations it fits."""

    option: Option
    cost: Decimal | None  # None: a refund whose amount is not known
    fits: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.option.name

    def as_dict(self) -> dict[str, Any]:
        o = self.option
        return {
            "name": o.name,
            "cost": None if self.cost is None else float(self.cost),
            "description": o.description,
            "authority": o.authority,
            "fits": list(self.fits),
        }


_OPTION_KEYS = {"name", "description", "cost", "tiers", "fits", "authority", "mentions"}


def parse_catalog(data: Mapping[str, Any], *, source: str) -> Catalog:
    """The options catalog from parsed TOML (``[[option]]`` tables); errors name file and key.

    Refuses a catalog without a free option at every tier: the promise that each recommendation
    holds one that costs nothing must not depend on the incident.
    """
    raw = data.get("option")
    if set(data) - {"option", "words"}:  # a trade's [words] sit beside its options
        key = sorted(set(data) - {"option", "words"})[0]
        raise ConfigError(
            f"{source}: {key}: unknown table (known: option, words)", file=source, key=key
        )
    if not isinstance(raw, list) or not raw:
        raise ConfigError(f"{source}: option: needs [[option]] tables", file=source, key="option")
    options = tuple(_option(i, entry, source) for i, entry in enumerate(raw, 1))
    names = [o.name for o in options]
    if dup := next((n for n in names if names.count(n) > 1), None):
        raise ConfigError(f"{source}: option {dup!r}: listed twice", file=source, option=dup)
    for tier in TIERS:
        if not any(o.free and tier in o.tiers for o in options):
            raise ConfigError(
                f"{source}: no free option for tier {tier}; every recommendation needs one",
                file=source,
                key="option",
            )
    return Catalog(options)


def _option(index: int, raw: object, source: str) -> Option:
    label = f"option {index}"
    if isinstance(raw, Mapping) and isinstance(raw.get("name"), str):
        label = f"option {raw['name']!r}"

    def fail(key: str, why: str) -> ConfigError:
        return ConfigError(f"{source}: {label}: {key}: {why}", file=source, option=label, key=key)

    if not isinstance(raw, Mapping):
        raise fail("option", "must be a table")
    for key in raw:
        if key not in _OPTION_KEYS:
            raise fail(key, f"unknown key (known: {', '.join(sorted(_OPTION_KEYS))})")
    name, description = raw.get("name"), raw.get("description", "")
    if not isinstance(name, str) or not name.strip():
        raise fail("name", "must be a non-empty string")
    if not isinstance(description, str):
        raise fail("description", "must be a string")
    cost_text = raw.get("cost")
    refund = cost_text == "refund"
    cost: Decimal | None = None
    if not refund:
        if isinstance(cost_text, bool) or not isinstance(cost_text, str | int | float):
            raise fail("cost", '"0", an amount, or "refund" (what the client paid)')
        try:
            cost = Decimal(str(cost_text))
        except InvalidOperation:
            raise fail("cost", '"0", an amount, or "refund" (what the client paid)') from None
        if not cost.is_finite() or cost < 0:
            raise fail("cost", "must be ≥ 0")
    tiers = raw.get("tiers")
    if not isinstance(tiers, list) or not tiers or any(t not in TIERS for t in tiers):
        raise fail("tiers", "must list tiers among 1, 2, 3")
    fits = raw.get("fits", ["any"])
    if not isinstance(fits, list) or not fits or any(f not in SITUATIONS for f in fits):
        raise fail("fits", f"must list situations among {', '.join(SITUATIONS)}")
    authority = raw.get("authority", "staff")
    if authority not in ("staff", "owner"):
        raise fail("authority", 'must be "staff" or "owner"')
    if authority == "owner" and set(tiers) != {3}:
        raise fail("tiers", "an option needing the owner's authority belongs to tier 3 only")
    mentions = raw.get("mentions", [])
    if not isinstance(mentions, list) or not all(
        isinstance(m, str) and m.strip() for m in mentions
    ):
        raise fail("mentions", "must be a list of words")
    return Option(
        name=name.strip(),
        description=description.strip(),
        cost=cost,
        refund=refund,
        tiers=frozenset(tiers),
        fits=frozenset(fits),
        authority="owner" if authority == "owner" else "staff",
        mentions=tuple(m.strip().lower() for m in mentions),
    )


def recommend(
    catalog: Catalog,
    tier: Tier,
    found: frozenset[str],
    *,
    text: str = "",
    order_value: Decimal | None = None,
    limit: int = 8,
) -> tuple[Offer, ...]:
    """Options for the tier that fit the situations, best fit first, at least one free.

    An option fits when it lists one of the situations ``found`` and, if it names ``mentions``,
    ``text`` mentions one of them. Order: options fitting more of the incident's own situations
    first (a matched mention counts as one, "any" as none), then free before paid, cheaper
    before dearer, then catalog order. When none of the first ``limit`` is free, the best free
    option for the tier takes the last place.
    """

    def offer(option: Option) -> Offer:
        cost = order_value if option.refund else option.cost
        return Offer(option, cost, tuple(s for s in SITUATIONS if s in option.fits & found))

    def rank(item: tuple[int, Option]) -> tuple[int, int, Decimal, int]:
        index, option = item
        specific = len(option.fits & found - {"any"}) + (1 if option.mentions else 0)
        price = option.cost if option.cost is not None else order_value
        return (
            -specific,
            0 if option.free else 1,
            Decimal("Infinity") if price is None else price,
            index,
        )

    allowed = [
        (i, o)
        for i, o in enumerate(catalog.options)
        if tier in o.tiers and (o.authority == "staff" or tier == 3)
    ]
    fitting = sorted(
        ((i, o) for i, o in allowed if o.fits & found and o.mentioned_in(text)), key=rank
    )
    chosen = [o for _, o in fitting[:limit]]
    if not any(o.free for o in chosen):
        free = sorted(((i, o) for i, o in allowed if o.free), key=rank)
        chosen = [*chosen[: max(0, limit - 1)], free[0][1]]
    return tuple(offer(o) for o in chosen)


__all__ = [
    "SITUATIONS",
    "TIERS",
    "Authority",
    "Catalog",
    "Offer",
    "Option",
    "Tier",
    "parse_catalog",
    "recommend",
]
