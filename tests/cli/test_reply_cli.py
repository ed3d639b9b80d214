"""`goodwill reply check`: the guardrails from a terminal, on clients imported from files."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from goodwill.actions.inbox import receive
from goodwill.settings import load_settings
from goodwill.store.database import open_store
from tests.cli.test_cli import goodwill
from tests.factories import PURCHASE_HEADER, write_csv

CLIENTS = """\
client_id,name,email
C-1001,Priya Shah,priya@example.com
C-1002,Dan Whitaker,dan@example.com
C-1003,Zoë Müller,zoe@example.com
"""


def purchase(order: str, client: str, name: str, channel: str) -> list[str]:
    email = f"{name.split()[0].lower()}@example.com"
    return [order, client, name, email, "2026-10-01", "120.00", "EUR", "Car hire", "", channel]


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Three car-hire clients; two sold through partners (TripFinder and RoamAway).

    Shared by this module's tests, which only read it (one adds a conversation for Zoë alone).
    """
    tmp_path = tmp_path_factory.mktemp("reply")
    sqlite_url = f"sqlite:///{tmp_path / 'goodwill.db'}"
    clients = tmp_path / "clients.csv"
    clients.write_text(CLIENTS, encoding="utf-8")
    rows = [
        purchase("O1", "C-1001", "Priya Shah", "TripFinder"),
        purchase("O2", "C-1002", "Dan Whitaker", "RoamAway"),
    ]
    purchases = write_csv(tmp_path / "purchases.csv", PURCHASE_HEADER, rows)
    assert goodwill("import", "clients", str(clients), db=sqlite_url).returncode == 0
    done = goodwill("import", "purchases", str(purchases), db=sqlite_url)
    assert done.returncode == 0, done.stderr
    return sqlite_url


def check(tmp_path: Path, db: str, text: str, *args: str) -> tuple[int, dict[str, Any]]:
    reply = tmp_path / "reply.txt"
    reply.write_text(text, encoding="utf-8")
    done = goodwill("reply", "check", "--text-file", str(reply), *args, "--json", db=db)
    assert done.returncode in (0, 1), done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    return done.returncode, report


def test_story_2_a_reply_meant_for_dan_at_another_site_is_blocked(tmp_path: Path, db: str) -> None:
    text = "Hi Dan,\nThanks for booking through RoamAway. Your car is ready."
    code, report = check(tmp_path, db, text, "--client", "C-1001", "--partner", "TripFinder")
    assert code == 1 and report["blocked"] is True
    findings = report["findings"]
    assert [(f["code"], f["severity"], text[f["start"] : f["end"]]) for f in findings] == [
        ("other_client_name", "block", "Dan"),
        ("wrong_partner", "block", "RoamAway"),
    ]
    assert set(findings[0]) == {"code", "severity", "start", "end", "message"}


def test_a_good_reply_passes_and_an_incident_asks_for_a_next_step(tmp_path: Path, db: str) -> None:
    text = "Hi Priya,\nSorry about the address TripFinder showed you."
    code, report = check(tmp_path, db, text, "--client", "C-1001", "--partner", "tripfinder")
    assert (code, report) == (0, {"blocked": False, "findings": []})
    args = ("--client", "C-1001", "--partner", "TripFinder", "--incident", "I-7")
    code, report = check(tmp_path, db, text, *args)
    assert code == 0 and report["blocked"] is False
    assert [f["code"] for f in report["findings"]] == ["no_next_step"]


def test_an_open_conversation_means_the_client_waits_on_us(tmp_path: Path, db: str) -> None:
    message = EmailMessage()
    message["From"] = "Zoë Müller <zoe@example.com>"
    message["To"] = "care@harbour.example"
    message["Subject"] = "Charged twice"
    message["Message-ID"] = "<z1@example.com>"
    message.set_content("I was charged twice for the car.")
    settings = load_settings(database_url=db, environ={})
    at = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    receive(open_store(db), settings, message.as_bytes(), source="smtp", now=at)

    code, report = check(
        tmp_path, db, "Dear Zoe,\nThank you for your message.", "--client", "C-1003"
    )
    assert code == 0
    assert [f["code"] for f in report["findings"]] == ["no_next_step"]


def test_the_plain_report_names_each_finding_and_the_verdict(tmp_path: Path, db: str) -> None:
    reply = tmp_path / "reply.txt"
    reply.write_text("Dear ,\nWe are not affiliated with the site.", encoding="utf-8")
    done = goodwill("reply", "check", "--client", "C-1001", "--text-file", str(reply), db=db)
    assert done.returncode == 1
    assert "unfilled_placeholder" in done.stdout and "1:1" in done.stdout
    assert "deflection" in done.stdout and "2:8" in done.stdout
    assert "blocked" in done.stdout


def test_bad_input_is_one_line_and_exit_two(tmp_path: Path, db: str) -> None:
    reply = tmp_path / "reply.txt"
    reply.write_text("Hi Priya, all sorted.", encoding="utf-8")
    args = ["reply", "check", "--client", "C-1001", "--text-file"]
    missing = goodwill(*args, str(tmp_path / "nope.txt"), db=db)
    assert missing.returncode == 2 and "--text-file" in missing.stderr
    unknown = goodwill(*args, str(reply), "--partner", "Expedia", db=db)
    assert unknown.returncode == 2
    assert "'Expedia' is not one of the business's partners" in unknown.stderr
    assert "Traceback" not in unknown.stderr
    lexicon = tmp_path / "words.toml"
    lexicon.write_text('[guardrails]\nphrases = ["x"]\n', encoding="utf-8")
    wrong = goodwill(*args, str(reply), "--lexicon", str(lexicon), db=db)
    assert wrong.returncode == 2 and "unknown key guardrails.phrases" in wrong.stderr
    nobody = goodwill("reply", "check", "--client", "C-9999", "--text-file", str(reply), db=db)
    assert nobody.returncode == 3 and "no client with id 'C-9999'" in nobody.stderr


def test_a_lexicon_file_adds_phrases(tmp_path: Path, db: str) -> None:
    lexicon = tmp_path / "words.toml"
    lexicon.write_text('[guardrails]\ndeflection_block = ["the airline\'s job"]\n', "utf-8")
    text = "Hi Priya, lost bags are the airline's job."
    code, report = check(tmp_path, db, text, "--client", "C-1001", "--lexicon", str(lexicon))
    assert code == 1
    assert [f["code"] for f in report["findings"]] == ["deflection"]
