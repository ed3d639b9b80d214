"""Stakes and tier: how much a mistake matters to this client now, and what to offer.

The score is a plain sum of named contributions, each with a sentence saying why (no model, no
black box), so staff can read the recommendation and disagree with a specific line of it:

    time pressure   points by hours to the client's deadline, on a decreasing step scale
    stakes          what the client's words put at stake (a weighted lexicon: wedding, flight, ...)
    stranded        the client is stranded or blocked right now (given, or inferred from words)
    scarcity        alternatives are scarce ("fully booked", "sold out", "last one")
    harm            the mistake landed on the client in person (a spill, an injury)
    tenure          points per year as a client, capped
    value           points per reference amount of yearly value, capped
    at risk         P(alive) already low: one more mistake may end the relationship
    cost            the cost of the mistake, relative to the client's yearly value when known
    repeat          earlier incidents with this client
    partner         a partner acting for us made it; it is ours all the same

The score maps to a tier: 1 apology and fix, 2 fix and a make-good, 3 rescue now with the owner's
authority. Options come from the catalog (:mod:`goodwill.domain.recovery_options`) by tier and
situation. The weights are TOML, parsed here from a mapping; docs/recovery.md documents them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from goodwill.domain.recovery_options import (
    Authority,
    Catalog,
    Offer,
    Tier,
    recommend,
)
from goodwill.errors import ConfigError, InvalidInput

TIER_NAMES: dict[int, str] = {
    1: "apology and fix",
    2: "fix and a make-good",
    3: "rescue now, with the owner's authority",
}

#: The stakes lexicon when no trade gives one (each business kind ships its own, docs/recovery.md).
DEFAULT_STAKES: dict[str, float] = {
    "wedding": 4.0,
    "funeral": 4.0,
    "surgery": 4.0,
    "honeymoon": 3.5,
    "flight": 3.0,
    "interview": 3.0,
    "launch": 3.0,
    "exam": 3.0,
    "graduation": 3.0,
    "proposal": 3.0,
    "christening": 3.0,
    "ceremony": 3.0,
    "audition": 3.0,
    "anniversary": 2.5,
    "special evening": 2.5,
    "presentation": 2.5,
    "pitch": 2.5,
    "trade show": 2.5,
    "meeting": 2.0,
    "birthday": 2.0,
    "conference": 2.0,
    "deadline": 2.0,
    "date night": 2.0,
    "vacation": 2.0,
    "holiday": 2.0,
    "appointment": 1.5,
    "concert": 1.5,
    # Weight 0 hides the words inside: a flight attendant is not a flight at stake.
    "flight attendant": 0.0,
    "meeting point": 0.0,
}
#: How the time factor speaks of an event ("the flight departs in 3 hours").
_VERBS = {"flight": "departs", "train": "leaves"}

DEFAULT_STRANDED_WORDS = (
    "stranded",
    "stuck",
    "can't get",
    "cant get",
    "cannot get",
    "no car",
    "no ride",
    "no way home",
    "no way to get",
    "locked out",
    "nowhere to stay",
    "nowhere to sleep",
    "no room",
    "left without",
    "can't work",
    "cannot work",
    "can't log in",
    "cannot log in",
    "can't open",
    "cannot open",
    "can't serve",
    "cannot serve",
    "blocked",
)
DEFAULT_SCARCITY_WORDS = (
    "fully booked",
    "booked up",
    "sold out",
    "last one",
    "only one left",
    "none left anywhere",
    "nothing available",
    "no availability",
    "nowhere else",
    "town is full",
    "everything is full",
)
DEFAULT_HARM_WORDS = (
    "spilled ... on",
    "spilt ... on",
    "spilled ... over",
    "spilt ... over",
    "burned",
    "burnt",
    "injured",
    "hurt",
    "ruined",
    "stained",
)
#: Words that tell which situations an incident is in, for picking catalog options.
SITUATION_WORDS: dict[str, tuple[str, ...]] = {
    "out_of_stock": (
        "out of stock",
        "sold out",
        "not in stock",
        "no stock",
        "none left",
        "don't have",
        "do not have",
        "doesn't have",
        "not available in",
        "out of your size",
        "out of their size",
    ),
    "late": (
        "late",
        "delay",
        "delayed",
        "hasn't arrived",
        "has not arrived",
        "didn't arrive",
        "did not arrive",
        "not arrived",
        "missed",
        "still waiting",
        "overdue",
        "no-show",
        "lost the parcel",
        "lost the order",
        "lost the package",
        "never came",
        "never arrived",
    ),
    "damaged": (
        "damaged",
        "broken",
        "spill",
        "spilled",
        "spilt",
        "stain",
        "stained",
        "torn",
        "ruined",
        "cracked",
        "dented",
        "leaking",
    ),
    "wrong_item": (
        "wrong item",
        "wrong size",
        "wrong colour",
        "wrong color",
        "wrong product",
        "wrong order",
        "not what i ordered",
        "mixed up",
        "instead of",
    ),
}


# -- weights ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Weights:
    """Every number the score uses; the defaults are tested against DESIGN.md's stories."""

    make_good_from: float = 4.0  # tier 2 from this score
    rescue_from: float = 8.0  # tier 3 from this score
    #: (hours to the deadline, points): the first step the deadline falls within counts.
    time_steps: tuple[tuple[float, float], ...] = (
        (3.0, 5.0),
        (12.0, 4.0),
        (24.0, 3.0),
        (72.0, 1.5),
        (168.0, 0.5),
    )
    stakes_words: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_STAKES))
    stakes_max: float = 6.0  # all stakes words together
    stranded_points: float = 4.0
    stranded_words: tuple[str, ...] = DEFAULT_STRANDED_WORDS
    scarcity_points: float = 2.0
    scarcity_words: tuple[str, ...] = DEFAULT_SCARCITY_WORDS
    harm_points: float = 1.5
    harm_words: tuple[str, ...] = DEFAULT_HARM_WORDS
    tenure_per_year: float = 0.2
    tenure_max: float = 3.0
    value_reference: Decimal = Decimal(1000)  # yearly value worth value_per_reference points
    value_per_reference: float = 1.0
    value_max: float = 2.0
    at_risk_below: float = 0.5  # P(alive) under this counts as at risk
    at_risk_points: float = 2.0
    cost_reference: Decimal = Decimal(500)  # a cost worth cost_max when the value is unknown
    cost_max: float = 2.0
    repeat_per_incident: float = 1.5
    repeat_max: float = 3.0
    partner_points: float = 0.5

    def tier_for(self, score: float) -> Tier:
        if score >= self.rescue_from:
            return 3
        if score >= self.make_good_from:
            return 2
        return 1


#: The weights file's tables and keys, each with the Weights field it sets.
_WEIGHT_KEYS: dict[str, dict[str, str]] = {
    "tiers": {"make_good": "make_good_from", "rescue": "rescue_from"},
    "time": {"steps": "time_steps"},
    "stakes": {"max": "stakes_max", "words": "stakes_words"},
    "stranded": {"points": "stranded_points", "words": "stranded_words"},
    "scarcity": {"points": "scarcity_points", "words": "scarcity_words"},
    "harm": {"points": "harm_points", "words": "harm_words"},
    "tenure": {"per_year": "tenure_per_year", "max": "tenure_max"},
    "value": {
        "reference": "value_reference",
        "per_reference": "value_per_reference",
        "max": "value_max",
    },
    "at_risk": {"below": "at_risk_below", "points": "at_risk_points"},
    "cost": {"reference": "cost_reference", "max": "cost_max"},
    "repeat": {"per_incident": "repeat_per_incident", "max": "repeat_max"},
    "partner": {"points": "partner_points"},
}
_WORD_LISTS = {"stranded_words", "scarcity_words", "harm_words"}


def parse_weights(data: Mapping[str, Any], *, source: str, base: Weights | None = None) -> Weights:
    """Weights from parsed TOML; keys not set keep ``base`` (default: the built-in weights).

    ``[stakes.words]`` adds words to the lexicon or changes their weight (0 turns one off); the
    other word lists are replaced by ``words`` or extended by ``add_words``. Errors name the file
    and the key.
    """
    weights = base or Weights()
    changes: dict[str, Any] = {}

    def fail(key: str, why: str) -> ConfigError:
        return ConfigError(f"{source}: {key}: {why}", file=source, key=key)

    for table, raw in data.items():
        if table not in _WEIGHT_KEYS:
            raise fail(table, f"unknown table (known: {', '.join(_WEIGHT_KEYS)})")
        if not isinstance(raw, Mapping):
            raise fail(table, "must be a table")
        known = dict(_WEIGHT_KEYS[table])
        if any(v in _WORD_LISTS for v in known.values()):
            known["add_words"] = known["words"]
        for key, value in raw.items():
            name = known.get(key)
            if name is None:
                raise fail(f"{table}.{key}", f"unknown key (known: {', '.join(known)})")
            if name == "stakes_words":
                if not isinstance(value, Mapping):
                    raise fail(f"{table}.{key}", "must be a table of word = weight")
                words = dict(weights.stakes_words)
                for word, weight in value.items():
                    try:
                        words[str(word).strip().lower()] = _number(weight)
                    except ValueError as exc:
                        raise fail(f"{table}.{key}.{word}", str(exc)) from None
                changes[name] = words
                continue
            try:
                parsed = _WEIGHT_PARSERS.get(name, _number)(value)
            except ValueError as exc:
                raise fail(f"{table}.{key}", str(exc)) from None
            if key == "add_words":
                parsed = (*changes.get(name, getattr(weights, name)), *parsed)
            changes[name] = parsed
    if changes.get("at_risk_below", 0.0) > 1:
        raise fail("at_risk.below", "must be a probability between 0 and 1")
    out = replace(weights, **changes)
    if out.rescue_from < out.make_good_from:
        raise fail("tiers.rescue", "must not be below tiers.make_good")
    return out


def _number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValueError("must be a number ≥ 0")
    return float(value)


def _amount(value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError("must be an amount > 0")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ValueError("must be an amount > 0") from None
    if not amount.is_finite() or amount <= 0:
        raise ValueError("must be an amount > 0")
    return amount


def _steps(value: object) -> tuple[tuple[float, float], ...]:
    why = "must be a list of [hours, points] pairs, hours increasing"
    if not isinstance(value, list) or not value:
        raise ValueError(why)
    steps: list[tuple[float, float]] = []
    for pair in value:
        if not isinstance(pair, list) or len(pair) != 2:
            raise ValueError(why)
        hours, points = _number(pair[0]), _number(pair[1])
        if steps and hours <= steps[-1][0]:
            raise ValueError(why)
        steps.append((hours, points))
    return tuple(steps)


def _words(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(w, str) and w.strip() for w in value):
        raise ValueError("must be a list of words or phrases")
    return tuple(w.strip().lower() for w in value)


_WEIGHT_PARSERS: dict[str, Callable[[object], Any]] = {
    "time_steps": _steps,
    "value_reference": _amount,
    "cost_reference": _amount,
    **{name: _words for name in _WORD_LISTS},
}


# -- the incident and its reading -------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class IncidentContext:
    """What went wrong and everything known about the client's situation, as of ``now``.

    ``what`` is staff's account; ``message`` the client's own words. ``deadline`` is given by staff
    or pulled from the message by the adapter (the domain parses no dates). ``ours`` is False when
    a partner acting for us made the mistake (``partner`` names it when known). ``stranded`` None
    means "infer from the words". Money is in ``currency``; ``order_value`` is what a refund
    returns (the cost of the mistake when not given).
    """

    what: str
    message: str | None = None
    now: datetime
    deadline: datetime | None = None
    cost: Decimal | None = None
    currency: str
    ours: bool = True
    partner: str | None = None
    stranded: bool | None = None
    tenure_years: float | None = None
    yearly_value: Decimal | None = None
    p_alive: float | None = None
    earlier_incidents: int = 0
    order_value: Decimal | None = None

    def __post_init__(self) -> None:
        for name, instant in (("now", self.now), ("deadline", self.deadline)):
            if instant is not None and instant.tzinfo is None:
                raise InvalidInput(f"{name} must be timezone-aware", field=name)
        if self.partner is not None and self.ours:
            raise InvalidInput("a partner's mistake has ours=False", field="ours")
        if self.p_alive is not None and not 0.0 <= self.p_alive <= 1.0:
            raise InvalidInput("p_alive is a probability between 0 and 1", field="p_alive")
        if self.earlier_incidents < 0:
            raise InvalidInput("earlier_incidents must be ≥ 0", field="earlier_incidents")
        for name, amount in (("cost", self.cost), ("order_value", self.order_value)):
            if amount is not None and amount < 0:
                raise InvalidInput(f"{name} must be ≥ 0", field=name)

    @property
    def text(self) -> str:
        """Staff's account and the client's words, read together."""
        return f"{self.what}\n{self.message or ''}"


@dataclass(frozen=True)
class Factor:
    """One named contribution to the score, in plain words."""

    key: str
    text: str
    points: float


@cache
def _pattern(phrase: str, *, forms: bool) -> re.Pattern[str]:
    """A phrase as a pattern: whole words, any case; "..." stands for up to three words."""
    words = [_GAP if w == "..." else re.escape(w) + r"\s+" for w in phrase.split()]
    words[-1] = words[-1].removesuffix(r"\s+")
    if forms:  # flights, interviewer, launched, weddings
        words[-1] += r"(?:s|es|er|ers|ing|ed|d)?"
    return re.compile(r"(?<![\w'])" + "".join(words) + r"(?![\w'])", re.IGNORECASE)


_GAP = r"(?:[\w'-]+\s+){0,3}"


def _normal(text: str) -> str:
    return text.replace("\u2019", "'")


def _found(phrases: Iterable[str], text: str) -> list[re.Match[str]]:
    """The first match of each phrase in ``text``, in reading order (case and apostrophes aside)."""
    normal = _normal(text)
    matches = (_pattern(phrase, forms=False).search(normal) for phrase in phrases)
    return sorted((m for m in matches if m), key=lambda m: m.start())


_SENTENCE = re.compile(r"[.!?;\n]")
_PART = re.compile(r"[,:]|\s(?:and|but|so|because)\s", re.IGNORECASE)


def _clause(match: re.Match[str]) -> str:
    """The words around a match, quoted as written: its clause, or its sentence when the clause
    is a fragment ("sadly, fully booked"), cut to about 80 characters."""
    text = match.string

    def around(boundary: re.Pattern[str], low: int, high: int) -> tuple[int, int]:
        starts = [m.end() for m in boundary.finditer(text, low, match.start())]
        ends = [m.start() for m in boundary.finditer(text, match.end(), high)]
        return (starts[-1] if starts else low), (ends[0] if ends else high)

    low, high = around(_SENTENCE, 0, len(text))
    part = around(_PART, low, high)
    if len(text[part[0] : part[1]].split()) >= 3:
        low, high = part
    if high - low > 80:  # one long run of words: keep those nearest the match
        low = max(low, text.rfind(" ", low, max(low, match.start() - 30)) + 1)
        cut = text.find(" ", min(high, match.end() + 30), high)
        return f"…{text[low : cut if cut > 0 else high].strip()}…"
    return text[low:high].strip()


def stakes_found(context: IncidentContext, weights: Weights) -> list[tuple[str, float]]:
    """The lexicon's words the incident mentions (any word form), highest weight first.

    Longer entries are read first and hide the words inside them, so an entry of weight 0
    ("flight attendant") keeps a shorter one ("flight") from counting there.
    """
    text = _normal(context.text)
    taken: list[tuple[int, int]] = []
    hits: dict[str, float] = {}
    for word in sorted(weights.stakes_words, key=lambda w: (-len(w), w)):
        for match in _pattern(word, forms=True).finditer(text):
            start, end = match.span()
            if any(start < e and s < end for s, e in taken):
                continue
            taken.append((start, end))
            hits[word] = weights.stakes_words[word]
    return sorted(((w, x) for w, x in hits.items() if x > 0), key=lambda hit: (-hit[1], hit[0]))


def stranded_said(context: IncidentContext, weights: Weights) -> list[str]:
    """The sentences saying the client is stranded or blocked (for when nobody said outright)."""
    return [_clause(m) for m in _found(weights.stranded_words, context.text)]


def situations(context: IncidentContext, weights: Weights) -> frozenset[str]:
    """The situations the incident is in, for fitting catalog options; always includes "any"."""
    found = {"any"}
    if context.stranded or (context.stranded is None and stranded_said(context, weights)):
        found.add("stranded")
    if not context.ours:
        found.add("partner")
    for name, words in SITUATION_WORDS.items():
        if _found(words, context.text):
            found.add(name)
    return frozenset(found)


# -- the factors ------------------------------------------------------------------------------


def _span(hours: float) -> str:
    if hours < 1:
        minutes = max(1, round(hours * 60))
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    if hours < 48:
        whole = round(hours)
        return f"{whole} hour{'s' if whole != 1 else ''}"
    days = round(hours / 24)
    return f"{days} days"


def _money(amount: Decimal, currency: str) -> str:
    return f"{amount:,.2f} {currency.upper()}"


def _an(word: str) -> str:
    return ("an " if word[0] in "aeiou" else "a ") + word


def _time_factor(context: IncidentContext, weights: Weights, event: str | None) -> Factor | None:
    if context.deadline is None:
        return None
    hours = (context.deadline - context.now).total_seconds() / 3600
    points = next((p for limit, p in weights.time_steps if max(hours, 0.0) <= limit), 0.0)
    if points <= 0:
        return None
    if hours <= 0:
        subject = f"the {event}" if event else "the client's deadline"
        return Factor("time", f"{subject} was {_span(-hours)} ago", points)
    if event:
        text = f"the {event} {_VERBS.get(event, 'is')} in {_span(hours)}"
    else:
        text = f"the client's deadline is in {_span(hours)}"
    return Factor("time", text, points)


def factors(context: IncidentContext, weights: Weights) -> list[Factor]:
    """Every contribution to the score that applies, strongest reasons of each kind first.

    The partner factor is listed even at 0 points: owning a partner's mistake is part of the
    recommendation, whatever it adds to the score.
    """
    out: list[Factor] = []
    stakes = stakes_found(context, weights)
    time = _time_factor(context, weights, stakes[0][0] if stakes else None)
    if time:
        out.append(time)
    room = weights.stakes_max
    for word, weight in stakes:
        points = min(weight, room)
        if points <= 0:
            break
        room -= points
        out.append(Factor("stakes", f"{_an(word)} is at stake", points))
    if context.stranded:
        out.append(
            Factor(
                "stranded", "the client is stranded or blocked right now", weights.stranded_points
            )
        )
    elif context.stranded is None and (said := stranded_said(context, weights)):
        text = f'the client is stranded or blocked right now: "{said[0]}"'
        out.append(Factor("stranded", text, weights.stranded_points))
    if scarce := _found(weights.scarcity_words, context.text):
        text = f'alternatives are scarce: "{_clause(scarce[0])}"'
        out.append(Factor("scarcity", text, weights.scarcity_points))
    if harm := _found(weights.harm_words, context.text):
        text = f'the mistake landed on the client in person: "{_clause(harm[0])}"'
        out.append(Factor("harm", text, weights.harm_points))
    out.extend(_relationship(context, weights))
    out.extend(_mistake(context, weights))
    return [f for f in out if f.points > 0 or f.key == "partner"]


def _relationship(context: IncidentContext, weights: Weights) -> list[Factor]:
    out: list[Factor] = []
    years = context.tenure_years
    if years is not None and years > 0:
        points = min(weights.tenure_max, weights.tenure_per_year * years)
        if years >= 1:
            whole = int(years)
            text = f"a client for {whole} year{'s' if whole != 1 else ''}"
        else:
            text = f"a client for {max(1, int(years * 12))} months"
        out.append(Factor("tenure", text, round(points, 2)))
    value = context.yearly_value
    if value is not None and value > 0:
        points = min(
            weights.value_max,
            weights.value_per_reference * float(value / weights.value_reference),
        )
        text = f"worth about {_money(value, context.currency)} a year"
        out.append(Factor("value", text, round(points, 2)))
    if context.p_alive is not None and context.p_alive < weights.at_risk_below:
        text = f"the client was already drifting away (P(alive) {context.p_alive:.2f})"
        out.append(Factor("at_risk", text, weights.at_risk_points))
    if context.earlier_incidents:
        n = context.earlier_incidents
        points = min(weights.repeat_max, weights.repeat_per_incident * n)
        text = f"{n} earlier incident{'s' if n != 1 else ''} with this client"
        out.append(Factor("repeat", text, points))
    return out


def _mistake(context: IncidentContext, weights: Weights) -> list[Factor]:
    out: list[Factor] = []
    cost, value = context.cost, context.yearly_value
    if cost is not None and cost > 0:
        said = f"the mistake cost {_money(cost, context.currency)}"
        if value is not None and value > 0:
            share = float(cost / value)
            points = weights.cost_max * min(1.0, share)
            said += f", {share:.0%} of what the client spends in a year"
        else:
            points = weights.cost_max * min(1.0, float(cost / weights.cost_reference))
        out.append(Factor("cost", said, round(points, 2)))
    if not context.ours:
        who = f" ({context.partner})" if context.partner else ""
        text = f"a partner's mistake{who} is treated as ours"
        out.append(Factor("partner", text, weights.partner_points))
    return out


# -- the assessment ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Assessment:
    tier: Tier
    score: float
    factors: tuple[Factor, ...]
    options: tuple[Offer, ...]
    situations: frozenset[str]

    @property
    def authority(self) -> Authority:
        return "owner" if self.tier == 3 else "staff"

    @property
    def tier_name(self) -> str:
        return TIER_NAMES[self.tier]

    def as_dict(self) -> dict[str, Any]:
        return {
            "tier": self.tier,
            "tier_name": self.tier_name,
            "score": self.score,
            "factors": [f.text for f in self.factors],
            "breakdown": [{"key": f.key, "text": f.text, "points": f.points} for f in self.factors],
            "authority": self.authority,
            "situations": sorted(self.situations - {"any"}),
            "options": [o.as_dict() for o in self.options],
        }


def assess(context: IncidentContext, weights: Weights, catalog: Catalog) -> Assessment:
    """The stakes score, its tier, the reasons and the options; the score is the reasons' sum."""
    reasons = factors(context, weights)
    score = round(sum(f.points for f in reasons), 2)
    tier = weights.tier_for(score)
    found = situations(context, weights)
    refund = context.order_value if context.order_value is not None else context.cost
    options = recommend(catalog, tier, found, text=context.text, order_value=refund)
    return Assessment(tier, score, tuple(reasons), options, found)


__all__ = [
    "DEFAULT_STAKES",
    "TIER_NAMES",
    "Assessment",
    "Factor",
    "IncidentContext",
    "Weights",
    "assess",
    "factors",
    "parse_weights",
    "situations",
    "stakes_found",
    "stranded_said",
]
