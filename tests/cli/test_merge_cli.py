"""`goodwill client duplicates` and `goodwill client merge` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from goodwill.cli.main import app
from goodwill.store.database import open_store
from goodwill.store.models import Client
from tests.cli.test_cli import goodwill
from tests.conftest import NOW
from tests.privacy.people import person
from tests.web.sample import staff_user


def _shop(tmp_path: Path) -> tuple[str, int, int]:
    db = f"sqlite:///{tmp_path / 'shop.db'}"
    store = open_store(db)
    with store.begin() as session:
        keep = person(session, now=NOW, key="A")
        other = person(session, now=NOW, key="B", name="Zoltana Q.", email="ZQ@x.org")
        client = session.get(Client, keep)
        assert client is not None
        client.phone = "+1 555 0100 200"
        merged = session.get(Client, other)
        assert merged is not None
        merged.phone = "+15550100200"
        staff_user(session, now=NOW, email="sam@example.com", name="Sam", role="staff")
        staff_user(session, now=NOW, email="mia@example.com", name="Mia", role="manager")
    store.kw["bind"].dispose()
    return db, keep, other


def test_duplicates_then_merge_from_the_command_line(tmp_path: Path) -> None:
    db, keep, other = _shop(tmp_path)
    listed = goodwill("client", "duplicates", "--json", db=db)
    assert listed.returncode == 0, listed.stderr
    pair = json.loads(listed.stdout)["pairs"][0]
    assert (pair["keep"]["id"], pair["other"]["id"]) == (keep, other)
    assert pair["reasons"][0]["text"] == "same phone +15550100200"
    table = goodwill("client", "duplicates", db=db)
    assert "same phone" in table.stdout and "goodwill client merge KEEP OTHER" in table.stdout
    itself = goodwill("client", "merge", "C-A", "C-A", "--yes", db=db)
    assert itself.returncode != 0 and "itself" in itself.stderr
    staff = goodwill("client", "merge", "C-A", "C-B", "--yes", "--by", "sam@example.com", db=db)
    assert staff.returncode != 0 and "owner or a manager" in staff.stderr
    dry = goodwill("client", "merge", "C-A", "C-B", "--json", db=db)
    assert dry.returncode == 0 and json.loads(dry.stdout)["merged"] is False
    done = goodwill(
        "client", "merge", "C-A", "C-B", "--yes", "--json", "--by", "mia@example.com", db=db
    )
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert body["merged"] is True and body["keep"]["id"] == keep
    assert body["moved"]["orders"] == 1 and body["moved"]["invoices"] == 1
    shown = json.loads(goodwill("client", "show", "C-A", "--json", db=db).stdout)
    assert any(e["type"] == "client.merged" for e in shown["timeline"])
    assert goodwill("client", "show", f"#{other}", db=db).returncode != 0
    assert "no likely duplicates" in goodwill("client", "duplicates", db=db).stdout


def test_merge_shows_what_moves_and_asks_first(tmp_path: Path) -> None:
    db, keep, other = _shop(tmp_path)
    runner = CliRunner()
    args = ["--db", db, "--now", "2026-11-23T15:00:00Z", "client", "merge", "C-A", "C-B"]
    declined = runner.invoke(app, args, input="n\n")
    assert declined.exit_code != 0
    assert "Would merge Zoltana Q. (C-B) into Zoltana Quibbleworth (C-A)" in declined.output
    assert "orders" in declined.output and "Merge them?" in declined.output
    store = open_store(db)
    with store() as session:
        assert session.get(Client, other) is not None
    accepted = runner.invoke(app, args, input="y\n")
    assert accepted.exit_code == 0, accepted.output
    assert f"Merged Zoltana Q. (C-B) into Zoltana Quibbleworth (C-A), client #{keep}" in (
        accepted.output
    )
    with store() as session:
        assert session.get(Client, other) is None
