"""`goodwill feedback` through the installed console script: answers kept verbatim with their
tenure, and the new / long-term comparison with numbers worked out by hand."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli.test_cli import goodwill

NOW = "2026-11-23T10:00:00+00:00"


@pytest.fixture
def db(tmp_path: Path, sqlite_url: str) -> str:
    """Three clients: Nia (new, since May 2026), Len and Lou (long-term, since 2009 and 2015)."""
    clients = tmp_path / "clients.csv"
    clients.write_text(
        "client_id,name,email,client_since\n"
        "N1,Nia New,nia@example.com,2026-05-01\n"
        "L1,Len Long,len@example.com,2009-03-01\n"
        "L2,Lou Long,lou@example.com,2015-01-10\n",
        "utf-8",
    )
    done = goodwill("import", "clients", str(clients), db=sqlite_url)
    assert done.returncode == 0, done.stderr
    return sqlite_url


def add(db: str, tmp_path: Path, client: str, answer: str, *extra: str) -> dict[str, Any]:
    path = tmp_path / f"answer-{client}-{abs(hash(answer))}.txt"
    path.write_text(answer, "utf-8")
    done = goodwill(
        "feedback",
        "add",
        "--client", client,
        "--question", "What would you miss if we were gone?",
        "--answer-file", str(path),
        "--json",
        *extra,
        db=db,
        now=NOW,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert isinstance(body, dict)
    return body


def test_an_answer_is_kept_verbatim_with_its_tenure_and_themes(db: str, tmp_path: Path) -> None:
    kept = add(
        db,
        tmp_path,
        "L1",
        "Beans before we open, every Monday. Never late in 17 years.",
        "--at", "2026-11-20T15:30:00+01:00",
        "--channel", "call",
    )  # fmt: skip
    assert kept["answer"] == "Beans before we open, every Monday. Never late in 17 years."
    assert kept["answered_at"] == "2026-11-20T14:30:00+00:00"
    assert kept["tenure_days"] == 6473  # 2009-03-01 to 2026-11-20
    assert (kept["channel"], kept["recorded_by"]) == ("call", "cli")
    [timeliness] = [t for t in kept["themes"] if t["theme"] == "timeliness"]
    late = next(m for m in timeliness["matches"] if m["text"] == "late")
    assert (late["negated"], late["negation"]) == (True, "never")
    listed = goodwill("feedback", "list", "--client", "L1", "--json", db=db, now=NOW)
    assert [a["id"] for a in json.loads(listed.stdout)["answers"]] == [kept["id"]]


def test_a_bad_channel_or_a_future_answer_is_refused_with_one_line(db: str, tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("Fine.", "utf-8")
    base = ["feedback", "add", "--client", "N1", "--question", "Why?", "--answer-file", str(path)]
    wrong = goodwill(*base, "--channel", "fax", db=db, now=NOW)
    assert wrong.returncode == 2 and "channel 'fax'" in wrong.stderr
    future = goodwill(*base, "--at", "2027-01-01", db=db, now=NOW)
    assert future.returncode == 2 and "future" in future.stderr
    unknown = goodwill(*base[:2], "--client", "X9", *base[4:], db=db, now=NOW)
    assert unknown.returncode == 3 and "no client" in unknown.stderr


def test_themes_compares_new_and_long_term_clients_as_shares_with_quotes(
    db: str, tmp_path: Path
) -> None:
    add(db, tmp_path, "N1", "The new subscription, and the price is lower than elsewhere.")
    add(db, tmp_path, "N1", "Nothing really.")
    add(db, tmp_path, "L1", "Always on time. And Marta on the phone, a real friend.")
    add(db, tmp_path, "L2", "On time every single morning.")
    add(db, tmp_path, "L2", "Fair prices, on time.")
    done = goodwill("feedback", "themes", "--json", db=db, now=NOW)
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    themes = {t["theme"]: t for t in body["themes"]}
    assert set(themes["price"]) >= {"theme", "new_share", "long_term_share", "quotes"}
    # New: 2 answers (one on price and features); long-term: 3 answers (all on time, one price).
    assert body["groups"]["new"]["answers"] == 2 and body["groups"]["long_term"]["answers"] == 3
    assert (themes["timeliness"]["new_share"], themes["timeliness"]["long_term_share"]) == (0, 1)
    assert (themes["price"]["new_share"], themes["price"]["long_term_share"]) == (0.5, 0.3333)
    assert (themes["features"]["new_share"], themes["features"]["long_term_share"]) == (0.5, 0)
    assert themes["people"]["long_term_share"] == 0.3333
    assert themes["timeliness"]["quotes"][0] == "Fair prices, on time."  # the shortest first
    assert (
        "The new subscription, and the price is lower than elsewhere."
        in (themes["features"]["quotes"])
    )
    earlier = goodwill("feedback", "themes", "--json", "--as-of", "2026-11-22", db=db, now=NOW)
    assert json.loads(earlier.stdout)["groups"]["new"]["answers"] == 0
    table = goodwill("feedback", "themes", db=db, now=NOW)
    assert "Timeliness" in table.stdout and "100%" in table.stdout


def test_evaluate_prints_precision_and_recall_per_theme() -> None:
    labelled = Path(__file__).parent.parent / "data" / "feedback.jsonl"
    done = goodwill("feedback", "evaluate", str(labelled), "--json")
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert body["answers"] >= 120
    assert all(t["precision"] >= 0.8 and t["recall"] >= 0.8 for t in body["themes"])


def test_ask_prints_a_link_to_hand_over_when_goodwill_cannot_mail(db: str) -> None:
    done = goodwill("feedback", "ask", "--client", "L1", "--question", "benefit", db=db, now=NOW)
    assert done.returncode == 0, done.stderr
    assert "/feedback/" in done.stdout
    assert "Not mailed (mail.from_address is not set): hand this link over in person" in (
        " ".join(done.stdout.split())
    )
    body = json.loads(
        goodwill(
            "feedback", "ask", "--client", "N1", "--question", "benefit", "--json", db=db, now=NOW
        ).stdout
    )
    assert body["mailed"] is False and body["link"].startswith("/feedback/")
    outbox = json.loads(goodwill("mail", "outbox", "--json", db=db).stdout)
    assert outbox == []  # nothing queued that could never leave


def test_asking_is_audited_and_an_archived_client_is_not_asked(db: str) -> None:
    done = goodwill(
        "feedback", "ask", "--client", "N1", "--question", "benefit", "--in-person", db=db, now=NOW
    )
    assert done.returncode == 0, done.stderr
    assert "Hand this link over in person" in " ".join(done.stdout.split())
    log = json.loads(goodwill("audit", "--action", "feedback.", "--json", db=db).stdout)
    [entry] = log["entries"] if isinstance(log, dict) else log
    assert entry["action"] == "feedback.asked"
    assert goodwill("client", "archive", "L1", db=db).returncode == 0
    refused = goodwill("feedback", "ask", "--client", "L1", "--question", "benefit", db=db, now=NOW)
    assert refused.returncode != 0
    assert "is archived: restore them before asking them anything" in refused.stderr
