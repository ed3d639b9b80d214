"""What clients bring up without being asked about it, and how far the configured themes can be
trusted: topics found in answers and mail, a topic promoted to a theme, and each theme's
precision and recall on answers held out from its phrases.

Finding topics reads up to 5,000 answers and 5,000 mails and fits a small model (about a second
for the most); the result is kept in memory until something new is said (a new answer or mail
changes :func:`goodwill.store.topic_texts.fingerprint`) or the settings change.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from goodwill.actions.feedback import group_days, in_force, load_themes, tier_clients
from goodwill.domain.themes import Scores, Theme, evaluate
from goodwill.domain.topics import MAX_TEXTS, Said, Topic, discover_topics
from goodwill.errors import InvalidInput
from goodwill.settings import Settings
from goodwill.store.topic_texts import fingerprint, said_by_clients

log = logging.getLogger(__name__)

__all__ = [
    "HELD_OUT",
    "find_topics",
    "held_out_path",
    "held_out_size",
    "read_labelled",
    "theme_from_topic",
    "theme_reliability",
]

#: The answers held out from the shipped themes' phrases (written before any phrase was changed
#: for them, never used to choose one); docs/listening.md says how they were kept apart.
HELD_OUT = "themes_held_out.jsonl"

#: A small cache of computed topics: (database, fingerprint, what was asked) -> topics.
_CACHE: dict[tuple[Any, ...], list[Topic]] = {}
_CACHE_SIZE = 8


def find_topics(
    session: Session,
    settings: Settings,
    *,
    until: datetime | None = None,
    tier: str | None = None,
    max_topics: int = 8,
) -> list[Topic]:
    """The recurring topics of what clients said up to ``until``, of the clients in ``tier`` only
    when given; computed once per state of the texts."""
    new_days, long_days = group_days(settings)
    key = (
        settings.database_url,
        fingerprint(session),
        until,
        tier,
        max_topics,
        new_days,
        long_days,
        str(settings.zone),
    )
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    said: list[Said] = said_by_clients(
        session,
        zone=settings.zone,
        until=until,
        clients=tier_clients(session, settings, tier),
        limit=MAX_TEXTS,
    )
    found = discover_topics(
        said,
        new_days=new_days,
        long_term_days=long_days,
        zone_of=lambda at: at.astimezone(settings.zone),
        max_topics=max_topics,
    )
    log.info("topics found: %d from %d texts", len(found), len(said))
    if len(_CACHE) >= _CACHE_SIZE:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[key] = found
    return found


# -- how reliable each theme is -------------------------------------------------------------------


def read_labelled(text: str, *, source: str) -> list[tuple[str, frozenset[str]]]:
    """(answer, themes) pairs from JSON lines with ``answer`` and ``themes`` (a list of keys)."""
    pairs: list[tuple[str, frozenset[str]]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            pairs.append((str(row["answer"]), frozenset(row["themes"])))
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidInput(
                f"{source}:{number}: expected an object with answer and themes",
                file=source,
                line=number,
            ) from exc
    return pairs


@functools.lru_cache(maxsize=1)
def _held_out() -> tuple[tuple[str, frozenset[str]], ...]:
    text = resources.files("goodwill").joinpath(f"defaults/{HELD_OUT}").read_text("utf-8")
    return tuple(read_labelled(text, source=HELD_OUT))


def held_out_size() -> int:
    """How many held-out answers the reliability figures come from."""
    return len(_held_out())


def held_out_path() -> Path:
    """Where the held-out answers ship (for a person who wants to read them)."""
    return Path(str(resources.files("goodwill").joinpath(f"defaults/{HELD_OUT}")))


@functools.lru_cache(maxsize=8)
def _scores(themes: tuple[Theme, ...]) -> dict[str, Scores]:
    labelled = _held_out()
    keys = {key for _, labels in labelled for key in labels}
    return {s.theme: s for s in evaluate(labelled, themes) if s.theme in keys}


def theme_reliability(settings: Settings) -> dict[str, Scores]:
    """Each theme in force that the held-out answers label, with its precision and recall on
    them; a theme they do not label (one of your own) is not in it."""
    return _scores(load_themes(settings))


# -- a topic becomes a theme ----------------------------------------------------------------------

_KEY = re.compile(r"[^a-z0-9]+")


def theme_from_topic(
    settings: Settings, phrases: Sequence[str], *, label: str | None = None
) -> dict[str, Any]:
    """The theme table a topic becomes: a key not yet used, a label from its first phrase, and
    its phrases (each word or pair as found; the themes' matching rules apply)."""
    words = [" ".join(p.split()) for p in phrases if p.strip()]
    if not words:
        raise InvalidInput("a topic needs at least one phrase to become a theme", field="phrases")
    document: Mapping[str, Any] = in_force(settings, "themes").document
    taken = {str(t.get("key")) for t in document.get("theme", []) if isinstance(t, Mapping)}
    base = _KEY.sub("-", words[0].lower()).strip("-")[:40] or "topic"
    key, n = base, 1
    while key in taken:
        n += 1
        key = f"{base}-{n}"
    return {
        "key": key,
        "label": (label or words[0]).strip()[:80].capitalize(),
        "description": "Found in what clients said: " + ", ".join(words) + ".",
        "phrases": list(dict.fromkeys(words)),
    }
