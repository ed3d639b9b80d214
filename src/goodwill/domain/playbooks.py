"""Playbooks: rules that turn a touch point into a follow-up for a named person.

A rule says on which event type it fires, under which conditions (ordinal, late count, tier,
tenure, tags, channel, amount), and what follow-up it creates: title, channel, personal level,
who (assignee rule), by when (due rule), the message template to suggest, and the reason that
suppresses duplicates (at most one open follow-up per client per reason). A rule with ``ask``
puts an open question to the client by mail when its follow-up would be due, instead. The file
format is documented in docs/playbooks.md; this module validates a parsed mapping and matches
events.
"""

from __future__ import annotations

import fnmatch
import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from goodwill.domain.touchpoints import TOUCH_POINTS
from goodwill.errors import ConfigError


class Channel(StrEnum):
    CALL = "call"
    EMAIL = "email"
    NOTE = "note"
    VISIT = "visit"
    #: A printed card through the postcard service the business uses (a monthly batch).
    POSTCARD = "postcard"


class PersonalLevel(StrEnum):
    """How personal the touch is, lowest first."""

    AUTOMATED = "automated"
    PERSONAL_MESSAGE = "personal_message"
    HANDWRITTEN_NOTE = "handwritten_note"
    OWNER_CALL = "owner_call"

    @property
    def rank(self) -> int:
        return list(PersonalLevel).index(self)

    @property
    def label(self) -> str:
        return {
            "automated": "automated",
            "personal_message": "personal message",
            "handwritten_note": "handwritten note by the owner",
            "owner_call": "phone call by the owner",
        }[self.value]


@dataclass(frozen=True)
class Assignee:
    """client_owner | on_call | business_owner | team:NAME (round-robin within the team)."""

    kind: str
    team: str | None = None

    def __str__(self) -> str:
        return f"team:{self.team}" if self.kind == "team" else self.kind


@dataclass(frozen=True)
class Due:
    """When the follow-up is due, in the client's frame.

    kinds: ``business_days``/``business_hours`` (the business calendar), ``days``/``hours``
    (wall-clock), ``next_contact_window`` (the client's window, within business hours),
    ``birthday_week_monday`` (the Monday of the birthday's week, at opening time).
    """

    kind: str
    amount: float = 0

    def __str__(self) -> str:
        if self.kind in ("next_contact_window", "birthday_week_monday"):
            return self.kind.replace("_", " ")
        unit = self.kind.replace("_", " ")
        return f"{self.amount:g} {unit}"


@dataclass(frozen=True)
class Range:
    low: float | None = None
    high: float | None = None

    def __contains__(self, value: object) -> bool:
        if not isinstance(value, int | float):
            return False
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)


@dataclass(frozen=True)
class Conditions:
    ordinal: Range | None = None
    late_count: Range | None = None
    tiers: frozenset[str] | None = None
    tenure_years: Range | None = None
    tags: frozenset[str] | None = None
    channels: tuple[str, ...] | None = None
    amount: Range | None = None


@dataclass(frozen=True)
class Rule:
    name: str
    on: str
    title: str
    channel: Channel
    personal_level: PersonalLevel
    assignee: Assignee
    due: Due
    reason: str
    template: str | None = None
    when: Conditions = field(default_factory=Conditions)
    closes_on: frozenset[str] = frozenset()
    quiet_days: int = 0
    fresh_days: int = 14
    enabled: bool = True
    #: A question's key: the rule asks it by mail (a personal link) instead of creating a
    #: follow-up, and creates the follow-up only for a client with no email address.
    ask: str | None = None
    #: Marketing mail (needs the client's consent, carries an unsubscribe link); by default
    #: the touch points in ``MARKETING_TOUCH_POINTS`` are, the others are service mail.
    marketing: bool = False
    #: What a person did since the rule fired that makes its automated touch moot, from
    #: ``MOOT_KINDS``: the touch is not sent (a call already thanked the client).
    moot_after: frozenset[str] = frozenset()
    #: Cancel the rule's automated touch when the client writes before it is sent, and hand it
    #: to a person (a sequence stops when the client answers).
    until_reply: bool = False

    @property
    def can_automate(self) -> bool:
        """Whether the worker can perform this rule's touches: an email with a template, or a
        postcard (the monthly batch)."""
        if self.ask is not None:
            return False
        if self.channel is Channel.EMAIL:
            return self.template is not None
        return self.channel is Channel.POSTCARD


@dataclass(frozen=True)
class ClientContext:
    """What a rule's conditions may look at about the client, as of the event."""

    name: str
    tier: str | None
    tenure_years: float
    tags: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Playbook:
    rules: tuple[Rule, ...]

    def rules_for(self, event_type: str) -> list[Rule]:
        return [r for r in self.rules if r.enabled and r.on == event_type]

    def closing_rules(self, event_type: str) -> list[Rule]:
        return [r for r in self.rules if event_type in r.closes_on]

    def rule(self, name: str) -> Rule | None:
        return next((r for r in self.rules if r.name == name), None)


#: Touch points whose automated mail is marketing (consent needed, unsubscribe offered):
#: birthdays, anniversaries, milestones and win-back after a missed purchase.
MARKETING_TOUCH_POINTS = frozenset(
    {"client.birthday_month", "client.anniversary", "client.milestone", "purchase.missed"}
)
#: What a person may have done since a rule fired: a reply by mail, or a logged interaction.
MOOT_KINDS = ("reply", "call", "visit", "meeting", "service")

TITLE_FIELDS = {
    "client",
    "n",
    "years",
    "amount",
    "channel",
    "days_late",
    "days_overdue",
    "expected_at",
    "what",
    "birthday",
}


def matches(rule: Rule, payload: Mapping[str, Any], client: ClientContext) -> bool:
    """Whether the rule's conditions hold for this event and client."""
    w = rule.when
    n = payload.get("n")
    if w.ordinal is not None and n not in w.ordinal:
        return False
    if w.late_count is not None and n not in w.late_count:
        return False
    if w.tiers is not None and client.tier not in w.tiers:
        return False
    if w.tenure_years is not None and client.tenure_years not in w.tenure_years:
        return False
    if w.tags is not None and not (w.tags & client.tags):
        return False
    if w.channels is not None:
        channel = str(payload.get("channel") or "")
        if not any(fnmatch.fnmatchcase(channel.lower(), p.lower()) for p in w.channels):
            return False
    if w.amount is not None:
        try:
            amount = float(str(payload.get("amount")))
        except ValueError:
            return False
        if amount not in w.amount:
            return False
    return True


def render_title(rule: Rule, payload: Mapping[str, Any], client: ClientContext) -> str:
    values = {key: "" for key in TITLE_FIELDS}
    values.update({k: str(v) for k, v in payload.items() if k in TITLE_FIELDS and v is not None})
    values["client"] = client.name
    return rule.title.format_map(values)


# -- parsing and validation -------------------------------------------------------------------

_RULE_KEYS = {
    "name",
    "on",
    "when",
    "title",
    "channel",
    "personal_level",
    "assignee",
    "due",
    "template",
    "reason",
    "closes_on",
    "quiet_days",
    "fresh_days",
    "enabled",
    "ask",
    "marketing",
    "moot_after",
    "until_reply",
}
_WHEN_KEYS = {"ordinal", "late_count", "tier", "tenure_years", "tags", "channel", "amount"}
_DUE = re.compile(r"^(?:within\s+)?(\d+(?:\.\d+)?)\s+(business\s+)?(day|hour|minute)s?$")


class _Where:
    def __init__(self, source: str, rule: str) -> None:
        self.source, self.rule = source, rule

    def error(self, key: str, message: str) -> ConfigError:
        return ConfigError(
            f"{self.source}: rule {self.rule!r}: {key}: {message}",
            file=self.source,
            rule=self.rule,
            field=key,
        )


def parse_due(text: str) -> Due:
    """'2 business days', 'within 1 hour' (business hours), '3 days', 'next contact window'."""
    cleaned = " ".join(text.lower().replace("_", " ").split())
    if cleaned in ("next contact window", "birthday week monday"):
        return Due(cleaned.replace(" ", "_"))
    match = _DUE.match(cleaned)
    if not match:
        raise ValueError(
            f"{text!r} is not a due rule (e.g. '2 business days', 'within 1 hour', "
            "'next contact window', 'birthday week monday')"
        )
    amount, business, unit = float(match[1]), bool(match[2]), match[3]
    within = cleaned.startswith("within")
    if unit == "minute":
        amount, unit = amount / 60, "hour"
    if within and unit == "hour":
        business = True  # "within 1 hour" counts the business's own hours
    return Due(("business_" if business else "") + unit + "s", amount)


def parse_assignee(text: str) -> Assignee:
    if text in ("client_owner", "on_call", "business_owner"):
        return Assignee(text)
    if text.startswith("team:") and text[5:].strip():
        return Assignee("team", text[5:].strip())
    raise ValueError(f"{text!r}: expected client_owner, on_call, business_owner or team:NAME")


def _range(value: object) -> Range:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Range(value, value)
    if isinstance(value, Mapping) and set(value) <= {"min", "max"} and value:
        low, high = value.get("min"), value.get("max")
        for bound in (low, high):
            if bound is not None and not isinstance(bound, int | float):
                raise ValueError("min and max must be numbers")
        return Range(low, high)
    raise ValueError("expected a number or {min = N, max = N}")


def _strings(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, Sequence) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ValueError("expected a string or a list of strings")


def _conditions(raw: object, where: _Where) -> Conditions:
    if raw is None:
        return Conditions()
    if not isinstance(raw, Mapping):
        raise where.error("when", "expected a table")
    unknown = set(raw) - _WHEN_KEYS
    if unknown:
        raise where.error(
            f"when.{sorted(unknown)[0]}",
            f"unknown condition (known: {', '.join(sorted(_WHEN_KEYS))})",
        )
    values: dict[str, Any] = {}
    for key in ("ordinal", "late_count", "tenure_years", "amount"):
        if key in raw:
            try:
                values[key] = _range(raw[key])
            except ValueError as exc:
                raise where.error(f"when.{key}", str(exc)) from exc
    for key, target in (("tier", "tiers"), ("tags", "tags")):
        if key in raw:
            try:
                values[target] = frozenset(_strings(raw[key]))
            except ValueError as exc:
                raise where.error(f"when.{key}", str(exc)) from exc
    if "channel" in raw:
        try:
            values["channels"] = _strings(raw["channel"])
        except ValueError as exc:
            raise where.error("when.channel", str(exc)) from exc
    return Conditions(**values)


def parse_rule(raw: Mapping[str, Any], *, source: str, index: int) -> Rule:
    name = raw.get("name")
    where = _Where(source, name if isinstance(name, str) else f"#{index + 1}")
    if not isinstance(name, str) or not name.strip():
        raise where.error("name", "every rule needs a name")
    unknown = set(raw) - _RULE_KEYS
    if unknown:
        raise where.error(
            sorted(unknown)[0], f"unknown key (known: {', '.join(sorted(_RULE_KEYS))})"
        )
    for key in ("on", "title", "channel", "personal_level", "assignee", "due"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise where.error(key, "required (a string)")
    if raw["on"] not in TOUCH_POINTS:
        raise where.error(
            "on", f"{raw['on']!r} is not a touch point (known: {', '.join(sorted(TOUCH_POINTS))})"
        )
    try:
        fields = {f for _, f, _, _ in string.Formatter().parse(raw["title"]) if f}
    except ValueError as exc:
        raise where.error("title", str(exc)) from exc
    if fields - TITLE_FIELDS:
        raise where.error(
            "title",
            f"unknown placeholder {{{sorted(fields - TITLE_FIELDS)[0]}}} "
            f"(known: {', '.join(sorted(TITLE_FIELDS))})",
        )
    try:
        channel = Channel(raw["channel"])
    except ValueError:
        raise where.error(
            "channel", f"{raw['channel']!r}: expected one of {', '.join(c.value for c in Channel)}"
        ) from None
    try:
        level = PersonalLevel(raw["personal_level"])
    except ValueError:
        raise where.error(
            "personal_level",
            f"{raw['personal_level']!r}: expected one of "
            f"{', '.join(p.value for p in PersonalLevel)}",
        ) from None
    try:
        assignee = parse_assignee(raw["assignee"])
    except ValueError as exc:
        raise where.error("assignee", str(exc)) from exc
    try:
        due = parse_due(raw["due"])
    except ValueError as exc:
        raise where.error("due", str(exc)) from exc
    closes = raw.get("closes_on", [])
    try:
        closes_on = frozenset(_strings(closes)) if closes else frozenset()
    except ValueError as exc:
        raise where.error("closes_on", str(exc)) from exc
    bad = sorted(c for c in closes_on if c not in TOUCH_POINTS and c != "order.placed")
    if bad:
        raise where.error("closes_on", f"{bad[0]!r} is not an event type")
    ints: dict[str, int] = {}
    for key, default in (("quiet_days", 0), ("fresh_days", 14)):
        value = raw.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise where.error(key, "expected a whole number of days, 0 or more")
        ints[key] = value
    template = raw.get("template")
    if template is not None and not isinstance(template, str):
        raise where.error("template", "expected a template name")
    reason = raw.get("reason", name)
    if not isinstance(reason, str) or not reason.strip():
        raise where.error("reason", "expected a non-empty string")
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        raise where.error("enabled", "expected true or false")
    ask = raw.get("ask")
    if ask is not None and (not isinstance(ask, str) or not ask.strip()):
        raise where.error("ask", "expected a question's key (docs/listening.md)")
    flags: dict[str, bool] = {}
    for key, default in (
        ("marketing", raw["on"] in MARKETING_TOUCH_POINTS),
        ("until_reply", False),
    ):
        value = raw.get(key, default)
        if not isinstance(value, bool):
            raise where.error(key, "expected true or false")
        flags[key] = value
    try:
        moot = frozenset(_strings(raw.get("moot_after", [])) if raw.get("moot_after") else ())
    except ValueError as exc:
        raise where.error("moot_after", str(exc)) from exc
    if moot - set(MOOT_KINDS):
        raise where.error(
            "moot_after",
            f"{sorted(moot - set(MOOT_KINDS))[0]!r} is not something a person does "
            f"(known: {', '.join(MOOT_KINDS)})",
        )
    return Rule(
        name=name,
        on=raw["on"],
        title=raw["title"],
        channel=channel,
        personal_level=level,
        assignee=assignee,
        due=due,
        reason=reason,
        template=template,
        when=_conditions(raw.get("when"), where),
        closes_on=closes_on,
        quiet_days=ints["quiet_days"],
        fresh_days=ints["fresh_days"],
        enabled=enabled,
        ask=ask,
        marketing=flags["marketing"],
        moot_after=moot,
        until_reply=flags["until_reply"],
    )


def parse_playbook(data: Mapping[str, Any], *, source: str) -> Playbook:
    """A validated playbook from a parsed TOML mapping; errors name the file, rule and field."""
    unknown = set(data) - {"rule"}
    if unknown:
        raise ConfigError(
            f"{source}: unknown key {sorted(unknown)[0]!r} (rules go in [[rule]])", file=source
        )
    raw_rules = data.get("rule", [])
    if not isinstance(raw_rules, list) or not all(isinstance(r, Mapping) for r in raw_rules):
        raise ConfigError(f"{source}: rule: expected [[rule]] tables", file=source)
    rules = tuple(parse_rule(r, source=source, index=i) for i, r in enumerate(raw_rules))
    seen: set[str] = set()
    for rule in rules:
        if rule.name in seen:
            raise ConfigError(
                f"{source}: rule {rule.name!r}: name: used by two rules",
                file=source,
                rule=rule.name,
                field="name",
            )
        seen.add(rule.name)
    return Playbook(rules)
