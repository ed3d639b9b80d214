"""Themes: what an answer to an open question is about, tagged so anyone can see why.

A :class:`Theme` has a key, a label and the phrases that signal it. Tagging an answer returns the
themes found and, for each, the phrases that matched with their spans in the text, so the tags can
be stored next to the words that earned them and shown to a person who doubts them.

Matching works on words, never inside them ("late" does not match "chocolate" or "lately"):
the text and each phrase are split into words, lower-cased with accents folded, and compared
after a light stemming that makes plurals and common inflections meet ("deliveries" matches
"delivery", "delivered" and "delivering" match "deliver"; "priced", "prices" and "pricing" match
"price"). A phrase
word ending in ``*`` matches any word it begins ("reliab*" finds "reliable", "reliability").
A phrase of several words matches those words in a row. A theme's ``except`` phrases say where
its phrases do not count: "late" signals timeliness, but not inside "stayed late".

A theme is a topic, not a verdict: "never late" and "the parcel was late" are both about
timeliness. A match preceded in its clause, within :data:`NEGATION_WINDOW` words, by a negation
("not", "never", "no", "without", "didn't" …) is marked ``negated`` with the word that negated
it, so a reader (or a later count) can tell "on time" from "not on time".

The format of the themes file is documented in docs/listening.md.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from goodwill.errors import ConfigError

__all__ = [
    "NEGATION_WINDOW",
    "Match",
    "Scores",
    "Tag",
    "Theme",
    "evaluate",
    "parse_themes",
    "stem",
    "tag_answer",
]

#: How many words before a match a negation still reaches (within the same clause).
NEGATION_WINDOW = 3
NEGATIONS = frozenset(
    {
        "not",
        "never",
        "no",
        "nor",
        "without",
        "hardly",
        "barely",
        "nothing",
        "none",
        "cannot",
        "lack",
        "lacks",
        "lacking",
    }
)
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
#: Clause boundaries: punctuation, and "but", which turns a sentence around.
_CLAUSE = re.compile(r"[.,;:!?()\n]|\bbut\b")
_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


@dataclass(frozen=True)
class Theme:
    key: str
    label: str
    phrases: tuple[str, ...]
    description: str = ""
    exceptions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Match:
    """One phrase found: the phrase as configured, the words as written, and where."""

    phrase: str
    text: str
    start: int
    end: int
    negated: bool = False
    negation: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "phrase": self.phrase,
            "text": self.text,
            "start": self.start,
            "end": self.end,
            "negated": self.negated,
            "negation": self.negation,
        }


@dataclass(frozen=True)
class Tag:
    """A theme found in an answer, with every match that earned it (in text order)."""

    theme: str
    matches: tuple[Match, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"theme": self.theme, "matches": [m.as_dict() for m in self.matches]}


@dataclass(frozen=True)
class _Word:
    raw: str
    stem: str
    start: int
    end: int
    clause: int


def fold(text: str) -> str:
    """Lower case without accents, same length as far as ASCII goes ("Café" → "cafe")."""
    decomposed = unicodedata.normalize("NFKD", text.lower().replace("’", "'"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def stem(word: str) -> str:
    """A light stem, the same for a phrase's words and an answer's, so inflections meet.

    Not a linguist's stemmer: plural ``s``/``ies``, ``ing``/``ed`` (with a doubled consonant
    undone: "shipped" → "ship") and a final ``e`` on longer words ("price" → "pric"). Short words
    are left alone so "care" never meets "car".
    """
    w = word[:-2] if word.endswith("'s") else word
    if len(w) > 4 and w.endswith("ies"):
        w = w[:-3] + "y"
    elif len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    for suffix in ("ing", "ed"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 4:
            w = w[: -len(suffix)]
            if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "lsz":
                w = w[:-1]
            break
    if len(w) > 4 and w.endswith("e"):
        w = w[:-1]
    return w


def _words(text: str) -> list[_Word]:
    folded = fold(text)
    boundaries = [m.start() for m in _CLAUSE.finditer(folded)]
    words: list[_Word] = []
    clause, b = 0, 0
    for m in _WORD.finditer(folded):
        while b < len(boundaries) and boundaries[b] < m.start():
            clause, b = clause + 1, b + 1
        raw = m.group()
        words.append(_Word(raw, stem(raw), m.start(), m.end(), clause))
    return words


@dataclass(frozen=True)
class _Pattern:
    phrase: str
    parts: tuple[tuple[str, bool], ...]  # (stem or prefix, is_prefix)


def _pattern(phrase: str) -> _Pattern:
    folded = fold(phrase)
    parts: list[tuple[str, bool]] = []
    for word in _WORD.finditer(folded):
        token = word.group()
        prefix = folded[word.end() : word.end() + 1] == "*"
        parts.append((token, True) if prefix else (stem(token), False))
    return _Pattern(phrase, tuple(parts))


def _negation(words: Sequence[_Word], index: int) -> str | None:
    """The negating word before ``words[index]`` in its clause, within the window, if any."""
    for back in range(index - 1, max(-1, index - 1 - NEGATION_WINDOW), -1):
        word = words[back]
        if word.clause != words[index].clause:
            return None
        if word.raw in NEGATIONS or word.raw.endswith("n't"):
            return word.raw
    return None


def tag_answer(text: str, themes: Sequence[Theme]) -> list[Tag]:
    """The themes of ``text`` in the order the themes are configured, each with its matches."""
    words = _words(text)
    # Spans index the folded text; it has the original's length unless a character such as a
    # ligature unfolds into several, and then the matched words are shown as folded.
    same_length = len(fold(text)) == len(text)
    out: list[Tag] = []
    for theme in themes:
        excluded = [
            (words[i].start, words[i + len(p.parts) - 1].end)
            for p in _patterns(theme.exceptions)
            for i in _positions(words, p)
        ]
        found: dict[tuple[int, int], Match] = {}
        for pattern in _patterns(theme.phrases):
            size = len(pattern.parts)
            for i in _positions(words, pattern):
                start, end = words[i].start, words[i + size - 1].end
                if any(s < end and start < e for s, e in excluded):
                    continue
                if any(s <= start and end <= e for s, e in found):
                    continue  # inside a longer phrase already found
                for span in [s for s in found if start <= s[0] and s[1] <= end]:
                    del found[span]
                negation = _negation(words, i)
                shown = text[start:end] if same_length else fold(text)[start:end]
                found[(start, end)] = Match(
                    pattern.phrase, shown, start, end, negation is not None, negation
                )
        if found:
            out.append(Tag(theme.key, tuple(found[s] for s in sorted(found))))
    return out


def _positions(words: Sequence[_Word], pattern: _Pattern) -> list[int]:
    """Where the pattern's words occur in a row: the index of each occurrence's first word."""
    size = len(pattern.parts)
    return [
        i
        for i in range(len(words) - size + 1)
        if size
        and all(
            words[i + k].raw.startswith(part) if is_prefix else words[i + k].stem == part
            for k, (part, is_prefix) in enumerate(pattern.parts)
        )
    ]


_PATTERNS: dict[tuple[str, ...], tuple[_Pattern, ...]] = {}


def _patterns(phrases: tuple[str, ...]) -> tuple[_Pattern, ...]:
    """Phrases compiled once (longest first, so a longer phrase claims its span)."""
    cached = _PATTERNS.get(phrases)
    if cached is None:
        compiled = sorted((_pattern(p) for p in phrases), key=lambda p: -len(p.parts))
        cached = _PATTERNS[phrases] = tuple(compiled)
    return cached


# -- the themes file -----------------------------------------------------------------------------


def _error(source: str, key: str, field: str, message: str) -> ConfigError:
    return ConfigError(
        f"{source}: theme {key!r}: {field}: {message}", file=source, key=key, field=field
    )


def parse_themes(data: Mapping[str, Any], *, source: str) -> tuple[Theme, ...]:
    """Themes from a parsed TOML mapping (``[[theme]]`` tables with key, label, phrases)."""
    unknown = set(data) - {"theme"}
    if unknown:
        raise ConfigError(
            f"{source}: unknown key {sorted(unknown)[0]!r} (themes go in [[theme]])", file=source
        )
    raw = data.get("theme", [])
    if not isinstance(raw, list) or not raw or not all(isinstance(t, Mapping) for t in raw):
        raise ConfigError(f"{source}: theme: expected one or more [[theme]] tables", file=source)
    themes: list[Theme] = []
    for index, table in enumerate(raw):
        key = table.get("key")
        name = key if isinstance(key, str) else f"#{index + 1}"
        if not isinstance(key, str) or not _KEY.match(key):
            raise _error(source, name, "key", "a short lower-case name such as 'timeliness'")
        extra = set(table) - {"key", "label", "phrases", "except", "description"}
        if extra:
            raise _error(
                source,
                key,
                sorted(extra)[0],
                "unknown field (known: key, label, phrases, except, description)",
            )
        label = table.get("label", key.replace("-", " ").replace("_", " ").capitalize())
        if not isinstance(label, str) or not label.strip():
            raise _error(source, key, "label", "expected a non-empty string")
        phrases = table.get("phrases")
        if not _phrase_list(phrases) or not phrases:
            raise _error(source, key, "phrases", "expected a list of words or phrases")
        exceptions = table.get("except", [])
        if not _phrase_list(exceptions):
            raise _error(source, key, "except", "expected a list of words or phrases")
        description = table.get("description", "")
        if not isinstance(description, str):
            raise _error(source, key, "description", "expected a string")
        if any(t.key == key for t in themes):
            raise _error(source, key, "key", "used by two themes")
        themes.append(Theme(key, label, tuple(phrases), description, tuple(exceptions)))
    return tuple(themes)


def _phrase_list(value: object) -> bool:
    return isinstance(value, list) and all(
        isinstance(p, str) and _WORD.search(fold(p)) for p in value
    )


# -- how well the themes find what people labelled ----------------------------------------------


@dataclass(frozen=True)
class Scores:
    """Precision and recall of one theme on a labelled set (1.0 when nothing was to find)."""

    theme: str
    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def precision(self) -> float:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 1.0

    @property
    def recall(self) -> float:
        wanted = self.true_positives + self.false_negatives
        return self.true_positives / wanted if wanted else 1.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "theme": self.theme,
            "precision": round(self.precision, 3),
            "recall": round(self.recall, 3),
            "labelled": self.true_positives + self.false_negatives,
            "found": self.true_positives + self.false_positives,
            "true_positives": self.true_positives,
        }


def evaluate(
    labelled: Sequence[tuple[str, frozenset[str]]], themes: Sequence[Theme]
) -> list[Scores]:
    """Per theme, how the tagger's themes compare with the labels of (answer, themes) pairs."""
    counts = {t.key: [0, 0, 0] for t in themes}
    for text, labels in labelled:
        found = {tag.theme for tag in tag_answer(text, themes)}
        for key, tally in counts.items():
            if key in found and key in labels:
                tally[0] += 1
            elif key in found:
                tally[1] += 1
            elif key in labels:
                tally[2] += 1
    return [Scores(key, *tally) for key, tally in counts.items()]
