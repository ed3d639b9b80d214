"""A playbook edited on the page: the whole document in the playbook file's shape, changed one
rule at a time, and a rule's form fields turned into the keys the file would hold.

The form never validates anything itself: it builds the candidate document and lets
``parse_playbook`` judge it, so the page says exactly what ``goodwill playbook check`` says. A value
the form cannot read as a number is passed on as typed, for the parser to name what is wrong.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from typing import Any

#: What the parser's errors name as the source of a playbook kept on the settings page.
PAGE_SOURCE = "settings page"
#: Conditions that take a number or a range, and those that take names.
RANGES = ("ordinal", "late_count", "tenure_years", "amount")
NAMES = ("tier", "tags", "channel")
ASSIGNEE_KINDS = ("client_owner", "on_call", "business_owner", "team")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")

Form = Mapping[str, Sequence[str]]


def rules_of(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    raw = document.get("rule", [])
    return [dict(r) for r in raw] if isinstance(raw, list) else []


def find_rule(document: Mapping[str, Any], name: str) -> dict[str, Any] | None:
    return next((r for r in rules_of(document) if r.get("name") == name), None)


def with_rule(
    document: Mapping[str, Any], rule: Mapping[str, Any], *, replacing: str | None
) -> dict[str, Any]:
    """A copy of the document with ``replacing`` replaced by ``rule`` in its place, or with
    ``rule`` added at the end when ``replacing`` is None or not there."""
    out = copy.deepcopy(dict(document))
    rules = rules_of(out)
    at = next((i for i, r in enumerate(rules) if r.get("name") == replacing), None)
    if replacing is not None and at is not None:
        rules[at] = dict(rule)
    else:
        rules.append(dict(rule))
    out["rule"] = rules
    return out


def without_rule(document: Mapping[str, Any], name: str) -> dict[str, Any]:
    out = copy.deepcopy(dict(document))
    out["rule"] = [r for r in rules_of(out) if r.get("name") != name]
    return out


def with_enabled(document: Mapping[str, Any], name: str, *, on: bool) -> dict[str, Any]:
    """The document with rule ``name`` switched on (the key dropped: on is the default) or off."""
    found = find_rule(document, name)
    if found is None:
        return copy.deepcopy(dict(document))
    found.pop("enabled", None)
    if not on:
        found["enabled"] = False
    return with_rule(document, found, replacing=name)


# -- the form ---------------------------------------------------------------------------------


def _one(form: Form, key: str) -> str:
    values = form.get(key) or [""]
    return str(values[-1]).strip()


def _number(text: str) -> Any:
    """An int or a float when the text is one, else the text (the parser names the problem)."""
    if not _NUMBER.match(text):
        return text
    return float(text) if "." in text else int(text)


def _names(form: Form, key: str) -> list[str]:
    """Checked boxes and comma-separated text alike, in order, without repeats."""
    found: list[str] = []
    for value in form.get(key) or []:
        for part in str(value).split(","):
            if part.strip() and part.strip() not in found:
                found.append(part.strip())
    return found


def _range(form: Form, key: str) -> Any:
    low, high = _one(form, f"when.{key}.min"), _one(form, f"when.{key}.max")
    if not low and not high:
        return None
    if low == high:
        return _number(low)
    bounds = {"min": _number(low) if low else None, "max": _number(high) if high else None}
    return {k: v for k, v in bounds.items() if v is not None}


def _flag(text: str) -> Any:
    return {"true": True, "false": False}.get(text, text)


def rule_from_form(form: Form, *, name: str) -> dict[str, Any]:
    """The rule's keys as the playbook file would hold them; keys left at their default are
    left out, so a rule edited on the page reads like one written by hand."""
    rule: dict[str, Any] = {"name": name}
    for key in ("on", "title", "channel", "personal_level", "due"):
        rule[key] = _one(form, key)
    assignee = _one(form, "assignee")
    rule["assignee"] = f"team:{_one(form, 'team')}" if assignee == "team" else assignee
    for key in ("template", "reason", "ask"):
        if _one(form, key):
            rule[key] = _one(form, key)
    when: dict[str, Any] = {}
    for key in RANGES:
        span = _range(form, key)
        if span is not None:
            when[key] = span
    for key in NAMES:
        if _names(form, f"when.{key}"):
            when[key] = _names(form, f"when.{key}")
    if when:
        rule["when"] = when
    for key in ("closes_on", "moot_after"):
        if _names(form, key):
            rule[key] = _names(form, key)
    for key, default in (("quiet_days", "0"), ("fresh_days", "14")):
        text = _one(form, key)
        if text and text != default:
            rule[key] = _number(text)
    if _one(form, "marketing"):
        rule["marketing"] = _flag(_one(form, "marketing"))
    if _one(form, "until_reply"):
        rule["until_reply"] = True
    if not _one(form, "enabled"):
        rule["enabled"] = False
    return rule


def _flag_text(value: Any) -> str:
    if value is True:
        return "true"
    return "false" if value is False else ""


def _bounds(value: Any) -> tuple[str, str]:
    if isinstance(value, Mapping):
        low, high = value.get("min"), value.get("max")
        return ("" if low is None else f"{low:g}", "" if high is None else f"{high:g}")
    if isinstance(value, int | float):
        return f"{value:g}", f"{value:g}"
    return "", ""


def _listed(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value] if isinstance(value, list) else []


def form_from_rule(rule: Mapping[str, Any]) -> dict[str, Any]:
    """The values the form shows for a rule of the document: text, choices and lists."""
    assignee = str(rule.get("assignee", "client_owner"))
    team = assignee.removeprefix("team:") if assignee.startswith("team:") else ""
    values: dict[str, Any] = {
        "name": str(rule.get("name", "")),
        "assignee": "team" if team else assignee,
        "team": team,
        "enabled": rule.get("enabled", True) is not False,
        "until_reply": rule.get("until_reply") is True,
        "marketing": _flag_text(rule.get("marketing")),
        "quiet_days": str(rule.get("quiet_days", 0)),
        "fresh_days": str(rule.get("fresh_days", 14)),
        "closes_on": _listed(rule.get("closes_on", [])),
        "moot_after": _listed(rule.get("moot_after", [])),
    }
    for key in ("on", "title", "channel", "personal_level", "due", "template", "reason", "ask"):
        values[key] = str(rule.get(key) or "")
    when = rule.get("when") if isinstance(rule.get("when"), Mapping) else {}
    assert isinstance(when, Mapping)
    for key in RANGES:
        values[f"when.{key}.min"], values[f"when.{key}.max"] = _bounds(when.get(key))
    for key in NAMES:
        values[f"when.{key}"] = _listed(when.get(key, []))
    return values


def form_values(form: Form) -> dict[str, Any]:
    """What the owner typed, shown again beside the errors (nothing they typed is lost)."""
    values = form_from_rule(rule_from_form(form, name=_one(form, "name")))
    for key in ("quiet_days", "fresh_days", "team"):
        values[key] = _one(form, key) or values[key]
    for key in RANGES:
        for end in ("min", "max"):
            values[f"when.{key}.{end}"] = _one(form, f"when.{key}.{end}")
    return values


def new_rule_values(on: str = "purchase.first") -> dict[str, Any]:
    """A new rule's form: a personal thank-you by the client's owner, to change."""
    return form_from_rule(
        {
            "name": "",
            "on": on,
            "title": "",
            "channel": "email",
            "personal_level": "personal_message",
            "assignee": "client_owner",
            "due": "2 business days",
        }
    )
