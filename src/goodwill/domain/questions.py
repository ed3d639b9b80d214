"""Open questions a business asks its clients, each under a stable key.

The questions do not point at a product ("What would you miss if we were gone?"): what a client
values comes out in their own words. A key names a question in playbook rules (``ask = "miss"``)
and in stored requests, so rewording a question does not orphan its history (the text asked is
stored verbatim with each answer). The file format is documented in docs/listening.md.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from goodwill.errors import ConfigError

__all__ = ["Question", "parse_questions"]

_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


@dataclass(frozen=True)
class Question:
    key: str
    text: str


def _error(source: str, key: str, field: str, message: str) -> ConfigError:
    return ConfigError(
        f"{source}: question {key!r}: {field}: {message}", file=source, key=key, field=field
    )


def parse_questions(data: Mapping[str, Any], *, source: str) -> dict[str, Question]:
    """The questions of a parsed TOML mapping (``[[question]]`` with key and text), by key."""
    unknown = set(data) - {"question"}
    if unknown:
        raise ConfigError(
            f"{source}: unknown key {sorted(unknown)[0]!r} (questions go in [[question]])",
            file=source,
        )
    raw = data.get("question", [])
    if not isinstance(raw, list) or not raw or not all(isinstance(q, Mapping) for q in raw):
        raise ConfigError(
            f"{source}: question: expected one or more [[question]] tables", file=source
        )
    out: dict[str, Question] = {}
    for index, table in enumerate(raw):
        key = table.get("key")
        name = key if isinstance(key, str) else f"#{index + 1}"
        if not isinstance(key, str) or not _KEY.match(key) or len(key) > 100:
            raise _error(source, name, "key", "a short lower-case name such as 'miss-us'")
        extra = set(table) - {"key", "text"}
        if extra:
            raise _error(source, key, sorted(extra)[0], "unknown field (known: key, text)")
        text = table.get("text")
        if not isinstance(text, str) or not text.strip():
            raise _error(source, key, "text", "expected the question, as the client reads it")
        if key in out:
            raise _error(source, key, "key", "used by two questions")
        out[key] = Question(key, " ".join(text.split()))
    return out
