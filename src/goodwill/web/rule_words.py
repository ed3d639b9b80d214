"""A playbook rule put into words a business owner reads: when it fires, who does what, by when.

The playbook file speaks in keys (``on = "payment.late"``, ``when = { late_count = 1 }``,
``assignee = "client_owner"``); the playbook page speaks in sentences ("An invoice paid after its
due date, the client's first late payment"; "the client's owner"; "within 2 business days").
"""

from __future__ import annotations

import math

from goodwill.domain.playbooks import Assignee, Conditions, Due, Range, Rule
from goodwill.web.followup_words import channel_label, event_words

#: What a rule's ``n`` counts, by the touch point it fires on (for ``ordinal``).
_COUNTED = {
    "purchase.first": "order",
    "purchase.repeat": "order",
    "client.milestone": "order",
    "payment.on_time": "invoice paid on time",
}


def ordinal(n: float) -> str:
    """1st, 2nd, 3rd, 11th, 21st; a fraction is written as it is."""
    if n != int(n):
        return f"{n:g}"
    whole = int(n)
    suffix = "th" if 10 <= whole % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(whole % 10, "th")
    return f"{whole}{suffix}"


def _span(r: Range, *, word: str, as_ordinal: bool = False) -> str:
    def show(value: float) -> str:
        return ordinal(value) if as_ordinal else f"{value:g}"

    if r.low is not None and r.low == r.high:
        return f"the {show(r.low)} {word}" if as_ordinal else f"{word} {show(r.low)}"
    if r.low is not None and r.high is not None:
        if as_ordinal:
            return f"the {show(r.low)} to the {show(r.high)} {word}"
        return f"{word} from {show(r.low)} to {show(r.high)}"
    if r.low is not None:
        return (
            f"the {show(r.low)} {word} or later" if as_ordinal else f"{word} {show(r.low)} or more"
        )
    if r.high is not None:
        return f"up to the {show(r.high)} {word}" if as_ordinal else f"{word} up to {show(r.high)}"
    return f"any {word}"


def _tenure(r: Range) -> str:
    if r.low is not None and r.high is not None:
        return f"clients of {r.low:g} to {r.high:g} years"
    if r.low is not None:
        return f"clients of {r.low:g} years or more"
    if r.high is not None and r.high != int(r.high):
        return f"clients of less than {math.ceil(r.high)} years"
    if r.high is not None:
        return f"clients of up to {r.high:g} years"
    return "clients of any tenure"


def _either(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def condition_words(rule: Rule) -> list[str]:
    """Each condition of the rule as a phrase; empty when it fires every time."""
    w: Conditions = rule.when
    found: list[str] = []
    if w.ordinal is not None:
        word = _COUNTED.get(rule.on, "time")
        found.append(_span(w.ordinal, word=word, as_ordinal=True))
    if w.late_count is not None:
        said = _span(w.late_count, word="late payment", as_ordinal=True)
        found.append("the client's " + said.removeprefix("the ") if said[:4] == "the " else said)
    if w.tiers is not None:
        found.append(_either(sorted(w.tiers)) + " clients")
    if w.tenure_years is not None:
        found.append(_tenure(w.tenure_years))
    if w.tags is not None:
        found.append("clients tagged " + _either(sorted(w.tags)))
    if w.channels is not None:
        found.append("through " + _either(list(w.channels)))
    if w.amount is not None:
        found.append(_span(w.amount, word="amount"))
    return found


#: What a title's placeholders read as when no client is at hand.
_TITLE_STAND_INS = {
    "client": "the client",
    "n": "N",
    "years": "N",
    "days_late": "N",
    "days_overdue": "N",
    "expected_at": "the expected date",
    "amount": "the amount",
    "birthday": "their birthday",
    "channel": "…",
    "what": "…",
}


def first_upper(text: str) -> str:
    return text[:1].upper() + text[1:]


def title_words(rule: Rule) -> str:
    """The follow-up's title with stand-ins: "Thank the client for their first order"."""
    try:
        return first_upper(rule.title.format_map(_TITLE_STAND_INS))
    except (KeyError, ValueError, IndexError):
        return rule.title


def when_words(rule: Rule) -> str:
    """The touch point in words, then its conditions: "A repeat purchase: the 2nd order"."""
    said = first_upper(event_words(rule.on))
    conditions = condition_words(rule)
    return f"{said}: {'; '.join(conditions)}" if conditions else said


def who_words(assignee: Assignee) -> str:
    if assignee.kind == "team":
        return f"The {assignee.team} team, in turn"
    return {
        "client_owner": "The client's owner",
        "on_call": "Whoever is on call",
        "business_owner": "The business owner",
    }.get(assignee.kind, str(assignee))


def _amount(value: float, unit: str) -> str:
    return f"{value:g} {unit}{'' if value == 1 else 's'}"


def due_words(due: Due) -> str:
    """By when, in the client's frame: "Within 2 business days", "In the next contact window"."""
    if due.kind == "next_contact_window":
        return "In the client's next contact window"
    if due.kind == "birthday_week_monday":
        return "On the Monday of the birthday week"
    unit = due.kind.removeprefix("business_").removesuffix("s")
    business = "business " if due.kind.startswith("business_") else ""
    return "Within " + _amount(due.amount, business + unit)


def how_words(rule: Rule) -> str:
    """The channel and the personal level: "Email, automated"."""
    return f"{channel_label(rule.channel.value)}, {rule.personal_level.label}"


def cannot_automate(rule: Rule) -> str:
    """Why the worker cannot perform this rule's touches (the rule needs a person)."""
    if rule.ask is not None:
        return "it asks the client a question by mail already"
    if rule.channel.value == "email":
        return "it names no template to send"
    return f"a {channel_label(rule.channel.value).lower()} needs a person"
