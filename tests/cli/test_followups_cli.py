"""Touch points to follow-ups from a terminal: the stories of late payments, birthdays and a
missed regular purchase, end to end from CSV files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli.test_cli import goodwill

PASSWORD = {"GOODWILL_NEW_PASSWORD": "a long password"}


def staff(db: str) -> None:
    for email, role in (("olivia@shop.example", "owner"), ("sam@shop.example", "staff")):
        done = goodwill(
            "user",
            "add",
            "--email",
            email,
            "--name",
            email.split("@")[0].title(),
            "--role",
            role,
            db=db,
            env=PASSWORD,
        )
        assert done.returncode == 0, done.stderr


def csv(tmp: Path, name: str, text: str) -> str:
    path = tmp / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def run(db: str, *args: str, now: str = "2026-11-23T08:00:00+00:00") -> Any:
    """Run a command that must succeed; its JSON output parsed when --json was asked for."""
    done = goodwill(*args, db=db, now=now)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if "--json" in args else done.stdout


def test_story_6_a_second_late_payment_becomes_a_conversation_with_the_owner(
    tmp_path: Path, sqlite_url: str
) -> None:
    staff(sqlite_url)
    clients = csv(
        tmp_path,
        "c.csv",
        "client_id,name,email,owner\nC7,Ann Example,ann@example.com,sam@shop.example\n",
    )
    payments = csv(
        tmp_path,
        "p.csv",
        "invoice_id,client_id,amount,issued_at,due_date,paid_at\n"
        "I1,C7,100,2026-06-01,2026-07-01,2026-07-20\n"
        "I2,C7,100,2026-10-10,2026-11-09,2026-11-20\n",
    )
    run(sqlite_url, "import", "clients", clients)
    run(sqlite_url, "import", "payments", payments)
    report = run(sqlite_url, "engine", "run", "--json")
    assert report["created"] == 1
    [followup] = run(sqlite_url, "followups", "--json")
    assert followup["client_id"] == "C7" and followup["event_types"] == ["payment.late"]
    assert followup["assignee"] == "olivia@shop.example"
    assert followup["personal_level"] == "owner_call" and followup["channel"] == "call"
    assert followup["reason"] == "late-payment-escalation"
    assert {"id", "due_at", "status"} <= set(followup)
    mine = run(sqlite_url, "today", "--assignee", "olivia@shop.example", "--json")
    assert [f["id"] for f in mine["today"] + mine["overdue"] + mine["upcoming"]] == [followup["id"]]
    assert run(sqlite_url, "today", "--assignee", "sam@shop.example", "--json") == {
        "overdue": [],
        "today": [],
        "upcoming": [],
    }


def test_story_10_birthday_and_anniversary_touches_at_the_fitting_level(
    tmp_path: Path, sqlite_url: str
) -> None:
    staff(sqlite_url)
    clients = csv(
        tmp_path,
        "c.csv",
        "client_id,name,email,birthday,client_since,owner\n"
        "G1,Greta Gold,g@example.com,--1208,2006-12-02,sam@shop.example\n"
        "B1,Bob Bronze,b@example.com,1990-12-20,,sam@shop.example\n",
    )
    purchases = csv(
        tmp_path,
        "o.csv",
        "order_id,client_id,occurred_at,amount\n1,G1,2025-03-01,7500\n2,B1,2024-12-01,40\n",
    )
    run(sqlite_url, "import", "clients", clients)
    run(sqlite_url, "import", "purchases", purchases)
    run(sqlite_url, "engine", "run", "--json", now="2026-12-03T07:00:00+00:00")
    followups = run(sqlite_url, "followups", "--json", now="2026-12-03T07:00:00+00:00")
    got = {(f["client_id"], f["reason"]): f for f in followups}
    assert got[("G1", "birthday")]["personal_level"] == "handwritten_note"
    assert got[("G1", "birthday")]["assignee"] == "olivia@shop.example"
    assert got[("G1", "birthday")]["due_at"] == "2026-12-07T09:00:00+00:00"
    assert got[("B1", "birthday")]["personal_level"] == "automated"
    assert got[("B1", "birthday")]["assignee"] == "sam@shop.example"
    anniversary = got[("G1", "anniversary")]
    assert anniversary["personal_level"] == "owner_call"
    assert anniversary["event_types"] == ["client.anniversary"]
    assert "20 years with Greta Gold" in json.dumps(anniversary)  # the title names the years
    again = run(sqlite_url, "engine", "run", "--json", now="2026-12-04T07:00:00+00:00")
    assert again["created"] == 0


def test_story_5_a_missed_purchase_is_called_and_closes_when_they_buy(
    tmp_path: Path, sqlite_url: str
) -> None:
    staff(sqlite_url)
    rows = "".join(f"M{i},C5,2025-{i:02d}-05,45\n" for i in range(1, 13))
    run(
        sqlite_url,
        "import",
        "purchases",
        csv(tmp_path, "o.csv", "order_id,client_id,occurred_at,amount\n" + rows),
    )
    run(
        sqlite_url,
        "event",
        "add",
        "purchase.missed",
        "--client",
        "C5",
        "--payload",
        '{"days_overdue": 9, "expected_at": "2026-11-14"}',
        "--external-id",
        "C5/2026-11",
    )
    again = run(
        sqlite_url,
        "event",
        "add",
        "purchase.missed",
        "--client",
        "C5",
        "--payload",
        '{"days_overdue": 9, "expected_at": "2026-11-14"}',
        "--external-id",
        "C5/2026-11",
    )
    assert "already recorded" in str(again)
    run(sqlite_url, "engine", "run", "--json")
    [call] = run(sqlite_url, "followups", "--json")
    assert call["reason"] == "missed-purchase" and call["channel"] == "call"
    run(
        sqlite_url,
        "import",
        "purchases",
        csv(tmp_path, "new.csv", "order_id,client_id,occurred_at,amount\nM99,C5,2026-11-24,45\n"),
        now="2026-11-24T10:00:00+00:00",
    )
    report = run(sqlite_url, "engine", "run", "--json", now="2026-11-24T10:00:00+00:00")
    assert report["closed"] == 1
    assert run(sqlite_url, "followups", "--json", now="2026-11-24T10:00:00+00:00") == []
    [closed] = run(sqlite_url, "followups", "--status", "closed", "--json")
    assert closed["id"] == call["id"]


def test_follow_ups_are_completed_snoozed_and_reassigned(tmp_path: Path, sqlite_url: str) -> None:
    staff(sqlite_url)
    run(
        sqlite_url,
        "event",
        "add",
        "lead.created",
        "--email",
        "new@example.com",
        "--name",
        "Nia New",
        "--payload",
        '{"via": "web_form"}',
    )
    run(sqlite_url, "engine", "run", "--json")
    [lead] = [f for f in run(sqlite_url, "followups", "--json") if f["reason"] == "new-lead"]
    assert lead["due_at"] == "2026-11-23T10:00:00+00:00"
    run(sqlite_url, "followup", "snooze", str(lead["id"]), "--until", "2026-11-24T11:00+00:00")
    run(sqlite_url, "followup", "reassign", str(lead["id"]), "--to", "sam@shop.example")
    [moved] = run(sqlite_url, "followups", "--assignee", "sam@shop.example", "--json")
    assert moved["due_at"] == "2026-11-24T11:00:00+00:00"
    empty = goodwill("followup", "done", str(lead["id"]), "--outcome", " ", db=sqlite_url)
    assert empty.returncode == 2 and "outcome is required" in empty.stderr
    run(sqlite_url, "followup", "done", str(lead["id"]), "--outcome", "Booked a tasting")
    twice = goodwill("followup", "done", str(lead["id"]), "--outcome", "again", db=sqlite_url)
    assert twice.returncode == 4 and "already done" in twice.stderr
    [done] = run(sqlite_url, "followups", "--status", "done", "--json")
    assert done["outcome"] == "Booked a tasting"


def test_the_worker_runs_passes_until_told_to_stop(sqlite_url: str) -> None:
    out = goodwill("worker", "--interval", "1", "--passes", "2", db=sqlite_url)
    assert out.returncode == 0 and out.stderr.count("follow-ups created") == 2


def test_playbook_check_names_the_file_rule_and_field(tmp_path: Path) -> None:
    good = tmp_path / "good.toml"
    shown = goodwill("playbook", "show", "--default")
    good.write_text(shown.stdout, encoding="utf-8")
    ok = goodwill("playbook", "check", str(good))
    assert ok.returncode == 0 and "rules, all valid" in ok.stdout
    bad = tmp_path / "bad.toml"
    bad.write_text(
        shown.stdout.replace('due = "2 business days"', 'due = "eventually"', 1), encoding="utf-8"
    )
    failed = goodwill("playbook", "check", str(bad))
    assert failed.returncode == 2
    assert "bad.toml: rule 'thank-you-first-purchase': due: 'eventually'" in failed.stderr


@pytest.mark.parametrize(
    ("start", "hours", "expected"),
    [
        ("2026-12-24T16:00:00-07:00", "4", "2026-12-28T12:00:00-07:00"),
        ("2026-03-06T15:00:00-07:00", "3", "2026-03-09T10:00:00-06:00"),
    ],
)
def test_calendar_add_prints_the_instant_with_its_offset(
    tmp_path: Path, start: str, hours: str, expected: str
) -> None:
    calendar = tmp_path / "office.toml"
    calendar.write_text(
        'timezone = "America/Denver"\nholidays = ["2026-12-25"]\n[hours]\n'
        'mon = ["09:00-12:00", "13:00-17:00"]\ntue = ["09:00-17:00"]\n'
        'wed = ["09:00-17:00"]\nthu = ["09:00-17:00"]\nfri = ["09:00-17:00"]\n',
        encoding="utf-8",
    )
    done = goodwill(
        "calendar", "add", "--calendar", str(calendar), "--start", start, "--hours", hours
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == expected


def test_cadence_overdue_lists_regular_clients_who_missed_their_rhythm(
    tmp_path: Path, sqlite_url: str
) -> None:
    rows = "".join(
        f"R{k}-{i},R{k},2025-{i:02d}-{1 + k % 20:02d},30\n" for k in range(35) for i in range(1, 13)
    )
    rows += "".join(f"M{i},C5,2025-{i:02d}-05,80\n" for i in range(1, 13))
    rows += "".join(f"N{i},C5,2026-{i:02d}-05,80\n" for i in range(1, 10))
    run(
        sqlite_url,
        "import",
        "purchases",
        csv(tmp_path, "o.csv", "order_id,client_id,occurred_at,amount\n" + rows),
    )
    listed = run(sqlite_url, "cadence", "overdue", "--as-of", "2026-11-23", "--json")
    mine = [r for r in listed if r["client_id"] == "C5"]
    assert mine and mine[0]["expected_at"].startswith("2026-10")
    assert mine[0]["days_overdue"] > 30 and 25 < mine[0]["usual_interval_days"] < 35
    assert mine[0]["revenue_at_risk"] > 900  # about a year of monthly 80s
    risks = [r["revenue_at_risk"] or 0 for r in listed]
    assert risks == sorted(risks, reverse=True)
    text = run(sqlite_url, "cadence", "overdue", "--as-of", "2026-11-23")
    assert "C5" in text and "every 30 days" in text
