"""Story 1 through the installed console script: a client stranded by a partner's wrong address,
from opening the incident to closing it with every step taken."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli.test_cli import goodwill

BY = "sam@example.com"


@pytest.fixture
def db(tmp_path: Path, sqlite_url: str) -> str:
    """Dana, a client since 2005 who lives in Amsterdam."""
    clients = tmp_path / "clients.csv"
    clients.write_text(
        "client_id,name,email,client_since,timezone\n"
        "C00003,Dana Longtime,dana@example.com,2005-06-01,Europe/Amsterdam\n",
        "utf-8",
    )
    done = goodwill("import", "clients", str(clients), db=sqlite_url)
    assert done.returncode == 0, done.stderr
    return sqlite_url


#: A car-rental business: its options are a hospitality business's (rooms, cars, taxis).
RENTALS = {"GOODWILL_BUSINESS_KIND": "hospitality"}


def run(db: str, *args: str, now: str = "2026-11-23T10:00:00+00:00") -> str:
    done = goodwill("incident", *args, db=db, now=now, env=RENTALS)
    assert done.returncode == 0, done.stderr
    return done.stdout


def show(db: str, incident_id: int) -> dict[str, Any]:
    body = json.loads(run(db, "show", str(incident_id), "--json"))
    assert isinstance(body, dict)
    return body


def test_story_1_the_stranded_rental_client_from_open_to_closed(tmp_path: Path, db: str) -> None:
    message = tmp_path / "mail.txt"
    message.write_text(
        "The address the booking site gave me is wrong and there is no car here. "
        "My flight leaves at 3pm tomorrow.",
        "utf-8",
    )
    printed = run(
        db,
        "open",
        "--client", "C00003",
        "--what", "wrong pick-up address for the rental car",
        "--message-file", str(message),
        "--message-time", "2026-11-23T09:30:00+01:00",
        "--cost", "154",
        "--partner", "TripDesk",
        "--cause", "Wrong address",
        "--by", BY,
        "--json",
    )  # fmt: skip
    opened = json.loads(printed)
    incident_id = opened["id"]
    assert (opened["client"], opened["status"], opened["tier"], opened["cause"]) == (
        "C00003",
        "open",
        3,
        "wrong address",
    )
    assert opened["deadline"] == "2026-11-24T14:00:00+00:00"  # Dana's 3pm, in Amsterdam
    assert opened["partner"] == "TripDesk" and opened["ours"] is False
    assert "find the client a car" in [o["name"] for o in opened["options"]]
    assert opened["missing"] == ["listen", "restate", "own", "offer", "resolve", "follow_up"]

    terminal = run(db, "list", "--status", "open")
    assert "wrong address" in terminal and "C00003" in terminal

    run(db, "step", str(incident_id), "listen", "--by", BY)
    run(
        db,
        "step", str(incident_id), "restate",
        "--note", "you have no car and your flight leaves at 3pm tomorrow",
        "--by", BY,
    )  # fmt: skip
    assert "restate" in show(db, incident_id)["missing"]  # not yet confirmed by Dana
    run(db, "confirm", str(incident_id), "--by", BY)
    run(db, "step", str(incident_id), "own", "--note", "our partner's mistake is ours", "--by", BY)
    run(db, "step", str(incident_id), "offer", "--by", BY)
    run(
        db,
        "resolve", str(incident_id),
        "--outcome", "a car from the next rental desk, at our cost",
        "--option", "find the client a car",
        "--by", BY,
    )  # fmt: skip

    refused = goodwill("incident", "close", str(incident_id), "--by", BY, db=db)
    assert refused.returncode == 4
    assert "follow_up" in refused.stderr

    engine = goodwill("engine", "run", db=db, now="2026-11-23T10:05:00+00:00")
    assert engine.returncode == 0, engine.stderr
    body = show(db, incident_id)
    assert body["status"] == "resolved" and body["missing"] == ["follow_up"]
    followup_id = body["follow_up_id"]
    assert isinstance(followup_id, int)
    done = goodwill(
        "followup", "done", str(followup_id), "--outcome", "Dana made her flight", db=db
    )
    assert done.returncode == 0, done.stderr

    run(db, "close", str(incident_id), "--by", BY, now="2026-11-24T16:00:00+00:00")
    body = show(db, incident_id)
    assert body["status"] == "closed" and body["missing"] == []
    assert body["closed_at"] == "2026-11-24T16:00:00+00:00" and body["close_reason"] is None
    assert body["restatement"] == "you have no car and your flight leaves at 3pm tomorrow"
    assert body["confirmed_at"] == "2026-11-23T10:00:00+00:00"
    assert body["chosen_option"] == "find the client a car"
    assert body["outcome"] == "a car from the next rental desk, at our cost"
    assert [s["step"] for s in body["steps"]] == [
        "listen",
        "restate",
        "own",
        "offer",
        "resolve",
        "follow_up",
    ]
    assert "Dana made her flight" in body["steps"][-1]["note"]

    listed = json.loads(run(db, "list", "--json"))
    assert [(i["id"], i["status"]) for i in listed] == [(incident_id, "closed")]


def test_closing_with_a_step_missing_needs_a_reason(db: str) -> None:
    printed = run(
        db,
        "open",
        "--client", "C00003",
        "--what", "the parcel was late",
        "--cause", "late parcel",
        "--by", BY,
        "--json",
    )  # fmt: skip
    opened = json.loads(printed)
    refused = goodwill("incident", "close", str(opened["id"]), "--by", BY, db=db)
    assert refused.returncode == 4
    assert "listen, restate, own, offer, resolve, follow_up" in refused.stderr
    run(db, "close", str(opened["id"]), "--reason", "the client cancelled", "--by", BY)
    body = show(db, opened["id"])
    assert (body["status"], body["close_reason"]) == ("closed", "the client cancelled")
