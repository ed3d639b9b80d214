"""Text folded for matching: case and accents ignored, each character's original offset kept.

The reply checks match names and phrases so that ``Lopez`` finds ``López`` and a curly apostrophe
equals a straight one, yet report spans of the text as it was written.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class Folded:
    """``text`` casefolded without accents; ``origin[j]`` is the original index of ``text[j]``."""

    text: str
    origin: tuple[int, ...]

    @classmethod
    def of(cls, original: str) -> Folded:
        chars, origin = fold(original)
        return cls(chars, origin)

    def span(self, start: int, end: int) -> tuple[int, int]:
        return self.origin[start], self.origin[end - 1] + 1


_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"})


def fold(text: str) -> tuple[str, tuple[int, ...]]:
    chars: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text.translate(_APOSTROPHES)):
        plain = "".join(
            c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c)
        )
        for c in plain.casefold():
            if not unicodedata.combining(c):
                chars.append(c)
                origin.append(i)
    return "".join(chars), tuple(origin)


@functools.lru_cache(maxsize=1 << 16)
def plain(text: str) -> str:
    """The folded text alone; cached, as the same client names are folded on every check."""
    if text.isascii():
        return text.translate(_APOSTROPHES).lower()
    return fold(text)[0]


@functools.lru_cache(maxsize=1 << 16)
def name_words(name: str) -> tuple[str, ...]:
    return tuple(t.word for t in word_tokens(plain(name)))


def mask_quotes(text: str) -> str:
    """Quoted lines become spaces, so offsets stay those of the original text."""
    return re.sub(r"(?m)^[ \t]*>.*$", lambda m: " " * len(m.group()), text)


_WORD = re.compile(r"[^\W\d_]+(?:['-][^\W\d_]+)*")


@dataclass(frozen=True)
class Token:
    word: str  # folded, possessive 's dropped
    start: int  # in the folded text
    end: int


def word_tokens(folded: str, start: int = 0, end: int | None = None) -> list[Token]:
    found = []
    for m in _WORD.finditer(folded, start, len(folded) if end is None else end):
        word, end = m.group(), m.end()
        if word.endswith("'s") and len(word) > 2:
            word, end = word[:-2], end - 2
        found.append(Token(word, m.start(), end))
    return found
