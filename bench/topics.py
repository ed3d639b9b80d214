"""Finding the topics clients bring up in 10,000 texts (5,000 answers and 5,000 mails, the most
the listening page reads), against tagging texts with the shipped themes.

goodwill: :func:`goodwill.domain.topics.discover_topics` on the texts, cold (a new process's
first call; the page then keeps the result until something new is said). Baseline: the shipped
themes' :func:`goodwill.domain.themes.tag_answer` on 500 of the same texts, the work every
answer already costs when it is stored; both as texts a second.

The texts are made from sentences in several trades' words, a seeded mix (the same every run).

Run: python -m bench.topics [--texts N]
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import UTC, datetime, timedelta

from goodwill.actions.feedback import load_themes
from goodwill.domain.themes import tag_answer
from goodwill.domain.topics import Said, discover_topics
from goodwill.settings import load_settings

START = datetime(2024, 1, 1, tzinfo=UTC)
SENTENCES = [
    "The oat milk ran out again on Saturday morning.",
    "Parking behind the shop is impossible after nine.",
    "Could you open on Sunday afternoons as well?",
    "The invoice still shows the old VAT number.",
    "My car was ready on the day you promised.",
    "Anna remembered how I like my hair cut.",
    "The delivery van blocked our loading bay for an hour.",
    "The new loyalty card is a nice touch.",
    "Your prices went up twice this year.",
    "The croissants were stale on Monday.",
    "Please send the quote for the winter service.",
    "The booking page would not take my card.",
    "Thank you for fixing the heating so fast.",
    "We would like to add two more desks to the cleaning contract.",
    "The wifi in the waiting room keeps dropping.",
]


def texts(count: int, seed: int = 11) -> list[Said]:
    rng = random.Random(seed)
    out = []
    for i in range(count):
        words = " ".join(rng.sample(SENTENCES, rng.randint(1, 3)))
        at = START + timedelta(hours=rng.randint(0, 24 * 700))
        tenure = rng.choice([None, rng.randint(0, 300), rng.randint(400, 1500), 3000])
        out.append(Said(words, at, tenure, "mail" if i % 2 else "answer"))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--texts", type=int, default=10_000)
    args = parser.parse_args()
    said = texts(args.texts)
    began = time.perf_counter()
    topics = discover_topics(said, new_days=365, long_term_days=1826)
    found = time.perf_counter() - began
    themes = load_themes(load_settings(environ={}))
    sample = said[:500]
    began = time.perf_counter()
    for s in sample:
        tag_answer(s.text, themes)
    tagged = time.perf_counter() - began
    print(f"topics: {len(topics)} found in {len(said)} texts, {found:.2f} s cold")
    print(f"rate: {len(said) / found:,.0f} texts/s; themes tagging {len(sample) / tagged:,.0f}/s")
    print(f"ratio: topics are {len(said) / found / (len(sample) / tagged):.1f}× tagging's rate")
    for t in topics:
        print(f"  {t.texts:5d}  {t.name}")


if __name__ == "__main__":
    main()
