"""How often the new text of a reply comes out exactly right, per language, for goodwill and
for the reply-parsing libraries measured beside it in the same run.

A fixture is a raw reply and the exact text its sender wrote now, kept in TOML files (one per
language, ``[[reply]]`` tables with ``name``, ``raw`` and ``new``). Both sides are compared
after :func:`~goodwill.mail.quotes.tidy` (trailing spaces and repeated blank lines do not count).

Precision: of the replies a parser cut something from, the share it cut exactly right.
Recall: of the replies that needed a cut, the share it cut exactly right. A reply with nothing
to cut that a parser cuts anyway lowers its precision; one it leaves whole lowers its recall.
"""

from __future__ import annotations

import importlib
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from goodwill.mail.quotes import reply_text, tidy

__all__ = ["Fixture", "Score", "evaluate", "load_fixtures", "parsers"]

Parser = Callable[[str], str]


@dataclass(frozen=True)
class Fixture:
    """One reply as a mail program wrote it and the text its sender wrote now."""

    language: str
    name: str
    raw: str
    new: str


@dataclass(frozen=True)
class Score:
    """One parser's results on one language's fixtures."""

    replies: int
    exact: int
    cut: int
    cut_exact: int
    needed: int

    @property
    def precision(self) -> float | None:
        return self.cut_exact / self.cut if self.cut else None

    @property
    def recall(self) -> float | None:
        return self.cut_exact / self.needed if self.needed else None

    def __add__(self, other: Score) -> Score:
        return Score(
            self.replies + other.replies,
            self.exact + other.exact,
            self.cut + other.cut,
            self.cut_exact + other.cut_exact,
            self.needed + other.needed,
        )


def load_fixtures(directory: Path) -> list[Fixture]:
    """Every ``*.toml`` file's replies; the file's name (``de.toml``) is the language."""
    found: list[Fixture] = []
    for path in sorted(directory.glob("*.toml")):
        with path.open("rb") as file:
            data = tomllib.load(file)
        for reply in data.get("reply", []):
            found.append(Fixture(path.stem, str(reply["name"]), reply["raw"], reply["new"]))
    return found


def evaluate(
    fixtures: Iterable[Fixture], parsers: Mapping[str, Parser]
) -> dict[tuple[str, str], Score]:
    """A score per (language, parser name). A parser that raises scores as having cut wrongly."""
    scores: dict[tuple[str, str], Score] = {}
    for fixture in fixtures:
        whole, expected = tidy(fixture.raw), tidy(fixture.new)
        for name, parse in parsers.items():
            try:
                got = tidy(parse(fixture.raw))
            except Exception:  # a library's crash counts as a wrong cut
                got = "\0"
            right, cut = got == expected, got != whole
            score = Score(1, int(right), int(cut), int(right and cut), int(expected != whole))
            key = (fixture.language, name)
            scores[key] = scores[key] + score if key in scores else score
    return scores


def parsers() -> dict[str, Parser | None]:
    """goodwill's parser and each library measured beside it; None when it is not installed."""
    return {
        "goodwill": reply_text,
        "quotequail": _quotequail(),
        "mail-parser-reply": _mail_parser_reply(),
        "talon": _talon(),
    }


def _module(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError:  # a peer that is not installed (or no longer imports) is left out
        return None


def _quotequail() -> Parser | None:
    quotequail = _module("quotequail")
    if quotequail is None:
        return None

    def parse(text: str) -> str:
        first = quotequail.quote(text, quote_intro_line=True)[0]
        return str(first[1]) if first[0] else ""

    return parse


def _mail_parser_reply() -> Parser | None:
    module = _module("mailparser_reply")
    if module is None:
        return None
    languages = list(_module("mailparser_reply.constants").MAIL_LANGUAGES)
    parser = module.EmailReplyParser(languages=languages)
    return lambda text: str(parser.parse_reply(text) or "")


def _talon() -> Parser | None:
    quotations = _module("talon.quotations")
    if quotations is None:
        return None
    return lambda text: str(quotations.extract_from_plain(text))
