"""`goodwill touches batch` from a terminal: the table, the CSV file, the sheet, marking sent."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import typer
from sqlalchemy import select
from typer.testing import CliRunner

from goodwill.cli import touch_batches
from goodwill.cli.context import State
from goodwill.cli.main import app
from goodwill.store.database import open_store
from goodwill.store.models import FollowUp
from tests.cli.test_cli import goodwill
from tests.conftest import NOW
from tests.web.postcards import December, seed_december, write_playbook


def _shop(tmp_path: Path) -> tuple[list[str], December, str]:
    """The global options for a shop with December's batch, its follow-ups and its database."""
    db = f"sqlite:///{tmp_path / 'g.db'}"
    config = tmp_path / "goodwill.toml"
    playbook = write_playbook(tmp_path)
    config.write_text(f'playbook = "{playbook}"\nbusiness_name = "Harbour Linen"\n', "utf-8")
    store = open_store(db)
    with store.begin() as session:
        made = seed_december(session, now=NOW)
    store.kw["bind"].dispose()
    return ["--db", db, "--config", str(config), "--now", NOW.isoformat()], made, db


def test_the_batch_prints_postcards_notes_and_those_without_an_address(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from goodwill.cli.context import out

    base, _, _ = _shop(tmp_path)
    # The console took its width when first imported; a table as wide as a desktop terminal.
    monkeypatch.setattr(out, "width", 240)
    wide = CliRunner(env={"COLUMNS": "240"})
    done = wide.invoke(app, [*base, "touches", "batch", "--month", "2026-12"])
    assert done.exit_code == 0, done.output
    assert "Postcards, December 2026: 2" in done.output
    assert "Handwritten notes, December 2026: 1" in done.output
    assert "Without a postal address" in done.output
    for name in ("Margaret Holloway", "Ines Duarte", "Nora Lindqvist", "Tom Becker"):
        assert name in done.output


def test_the_csv_and_the_sheet_are_written_and_json_has_the_batch(tmp_path: Path) -> None:
    base, made, _ = _shop(tmp_path)
    postcards, sheet = tmp_path / "december.csv", tmp_path / "notes.html"
    args = ["touches", "batch", "--month", "2026-12", "--kind", "birthday", "--json"]
    done = CliRunner().invoke(app, [*base, *args, "--csv", str(postcards), "--sheet", str(sheet)])
    assert done.exit_code == 0, done.output
    shown = json.loads(done.output)
    assert [c["followup_id"] for c in shown["postcards"]] == [made.margaret]
    assert [c["followup_id"] for c in shown["notes"]] == [made.nora]
    assert shown["without_address"][0]["name"] == "Tom Becker" and shown["closed"] == 0
    raw = postcards.read_bytes()
    assert raw.startswith(
        b"name,address_line1,address_line2,city,region,postcode,country,message\r\n"
    )
    rows = list(csv.DictReader(raw.decode("utf-8").splitlines(keepends=True)))
    assert [(r["name"], r["city"]) for r in rows] == [("Margaret Holloway", "Leeds")]
    assert rows[0]["message"].startswith("Dear Margaret,\n\nHappy birthday!")
    page = sheet.read_text("utf-8")
    assert "<style>" in page and "@media print" in page  # prints the same anywhere
    assert "Nora Lindqvist" in page and "Dear Nora," in page
    assert "Her son started university in Lund" in page
    assert "Margaret Holloway" not in page  # postcards go to the service, not on the sheet


def test_mark_sent_closes_the_batch_once(tmp_path: Path) -> None:
    base, made, db = _shop(tmp_path)
    args = [*base, "touches", "batch", "--month", "2026-12", "--mark-sent"]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "Marked as sent: 3 follow-ups closed" in first.output
    again = CliRunner().invoke(app, args)
    assert "Marked as sent: 0 follow-ups closed" in again.output
    store = open_store(db)
    with store() as session:
        status = {i: s for i, s in session.execute(select(FollowUp.id, FollowUp.status))}
    store.kw["bind"].dispose()
    assert [status[i] for i in (made.margaret, made.ines, made.nora)] == ["done"] * 3
    assert status[made.tom] == "open"


def test_a_month_or_kind_that_is_not_one_is_a_usage_error(tmp_path: Path) -> None:
    _, _, db = _shop(tmp_path)
    bad = goodwill("touches", "batch", "--month", "12/2026", db=db)
    assert bad.returncode == 2
    assert "month: '12/2026' is not a month: write it as YYYY-MM" in bad.stderr
    kind = goodwill("touches", "batch", "--month", "2026-12", "--kind", "x", db=db)
    assert kind.returncode == 2 and "is not a kind of batch" in kind.stderr


def test_the_command_registers_on_any_touches_group(tmp_path: Path) -> None:
    _, made, db = _shop(tmp_path)
    group = typer.Typer()
    touch_batches.register(group)
    group.command("noop")(lambda: None)  # a group of two keeps `batch` a subcommand
    state = State(db=db, config=tmp_path / "goodwill.toml", now_text=NOW.isoformat())
    done = CliRunner().invoke(group, ["batch", "--month", "2026-12", "--json"], obj=state)
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["postcards"][1]["followup_id"] == made.margaret
