"""Topics clients bring up that nobody listed: found in their answers and mail without an agenda.

The configured themes hear only the words chosen in advance. Here the words come from the texts:
TF-IDF over words and word pairs, then non-negative matrix factorisation (scikit-learn's ``NMF``)
splits the texts into a few topics, each named by its heaviest phrases. Nothing is downloaded;
the stop words are the English list scikit-learn ships plus a short list of the commonest words
of the other languages clients write in (:data:`OTHER_STOP_WORDS`; both in :func:`stop_words`),
so "de", "und", "les" and "het" never name a topic.

Every text counts, also one a configured theme already matched: a topic then says which themes
its texts carry (``themes``), so the owner sees whether it is a theme heard again or something
new. The result is deterministic (NMF's ``nndsvd`` start and a fixed ``random_state``) and
bounded: only the :data:`MAX_TEXTS` most recent texts, each cut to :data:`MAX_CHARS`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cache
from typing import Any

import numpy as np

from goodwill.domain.themes import fold

__all__ = [
    "MAX_CHARS",
    "MAX_TEXTS",
    "MIN_TEXTS",
    "Said",
    "Topic",
    "discover_topics",
    "period_of",
    "terms_of",
]

#: At most this many texts, the most recent, are read (the rest would only slow the page).
MAX_TEXTS = 5000
#: Each text is cut to this many characters (a long mail says its topic early).
MAX_CHARS = 2000
#: Fewer texts than this make no topics worth showing.
MIN_TEXTS = 12
#: How many words and pairs name a topic.
NAME_PHRASES = 3

#: The commonest words of the other languages clients write in, and of mail itself: never a topic.
_OTHER_WORDS = """
    de het een en van ik je jij wij we zij ze is zijn was waren niet maar ook met voor op aan
    dat die dit deze er naar bij om dan als nog wel heel zo uw jullie hebben heeft had kan
    der die das und ist nicht mit ein eine einen dem den des sie wir ich du auf fur zu im
    auch aber sehr noch wie war sind hat haben vom zum zur bei uns ihr ihre es
    le la les un une des et est pas avec pour sur dans que qui du au aux nous vous ils elle
    mais tres ce cette ces sont ont avons etait je tu il ne se sa son ses leur
    el los las y es por para con una lo del al muy pero su sus como mas fue
    il lo gli di che non per con della sono ho ha molto ma anche
    o os um uma nao com para muito mas foi sao tem
    och att som inte med det den jag vi har var til af og ikke jeg
    hi hello dear thanks thank regards best kind wishes cheers please sent
    just really like got get also lot bit way thing things one still even
    wasn didn don isn doesn couldn won aren hasn haven wouldn shouldn weren ain
    came come comes went going made make makes know think said say says told tell want need
    maybe sure good great nice lovely best better little lot lots
"""
OTHER_STOP_WORDS = frozenset(_OTHER_WORDS.split())


@cache
def stop_words() -> frozenset[str]:
    """scikit-learn's English stop words and the others: imported when topics are first sought,
    so the web app and the CLI start without scikit-learn (over a second)."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS) | OTHER_STOP_WORDS


#: Words of three letters or more, no digits: prices and dates are not topics.
_TOKEN = re.compile(r"[^\W\d_]{3,}")
#: Where a pair of words cannot reach across: punctuation and line ends.
_BREAK = re.compile(r"[.,;:!?()\[\]\"\n]+")


def terms_of(text: str) -> list[str]:
    """The words of a folded text that can name a topic, and the pairs of them that stand next
    to each other (never across a stop word or punctuation: "beans, and people" is no pair)."""
    out: list[str] = []
    stop = stop_words()
    for part in _BREAK.split(text):
        previous: str | None = None
        for match in re.finditer(r"[^\W_]+", part):
            word = match.group()
            if word in stop or not _TOKEN.fullmatch(word):
                previous = None
                continue
            out.append(word)
            if previous is not None:
                out.append(f"{previous} {word}")
            previous = word
    return out


@dataclass(frozen=True)
class Said:
    """One thing a client said: the words, when, their tenure in days then (None when unknown),
    where it came from (``answer`` or ``mail``) and the configured themes it carries."""

    text: str
    at: datetime
    tenure_days: int | None
    source: str = "answer"
    themes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Topic:
    """A recurring topic: its name (top phrases), how many texts raise it (and of those, new
    and long-term clients'), quotes, counts per period and the themes its texts carry."""

    key: str
    name: str
    phrases: tuple[str, ...]
    texts: int
    new: int
    long_term: int
    new_share: float
    long_term_share: float
    quotes: tuple[str, ...]
    trend: tuple[tuple[str, int, int, int], ...]  # (period, new, long-term, other)
    themes: tuple[tuple[str, float], ...] = field(default=())  # (theme, share of its texts)
    sources: tuple[tuple[str, int], ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "name": self.name,
            "phrases": list(self.phrases),
            "texts": self.texts,
            "new": self.new,
            "long_term": self.long_term,
            "new_share": self.new_share,
            "long_term_share": self.long_term_share,
            "quotes": list(self.quotes),
            "trend": [
                {"period": p, "new": n, "long_term": lt, "other": o} for p, n, lt, o in self.trend
            ],
            "themes": [{"theme": t, "share": s} for t, s in self.themes],
            "sources": dict(self.sources),
        }


def period_of(at: datetime, *, quarters: bool) -> str:
    """The month ("2026-11") or the quarter ("2026-Q4") of an instant, as given (the caller
    passes it in the business's time zone)."""
    if quarters:
        return f"{at.year}-Q{(at.month - 1) // 3 + 1}"
    return f"{at.year}-{at.month:02d}"


def _periods(first: datetime, last: datetime) -> tuple[list[str], bool]:
    """Every month from first to last, or every quarter when that would be over 18 months."""
    months = (last.year - first.year) * 12 + last.month - first.month + 1
    quarters = months > 18
    labels: list[str] = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        label = period_of(datetime(year, month, 1), quarters=quarters)
        if label not in labels:
            labels.append(label)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return labels, quarters


def _name(terms: Sequence[str], weights: np.ndarray[Any, Any]) -> tuple[str, ...]:
    """The heaviest phrases, a word left out when a chosen pair already holds it."""
    chosen: list[str] = []
    for index in np.argsort(-weights, kind="stable"):
        if weights[index] <= 0 or len(chosen) == NAME_PHRASES:
            break
        term = terms[index]
        words = set(term.split())
        if any(words <= set(c.split()) for c in chosen):
            continue
        chosen = [c for c in chosen if not set(c.split()) < words]
        chosen.append(term)
    return tuple(chosen)


_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
QUOTE_CHARS = 160


def _quote(text: str, phrases: Sequence[str]) -> str:
    """The sentence of ``text`` holding most of the phrases (of four words or more when one
    does; the first sentence when none holds any)."""
    sentences = [s.strip() for s in _SENTENCE.split(text) if s.strip()]
    if not sentences:
        return ""

    def score(sentence: str) -> tuple[int, bool]:
        words = set(terms_of(fold(sentence)))
        return sum(p in words for p in phrases), len(sentence.split()) >= 4

    pick = max(sentences, key=score)  # the first of the best
    return pick if len(pick) <= QUOTE_CHARS else pick[: QUOTE_CHARS - 1].rstrip() + "…"


def _slug(phrase: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", phrase).strip("-")[:40] or "topic"


def discover_topics(
    said: Sequence[Said],
    *,
    new_days: int,
    long_term_days: int,
    zone_of: Callable[[datetime], datetime] | None = None,
    max_topics: int = 8,
    quotes: int = 2,
    random_state: int = 0,
    max_texts: int = MAX_TEXTS,
) -> list[Topic]:
    """The recurring topics of ``said``, most raised first (none below :data:`MIN_TEXTS`).

    A text belongs to every topic that holds at least half its heaviest topic's weight. Its
    client is new below ``new_days`` of tenure, long-term from ``long_term_days``; the shares
    are of all new (long-term) clients' texts. ``zone_of`` turns an instant into the local one
    its month is read in (None: as given). The number of topics grows with the square root of
    a quarter of the texts, up to ``max_topics``. Only the ``max_texts`` most recent texts are read.
    """
    from sklearn.decomposition import NMF
    from sklearn.feature_extraction.text import TfidfVectorizer

    recent = sorted(said, key=lambda s: (s.at, s.text))[-max_texts:]
    docs = [fold(s.text[:MAX_CHARS]) for s in recent]
    if len(recent) < MIN_TEXTS:
        return []
    vectorizer = TfidfVectorizer(
        analyzer=terms_of,
        min_df=2,
        max_df=0.8,
        max_features=5000,
        sublinear_tf=True,
    )
    try:
        matrix = vectorizer.fit_transform(docs)
    except ValueError:  # nothing left after the stop words: no topic to name
        return []
    terms = list(vectorizer.get_feature_names_out())
    count = max(2, min(max_topics, round(math.sqrt(len(recent) / 4)), len(terms) - 1))
    if len(terms) < 3:
        return []
    model = NMF(n_components=count, init="nndsvd", random_state=random_state, max_iter=400)
    weights = model.fit_transform(matrix)
    heaviest = weights.max(axis=1, keepdims=True)
    member = (weights > 0) & (weights >= 0.5 * heaviest) & (heaviest > 1e-9)

    local = [zone_of(s.at) if zone_of else s.at for s in recent]
    labels, quarterly = _periods(min(local), max(local))
    is_new = [s.tenure_days is not None and s.tenure_days < new_days for s in recent]
    is_long = [s.tenure_days is not None and s.tenure_days >= long_term_days for s in recent]
    all_new, all_long = sum(is_new), sum(is_long)

    topics: list[Topic] = []
    for t in range(count):
        rows = [i for i in np.flatnonzero(member[:, t])]
        phrases = _name(terms, model.components_[t])
        if len(rows) < 2 or not phrases:
            continue
        new = sum(is_new[i] for i in rows)
        long = sum(is_long[i] for i in rows)
        by_period: dict[str, list[int]] = {label: [0, 0, 0] for label in labels}
        for i in rows:
            slot = by_period[period_of(local[i], quarters=quarterly)]
            slot[0 if is_new[i] else 1 if is_long[i] else 2] += 1
        ranked = sorted(rows, key=lambda i: (-weights[i, t], len(recent[i].text), i))
        picked: list[str] = []
        for i in ranked:
            quote = _quote(recent[i].text, phrases)
            if quote and quote not in picked:
                picked.append(quote)
            if len(picked) == quotes:
                break
        theme_counts: dict[str, int] = {}
        source_counts: dict[str, int] = {}
        for i in rows:
            for theme in recent[i].themes:
                theme_counts[theme] = theme_counts.get(theme, 0) + 1
            source_counts[recent[i].source] = source_counts.get(recent[i].source, 0) + 1
        topics.append(
            Topic(
                key=_slug(phrases[0]),
                name=" · ".join(phrases),
                phrases=phrases,
                texts=len(rows),
                new=new,
                long_term=long,
                new_share=round(new / all_new, 4) if all_new else 0.0,
                long_term_share=round(long / all_long, 4) if all_long else 0.0,
                quotes=tuple(picked),
                trend=tuple((label, *by_period[label]) for label in labels),  # type: ignore[misc]
                themes=tuple(
                    (theme, round(n / len(rows), 4))
                    for theme, n in sorted(theme_counts.items(), key=lambda kv: (-kv[1], kv[0]))
                ),
                sources=tuple(sorted(source_counts.items())),
            )
        )
    topics.sort(key=lambda t: (-t.texts, t.name))
    seen: dict[str, int] = {}
    unique = []
    for topic in topics:  # two topics named alike keep different keys
        n = seen[topic.key] = seen.get(topic.key, 0) + 1
        unique.append(topic if n == 1 else replace(topic, key=f"{topic.key}-{n}"))
    return unique
