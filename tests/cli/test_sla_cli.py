"""`goodwill sla due`: checking story 7's policy by hand from a terminal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.test_cli import goodwill

CALENDAR = """\
timezone = "America/Chicago"
[hours]
mon = ["09:00-17:00"]
tue = ["09:00-17:00"]
wed = ["09:00-17:00"]
thu = ["09:00-17:00"]
fri = ["09:00-17:00"]
"""

POLICY = """\
warn_at = 0.75

[[policy]]
name = "standard"
first_response = "8h"
next_response = "1d"

[[policy]]
name = "long-term"
clients = ["C-1042"]
first_response = "4h"
next_response = "4h"

[[critical_window]]
client = "C-1042"
days = "mon-fri"
hours = "08:00-10:00"
timezone = "America/Chicago"
first_response = "30m"
next_response = "30m"
"""


@pytest.fixture
def files(tmp_path: Path) -> tuple[str, str]:
    (tmp_path / "office.toml").write_text(CALENDAR, encoding="utf-8")
    (tmp_path / "sla.toml").write_text(POLICY, encoding="utf-8")
    return str(tmp_path / "office.toml"), str(tmp_path / "sla.toml")


def due(files: tuple[str, str], *args: str) -> dict[str, object]:
    done = goodwill("sla", "due", "--calendar", files[0], "--policy", files[1], *args, "--json")
    assert done.returncode == 0, done.stderr
    report: dict[str, object] = json.loads(done.stdout)
    return report


def test_a_morning_message_from_the_client_is_due_in_thirty_minutes(
    files: tuple[str, str],
) -> None:
    done = goodwill(
        "sla",
        "due",
        "--calendar",
        files[0],
        "--policy",
        files[1],
        "--client",
        "C-1042",
        "--received",
        "2026-03-10T08:20",
    )
    assert done.returncode == 0, done.stderr
    assert "long-term (critical window applied)" in done.stdout
    assert "2026-03-10T13:50:00+00:00 (2026-03-10T08:50:00-05:00 in America/Chicago)" in (
        done.stdout
    )
    assert "2026-03-10T08:42:30-05:00" in done.stdout


def test_the_json_report_gives_the_policy_target_and_instants(files: tuple[str, str]) -> None:
    assert due(files, "--client", "C-1042", "--received", "2026-03-10T08:20-05:00") == {
        "policy": "long-term",
        "kind": "first",
        "critical": True,
        "target_minutes": 30,
        "received_at": "2026-03-10T13:20:00+00:00",
        "due_at": "2026-03-10T13:50:00+00:00",
        "warn_at": "2026-03-10T13:42:30+00:00",
    }
    late = due(files, "--client", "C-1042", "--received", "2026-03-10T11:00")
    assert (late["critical"], late["target_minutes"]) == (False, 240)
    assert late["due_at"] == "2026-03-10T20:00:00+00:00"  # 15:00 in Chicago


def test_another_client_gets_the_default_policy_and_next_counts_a_day(
    files: tuple[str, str],
) -> None:
    report = due(files, "--client", "C-7", "--tier", "gold", "--received", "2026-03-10T11:00")
    assert (report["policy"], report["due_at"]) == ("standard", "2026-03-11T16:00:00+00:00")
    later = due(files, "--client", "C-7", "--received", "2026-03-10T11:00", "--next")
    assert (later["kind"], later["target_minutes"]) == ("next", 1440)


def test_a_wrong_policy_file_is_one_line_naming_the_key(
    files: tuple[str, str], tmp_path: Path
) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text(POLICY.replace('"30m"', '"half an hour"', 1), encoding="utf-8")
    done = goodwill(
        "sla",
        "due",
        "--calendar",
        files[0],
        "--policy",
        str(broken),
        "--client",
        "C-1042",
        "--received",
        "2026-03-10T08:20",
    )
    assert done.returncode == 2
    assert "critical_window[0].first_response" in done.stderr
    assert str(broken) in done.stderr
