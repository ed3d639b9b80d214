"""`goodwill incident assess` as a user meets it: the installed console script on SQLite."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.test_cli import goodwill
from tests.factories import PURCHASE_HEADER, purchase_rows, write_csv


@pytest.fixture
def db(tmp_path: Path, sqlite_url: str) -> str:
    """A database with Dana, a client since 2005 who lives in Amsterdam, and Nina, new."""
    clients = tmp_path / "clients.csv"
    clients.write_text(
        "client_id,name,email,client_since,timezone\n"
        "C00003,Dana Longtime,dana@example.com,2005-06-01,Europe/Amsterdam\n"
        "N1,Nina New,nina@example.com,,\n",
        "utf-8",
    )
    done = goodwill("import", "clients", str(clients), db=sqlite_url)
    assert done.returncode == 0, done.stderr
    return sqlite_url


#: Travel and rentals: the options are a hospitality business's (rooms, cars, taxis).
RENTALS = {"GOODWILL_BUSINESS_KIND": "hospitality"}


def assess(db: str, *args: str) -> dict[str, object]:
    done = goodwill("incident", "assess", *args, "--json", db=db, env=RENTALS)
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert isinstance(body, dict)
    return body


def test_a_stranded_client_with_a_flight_tomorrow_gets_a_rescue_with_reasons(
    tmp_path: Path, db: str
) -> None:
    purchases = write_csv(tmp_path / "p.csv", PURCHASE_HEADER, purchase_rows(200, clients=15))
    assert goodwill("import", "purchases", str(purchases), db=db).returncode == 0
    message = tmp_path / "mail.txt"
    message.write_text(
        "The address the booking site gave me is wrong and there is no car here. "
        "My flight leaves at 3pm tomorrow.",
        "utf-8",
    )
    before = goodwill("client", "show", "C00003", "--json", db=db).stdout
    body = assess(
        db,
        "--client", "C00003",
        "--what", "wrong pick-up address for the rental car",
        "--message-file", str(message),
        "--message-time", "2026-11-23T09:30:00+01:00",
        "--cost", "154",
        "--partner", "TripDesk",
    )  # fmt: skip
    assert body["tier"] == 3 and isinstance(body["score"], float)
    assert body["deadline"] == "2026-11-24T15:00:00+01:00"  # Dana's own 3pm, in Amsterdam
    factors = body["factors"]
    assert isinstance(factors, list) and all(isinstance(f, str) for f in factors)
    assert "the flight departs in 28 hours" in factors  # --now is 11:00 in Amsterdam
    # Dana's last purchase was in 2019: her tenure counts until she left, not until today.
    assert "a client for 13 years" in factors
    assert "a partner's mistake (TripDesk) is treated as ours" in factors
    assert any(f.startswith("the client is stranded or blocked right now") for f in factors)
    assert any(f.startswith("worth about ") for f in factors)
    options = body["options"]
    assert isinstance(options, list)
    assert all({"name", "cost"} <= set(o) for o in options)
    assert any(o["cost"] == 0 for o in options)
    assert "find the client a car" in [o["name"] for o in options]
    after = goodwill("client", "show", "C00003", "--json", db=db).stdout
    assert after == before  # assessing stores nothing


def test_the_terminal_shows_the_tier_the_reasons_and_the_options(db: str) -> None:
    done = goodwill(
        "incident", "assess",
        "--client", "C00003",
        "--what", "size 44 is out of stock",
        db=db,
        env=RENTALS,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Tier 1: apology and fix" in done.stdout
    assert "a client for 21 years" in done.stdout
    assert "refer to a competitor who has it in stock" in done.stdout
    assert "order and ship" in done.stdout and "free" in done.stdout


def test_a_deadline_given_outright_wins_over_the_words(tmp_path: Path, db: str) -> None:
    message = tmp_path / "mail.txt"
    message.write_text("The interview is next week.", "utf-8")
    body = assess(
        db,
        "--client", "N1",
        "--what", "the suit was not ready",
        "--message-file", str(message),
        "--deadline", "2026-11-23T13:00:00+00:00",
    )  # fmt: skip
    factors = body["factors"]
    assert isinstance(factors, list)
    assert "the interview is in 3 hours" in factors
    assert not any("a client for" in f for f in factors)  # Nina has no history yet


def test_weights_and_catalog_files_replace_the_defaults(tmp_path: Path, db: str) -> None:
    weights = tmp_path / "weights.toml"
    weights.write_text("[tiers]\nmake_good = 0.5\nrescue = 100\n", "utf-8")
    catalog = tmp_path / "catalog.toml"
    catalog.write_text(
        '[[option]]\nname = "a handwritten note"\ncost = "0"\ntiers = [1, 2, 3]\n', "utf-8"
    )
    body = assess(
        db,
        "--client", "C00003",
        "--what", "the parcel was late",
        "--weights", str(weights),
        "--catalog", str(catalog),
    )  # fmt: skip
    assert body["tier"] == 2
    assert body["options"] == [
        {"name": "a handwritten note", "cost": 0.0, "description": "", "authority": "staff",
         "fits": ["any"]}
    ]  # fmt: skip


def test_mistakes_in_the_command_fail_with_one_clear_line(tmp_path: Path, db: str) -> None:
    missing = goodwill("incident", "assess", "--client", "nobody", "--what", "x", db=db)
    assert missing.returncode == 3 and "no client with id 'nobody'" in missing.stderr
    weights = tmp_path / "weights.toml"
    weights.write_text("[tiers]\nrescue = -1\n", "utf-8")
    wrong = goodwill(
        "incident", "assess", "--client", "N1", "--what", "x", "--weights", str(weights), db=db
    )
    assert wrong.returncode == 2
    assert f"{weights}: tiers.rescue: must be a number ≥ 0" in wrong.stderr
    cost = goodwill("incident", "assess", "--client", "N1", "--what", "x", "--cost", "lots", db=db)
    assert cost.returncode == 2 and "--cost" in cost.stderr
    for done in (missing, wrong, cost):
        assert "Traceback" not in done.stderr
