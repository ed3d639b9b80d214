"""`goodwill demo` as people run it: its own database file per run, a shop's words for an "other"
business, the client count the README gives, and no warnings in its output."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from goodwill.cli.serve import demo_database
from tests.cli.test_cli import GOODWILL, NOW, goodwill

ROOT = Path(__file__).resolve().parent.parent.parent


def _data_home(tmp_path: Path) -> dict[str, str]:
    return {"XDG_DATA_HOME": str(tmp_path / "data")}


def _file(output: str) -> str:
    found = re.search(r"demo business ready in sqlite:///(\S+):", output)
    assert found, output
    return found.group(1)


def test_two_demos_at_once_each_build_their_own_database(tmp_path: Path) -> None:
    env = {**os.environ, "COLUMNS": "200", **_data_home(tmp_path)}
    command = [GOODWILL, "--now", NOW, "demo", "--no-serve", "--clients", "20"]
    runs = [
        subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=300) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], [err for _, err in outputs]
    files = [_file(out) for out, _ in outputs]
    assert files[0] != files[1]
    assert all("this demo's own file" in out for out, _ in outputs)
    for file in files:
        listed = goodwill("clients", "--json", "--limit", "1", db=f"sqlite:///{file}")
        assert json.loads(listed.stdout)["total"] == 21


def test_a_demo_removes_the_files_of_stopped_demos_and_keeps_a_running_ones(
    tmp_path: Path,
) -> None:
    stopped = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                             capture_output=True, text=True, check=True)  # fmt: skip
    gone = tmp_path / f"demo-{int(stopped.stdout)}.db"
    running = tmp_path / f"demo-{os.getpid()}.db"
    other = tmp_path / "demo-notes.db"
    for path in (gone, Path(f"{gone}-wal"), running, other):
        path.write_text("x")
    mine = demo_database(tmp_path, pid=os.getpid() + 1)
    assert mine == tmp_path / f"demo-{os.getpid() + 1}.db"
    assert not gone.exists() and not Path(f"{gone}-wal").exists()
    assert running.exists() and other.exists()


def test_an_other_business_kind_runs_the_demo_as_a_shop(tmp_path: Path) -> None:
    config = tmp_path / "goodwill.toml"
    config.write_text('business_kind = "other"\n', "utf-8")
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    built = goodwill("demo", "--no-serve", "--clients", "20", db=url, config=config)
    assert built.returncode == 0, built.stderr
    incidents = json.loads(goodwill("incident", "list", "--json", db=url, config=config).stdout)
    cafe = next(i for i in incidents if i["client"] == "C-0002")
    shown = json.loads(
        goodwill("incident", "show", str(cafe["id"]), "--json", db=url, config=config).stdout
    )
    offered = [o["name"] for o in shown["options"]]
    assert "lend a grinder or machine while theirs is repaired" in offered


def test_the_demo_lists_the_clients_the_readme_says_and_warns_of_nothing(tmp_path: Path) -> None:
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    listed = re.search(r"so (\d+) in the list", readme)
    assert listed
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    built = goodwill("demo", "--no-serve", db=url)
    assert built.returncode == 0, built.stderr
    clients = json.loads(goodwill("clients", "--json", "--limit", "1", db=url).stdout)
    assert clients["total"] == int(listed.group(1))
    assert "WARNING" not in built.stdout + built.stderr
