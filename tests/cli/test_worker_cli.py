"""`goodwill worker` stops only for a configuration error, with one line a supervisor shows."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_cli import goodwill


def test_a_missing_playbook_stops_the_worker_at_once_with_one_line(
    sqlite_url: str, tmp_path: Path
) -> None:
    config = tmp_path / "goodwill.toml"
    config.write_text(f'playbook = "{tmp_path / "nowhere.toml"}"\n', encoding="utf-8")
    done = goodwill("worker", "--passes", "1", db=sqlite_url, config=config)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"error: {tmp_path / 'nowhere.toml'}: playbook file not found"
    ]


def test_a_bad_maildir_setting_met_during_a_pass_stops_the_worker_with_one_line(
    sqlite_url: str, tmp_path: Path
) -> None:
    config = tmp_path / "goodwill.toml"
    config.write_text(f'[mail]\nmaildir = "{tmp_path / "no-mail"}"\n', encoding="utf-8")
    done = goodwill("worker", "--interval", "1", db=sqlite_url, config=config)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert lines == [f"error: {tmp_path / 'no-mail'}: not a Maildir (no new/ and cur/)"]
    engine = goodwill("engine", "run", "--json", db=sqlite_url, config=config)
    assert engine.returncode == 0 and json.loads(engine.stdout)["created"] == 0  # no mail in it


def test_an_unreachable_database_is_tried_again_then_named_in_one_line() -> None:
    done = goodwill("worker", "--passes", "1", db="postgresql://goodwill@127.0.0.1:1/goodwill")
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert [line.split("; ")[-1] for line in lines[:-1]] == [
        "trying again in 2 s",
        "trying again in 4 s",
        "trying again in 8 s",
    ]
    assert lines[-1].startswith("error: cannot open the database: OperationalError: ")
    assert "Traceback" not in done.stderr
