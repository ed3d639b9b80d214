"""Topics found without a list of words: planted topics come out named by their words, the same
every run, split by new and long-term clients, counted per month, and bounded."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from goodwill.domain.topics import (
    MAX_TEXTS,
    MIN_TEXTS,
    Said,
    Topic,
    discover_topics,
    period_of,
    terms_of,
)

START = datetime(2026, 1, 5, 10, tzinfo=UTC)
NEW, LONG = 365, 1826

OPENERS = ["Honestly,", "To be fair,", "Last week", "Every time I come,", "Again", "Once more"]
CLOSERS = [
    "and that was a shame.",
    "which I mentioned before.",
    "so please look into it.",
    "but otherwise all good.",
    "and my colleague said the same.",
    "which surprised me.",
]
OAT_MILK = ["the oat milk had run out", "there was no oat milk", "you had oat milk for once"]
PARKING = ["I could not find a parking space", "the parking space was taken", "a parking space"]
FILLER = [
    "Thank you for everything this year.",
    "The team were kind to my mother.",
    "I will be back next month.",
    "All fine, nothing to add.",
    "The invoice arrived as usual.",
    "We enjoyed the visit.",
]


def sentence(rng: random.Random, middle: list[str]) -> str:
    return f"{rng.choice(OPENERS)} {rng.choice(middle)} {rng.choice(CLOSERS)}"


def planted(seed: int = 3) -> list[Said]:
    """Oat milk from new clients in spring, parking from long-term ones in summer, and filler."""
    rng = random.Random(seed)
    out = []
    for i in range(30):
        out.append(Said(sentence(rng, OAT_MILK), START + timedelta(days=i), 60 + i, "answer"))
        parking = sentence(rng, PARKING)
        out.append(Said(parking, START + timedelta(days=150 + i), 3000 + i, "mail", ("x",)))
    for i in range(40):
        out.append(Said(rng.choice(FILLER), START + timedelta(days=3 * i), 900, "answer"))
    return out


def find(said: list[Said], *, max_texts: int = MAX_TEXTS) -> list[Topic]:
    return discover_topics(said, new_days=NEW, long_term_days=LONG, max_texts=max_texts)


def named(topics: list[Topic], word: str) -> Topic:
    found = [t for t in topics if word in t.name]
    assert found, f"no topic named with {word!r}: {[t.name for t in topics]}"
    return found[0]


def test_planted_topics_are_found_and_named_by_their_words() -> None:
    topics = find(planted())
    oat = named(topics, "oat milk")
    parking = named(topics, "parking space")
    assert oat.key != parking.key
    assert oat.texts == 30 and parking.texts == 30
    assert any("oat milk" in q.lower() for q in oat.quotes)
    assert all("parking space" in q.lower() for q in parking.quotes)


def test_new_and_long_term_clients_are_counted_apart() -> None:
    topics = find(planted())
    oat, parking = named(topics, "oat milk"), named(topics, "parking space")
    assert (oat.new, oat.long_term) == (30, 0)
    assert (parking.new, parking.long_term) == (0, 30)
    assert oat.new_share == 1.0 and oat.long_term_share == 0.0
    assert parking.long_term_share == 1.0
    assert dict(parking.sources) == {"mail": 30}
    assert parking.themes == (("x", 1.0),)  # the themes its texts already carry, by share


def test_the_trend_counts_each_month() -> None:
    oat = named(find(planted()), "oat milk")
    by_month = {period: (n, lt, o) for period, n, lt, o in oat.trend}
    assert by_month["2026-01"] == (27, 0, 0)
    assert by_month["2026-02"] == (3, 0, 0)
    assert by_month["2026-06"] == (0, 0, 0)  # every month is there, also a quiet one
    assert list(by_month) == [f"2026-{m:02d}" for m in range(1, 8)]


def test_the_same_texts_in_any_order_give_the_same_topics() -> None:
    said = planted()
    shuffled = said[:]
    random.Random(9).shuffle(shuffled)
    assert find(said) == find(shuffled) == find(planted())


def test_too_few_texts_make_no_topic() -> None:
    assert find(planted()[: MIN_TEXTS - 1]) == []
    assert find([Said("ok", START, 1)] * 40) == []  # nothing but stop words and short words


def test_only_the_most_recent_texts_are_read() -> None:
    topics = find(planted(), max_texts=50)
    assert all("oat" not in t.name for t in topics)  # the oat milk was said first
    assert sum(t.texts for t in topics) <= 50 * 2


def test_common_words_of_other_languages_never_name_a_topic() -> None:
    dutch = [
        "De parkeerplaats is altijd vol en het is niet makkelijk.",
        "Het is een mooie winkel en de parkeerplaats is te klein.",
        "Ik vind de koffie heel lekker, maar de parkeerplaats is een probleem.",
    ]
    said = [Said(dutch[i % 3], START + timedelta(days=i), 10) for i in range(30)]
    said += planted()[:40]
    names = " ".join(t.name for t in find(said))
    assert "parkeerplaats" in names
    assert not {"het", "een", "niet", "maar"} & set(names.replace("·", " ").split())


def test_pairs_of_words_never_reach_across_stop_words_or_punctuation() -> None:
    assert terms_of("fresh beans, and people") == ["fresh", "beans", "fresh beans", "people"]
    assert "beans people" not in terms_of("fresh beans and people")


def test_a_period_is_a_month_or_a_quarter() -> None:
    at = datetime(2026, 11, 3, tzinfo=UTC)
    assert period_of(at, quarters=False) == "2026-11"
    assert period_of(at, quarters=True) == "2026-Q4"
