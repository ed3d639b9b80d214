"""The phrases the reply checks look for: deflections (blocking or warning), phrases allowed
even inside a deflection, and the words that offer a next step; the defaults and their TOML form.

Kept apart from the checks (:mod:`goodwill.domain.guardrails`) because a business tunes the
words, never the rules.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from goodwill.domain.folded_text import plain
from goodwill.errors import ConfigError

Severity = Literal["block", "warn"]


@dataclass(frozen=True)
class Phrase:
    """A deflecting phrase; ``{partner}`` in it stands for any partner name or "them"."""

    text: str
    severity: Severity


@dataclass(frozen=True)
class Lexicon:
    """The words the deflection and next-step rules look for."""

    deflection: tuple[Phrase, ...]
    allow: tuple[str, ...] = ()
    next_step: tuple[str, ...] = ()


def phrase_list(text: str) -> tuple[str, ...]:
    """Phrases written ``a | b | c`` over several lines, in order."""
    return tuple(p.strip() for line in text.splitlines() for p in line.split("|") if p.strip())


def word_set(text: str) -> frozenset[str]:
    return frozenset(phrase_list(text))


_STRONG = phrase_list(
    """
    not affiliated | no affiliation | not our fault | not our problem | not our responsibility
    nothing to do with us | we are not responsible | we're not responsible | we are not liable
    we cannot be held responsible | we can't be held responsible | their fault | their problem
    mistake, not ours | fault, not ours | error, not ours
    """
)
_SOFT = phrase_list(
    """
    please contact them | please contact {partner} | please reach out to {partner}
    please get in touch with {partner} | contact them directly | contact {partner} directly
    you will need to contact | you'll need to contact | you need to contact
    you have to contact | you should contact | you must contact | kindly contact
    take it up with | nothing we can do | there is nothing we can | we can't do anything
    we cannot do anything | as per our policy | per our policy | our policy states
    company policy | your responsibility | your own responsibility | you should have
    out of our hands | beyond our control | out of our control | not our department
    we cannot help | we can't help | unable to assist | as previously stated | as stated in
    as we already said | as i already said | terms and conditions | you agreed to
    handled by a third party | booked through a third party
    """
)
_ALLOW = phrase_list(
    """
    not your responsibility | isn't your responsibility | is not your responsibility
    never your responsibility | none of this is your responsibility | we can't help but
    we cannot help but
    """
)
_NEXT_STEP = phrase_list(
    """
    we will | we'll | i will | i'll | we can | i can | we could | i could | we are going to
    we're going to | i am going to | i'm going to | would you like | would you prefer
    do you want | shall we | shall i | let me | let us | we are sending | we're sending
    i am sending | i'm sending | we have booked | we've booked | i have booked | i've booked
    we have arranged | we've arranged | i have arranged | i've arranged | we have sent
    we've sent | i have sent | i've sent | is on its way | are on their way | is on the way
    happy to | we'd like to | we would like to | i'd like to | i would like to | will call you
    will write to you | will update you | will get back to you | will be in touch
    will let you know | will contact you | will email you | will text you | will send you
    will meet you | will be there | on his way | on her way | next step
    here is what happens next | here's what happens next
    """
)

#: The defaults: strong deflections block, the rest warn.
DEFAULT_LEXICON = Lexicon(
    deflection=tuple(Phrase(p, "block") for p in _STRONG) + tuple(Phrase(p, "warn") for p in _SOFT),
    allow=_ALLOW,
    next_step=_NEXT_STEP,
)

_LEXICON_KEYS = ("deflection", "deflection_block", "allow", "next_step", "remove")


def parse_lexicon(
    data: Mapping[str, Any], *, source: str, base: Lexicon = DEFAULT_LEXICON
) -> Lexicon:
    """The lexicon from a TOML file's ``[guardrails]`` table, added to ``base``.

    Phrases are compared case-insensitively; a phrase listed again takes its new severity;
    ``remove`` drops phrases from every list. ConfigError names the source and the key.
    """
    table = data.get("guardrails", {})
    if not isinstance(table, Mapping):
        raise ConfigError(f"{source}: [guardrails] must be a table", file=source, key="guardrails")
    unknown = sorted(set(table) - set(_LEXICON_KEYS))
    if unknown:
        raise ConfigError(
            f"{source}: unknown key guardrails.{unknown[0]} (known: {', '.join(_LEXICON_KEYS)})",
            file=source,
            key=f"guardrails.{unknown[0]}",
        )
    lists = {key: _phrases(table.get(key, []), key, source) for key in _LEXICON_KEYS}
    removed = set(lists["remove"])
    severities: dict[str, Severity] = {
        normalise_phrase(p.text): p.severity for p in base.deflection
    }
    severities.update(dict.fromkeys(lists["deflection"], "warn"))
    severities.update(dict.fromkeys(lists["deflection_block"], "block"))
    return Lexicon(
        deflection=tuple(Phrase(p, s) for p, s in severities.items() if p not in removed),
        allow=_merge(base.allow, lists["allow"], removed),
        next_step=_merge(base.next_step, lists["next_step"], removed),
    )


def _phrases(value: object, key: str, source: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(
            f"{source}: guardrails.{key} must be a list of non-empty phrases",
            file=source,
            key=f"guardrails.{key}",
        )
    return [normalise_phrase(v) for v in value]


def normalise_phrase(phrase: str) -> str:
    return " ".join(plain(phrase).split())


def _merge(base: Sequence[str], extra: Sequence[str], removed: set[str]) -> tuple[str, ...]:
    merged = dict.fromkeys(normalise_phrase(p) for p in (*base, *extra))
    return tuple(p for p in merged if p not in removed)


__all__ = [
    "DEFAULT_LEXICON",
    "Lexicon",
    "Phrase",
    "Severity",
    "normalise_phrase",
    "parse_lexicon",
    "phrase_list",
    "word_set",
]
