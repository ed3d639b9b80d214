"""`goodwill feedback topics` and `evaluate` through the console script: the topics
clients bring up, and how reliable each theme is on the answers held out from its phrases."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from goodwill.actions.feedback import add_answer
from goodwill.settings import load_settings
from goodwill.store.database import open_store
from goodwill.store.models import Client
from tests.cli.test_cli import goodwill
from tests.cli.test_feedback_cli import NOW, db  # noqa: F401 (a fixture)

SAID = [
    "The oat milk ran out again before lunch.",
    "Please stock more oat milk, it is always gone.",
    "No oat milk on Saturday, so I went elsewhere.",
    "The new cakes are great and the staff are kind.",
]


def told_staff(url: str) -> None:
    """Nia (new) speaks of oat milk three times in four, Len (long-term) of cakes, over 4 months."""
    settings = load_settings(database_url=url, environ={})
    store = open_store(url)
    now = datetime.fromisoformat(NOW)
    with store.begin() as session:
        nia, len_ = (
            session.execute(select(Client).where(Client.external_id == ref)).scalar_one()
            for ref in ("N1", "L1")
        )
        for i in range(16):
            add_answer(
                session,
                settings,
                len_ if i % 4 == 3 else nia,
                question_text="miss-us",
                answer=SAID[i % 4],
                answered_at=now - timedelta(days=8 * i),
                channel="call",
                recorded_by="staff",
                now=now,
            )
    store.kw["bind"].dispose()


def test_topics_names_what_clients_bring_up_with_shares_and_a_trend(db: str) -> None:  # noqa: F811
    told_staff(db)
    done = goodwill("feedback", "topics", "--json", db=db)
    assert done.returncode == 0, done.stderr
    topics = json.loads(done.stdout)["topics"]
    oat = next(t for t in topics if "oat milk" in t["name"])
    assert (oat["texts"], oat["new"], oat["long_term"]) == (12, 12, 0)
    assert oat["new_share"] == 1.0 and oat["sources"] == {"answer": 12}
    assert all("oat milk" in q.lower() for q in oat["quotes"])
    assert [p["period"] for p in oat["trend"]] == [
        "2026-07",
        "2026-08",
        "2026-09",
        "2026-10",
        "2026-11",
    ]
    assert sum(p["new"] for p in oat["trend"]) == 12
    table = goodwill("feedback", "topics", db=db)
    assert table.returncode == 0, table.stderr
    assert "What clients bring up" in table.stdout and "oat milk" in table.stdout
    before = goodwill("feedback", "topics", "--as-of", "2026-07-01", db=db)
    assert "Too little said yet" in before.stdout


def test_evaluate_themes_measures_the_themes_on_the_held_out_answers() -> None:
    done = goodwill("feedback", "evaluate", "--json")
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert body["answers"] == 86
    by_theme = {t["theme"]: t for t in body["themes"]}
    assert set(by_theme) == {
        "timeliness", "reliability", "people", "price", "quality",
        "responsiveness", "trust", "features", "convenience",
    }  # fmt: skip
    assert all(0 <= t["recall"] <= 1 and t["labelled"] >= 10 for t in by_theme.values())
    table = goodwill("feedback", "evaluate")
    assert "86 answers" in table.stdout and "precision" in table.stdout


def test_evaluate_themes_reads_a_file_of_your_own_and_names_a_bad_line(tmp_path: Path) -> None:
    mine = tmp_path / "mine.jsonl"
    mine.write_text(
        '{"answer": "Always on time.", "themes": ["timeliness"]}\n'
        '{"answer": "Lovely staff.", "themes": ["people"]}\n',
        "utf-8",
    )
    body = json.loads(goodwill("feedback", "evaluate", str(mine), "--json").stdout)
    timeliness = next(t for t in body["themes"] if t["theme"] == "timeliness")
    assert body["answers"] == 2 and timeliness["recall"] == 1.0
    mine.write_text('{"answer": "no themes"}\n', "utf-8")
    bad = goodwill("feedback", "evaluate", str(mine))
    assert bad.returncode != 0
    assert f"{mine}:1: expected an object with answer and themes" in " ".join(bad.stderr.split())
