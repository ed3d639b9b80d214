"""The words of the owner's trade: which business kinds there are and how each one speaks.

A coffee roaster and a hotel make different mistakes and put them right differently, so the
business kind (the ``business_kind`` setting) chooses the recovery options catalog, the words
that tell what is at stake for the client and the examples the incident form shows. Each kind's
words sit beside its catalog, in the ``[words]`` table of ``defaults/recovery/<kind>.toml``
(docs/recovery.md); this module parses that table from a mapping.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from goodwill.errors import ConfigError

#: The business kinds, as the ``business_kind`` setting names them.
KINDS = ("shop", "cafe", "hospitality", "services", "software", "wholesale", "other")
DEFAULT_KIND = "other"

#: The kinds in the owner's words, for forms and docs.
KIND_NAMES: Mapping[str, str] = {
    "shop": "shop",
    "cafe": "café or restaurant",
    "hospitality": "B&B or hotel",
    "services": "agency or services",
    "software": "software",
    "wholesale": "wholesale or distribution",
    "other": "other",
}


@dataclass(frozen=True)
class TradeWords:
    """How one trade speaks: what puts a client's day at stake, and the form's examples.

    ``stakes`` replaces the built-in stakes lexicon (word: weight; 0 hides the words inside a
    longer phrase). ``what``, ``cause``, ``message`` and ``restatement`` are examples shown in
    the incident form's empty fields.
    """

    stakes: Mapping[str, float] = field(default_factory=dict)
    what: str = "The order went to the wrong address"
    cause: str = "wrong address"
    message: str = "It was meant to arrive on Friday and nothing has come."
    restatement: str = "Your order went to the wrong address and you needed it by Friday."


_TEXTS = ("what", "cause", "message", "restatement")


def parse_words(data: Mapping[str, Any], *, source: str) -> TradeWords:
    """A trade's ``[words]`` table; errors name the file and the key."""

    def fail(key: str, why: str) -> ConfigError:
        return ConfigError(f"{source}: words.{key}: {why}", file=source, key=f"words.{key}")

    known = {"stakes", *_TEXTS}
    for key in data:
        if key not in known:
            raise fail(key, f"unknown key (known: {', '.join(sorted(known))})")
    texts: dict[str, str] = {}
    for key in _TEXTS:
        if key in data:
            value = data[key]
            if not isinstance(value, str) or not value.strip():
                raise fail(key, "must be a non-empty string")
            texts[key] = value.strip()
    raw = data.get("stakes", {})
    if not isinstance(raw, Mapping):
        raise fail("stakes", "must be a table of word = weight")
    stakes: dict[str, float] = {}
    for word, weight in raw.items():
        if isinstance(weight, bool) or not isinstance(weight, int | float) or weight < 0:
            raise fail(f"stakes.{word}", "must be a number ≥ 0")
        stakes[str(word).strip().lower()] = float(weight)
    return TradeWords(stakes=stakes, **texts)


__all__ = ["DEFAULT_KIND", "KINDS", "KIND_NAMES", "TradeWords", "parse_words"]
