"""The command line answers at once and explains a mistake in one line, run as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from goodwill.cli.main import AFTER_COMMAND, command

GOODWILL = str(Path(sys.executable).parent / "goodwill")
HEAVY = ("numpy", "scipy", "sqlalchemy", "fastapi")


def goodwill(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [GOODWILL, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "COLUMNS": "200", **env},
    )


def command_paths() -> list[list[str]]:
    paths: list[list[str]] = []

    def walk(group: Any, path: list[str]) -> None:
        for name, sub in getattr(group, "commands", {}).items():
            paths.append([*path, name])
            walk(sub, [*path, name])

    walk(command(), [])
    return paths


def imported(stderr: str) -> set[str]:
    """Top-level packages named in PYTHONPROFILEIMPORTTIME's lines."""
    names = set()
    for line in stderr.splitlines():
        if line.startswith("import time:") and line.count("|") == 2:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return names


@pytest.mark.parametrize(
    "args", [["--help"], ["--version"], ["engine", "run", "--help"], ["import", "--help"]]
)
def test_help_and_version_import_neither_numpy_scipy_sqlalchemy_nor_fastapi(
    args: list[str],
) -> None:
    result = goodwill(*args, PYTHONPROFILEIMPORTTIME="1")
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip()
    loaded = imported(result.stderr)
    assert "typer" in loaded  # the probe sees imports at all
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))


def test_every_commands_help_imports_neither_numpy_scipy_sqlalchemy_nor_fastapi() -> None:
    paths = command_paths()
    assert len(paths) > 40
    probe = (
        "import contextlib, io, json, sys\n"
        "from goodwill.cli.main import command\n"
        "for path in json.loads(sys.argv[1]):\n"
        "    with contextlib.redirect_stdout(io.StringIO()) as shown:\n"
        "        code = command().main([*path, '--help'], 'goodwill', standalone_mode=False)\n"
        "    assert code == 0 and 'Usage' in shown.getvalue(), (path, code)\n"
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, json.dumps(paths)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout) == []


@pytest.mark.parametrize(
    ("args", "what"),
    [
        (["bogus"], "No such command 'bogus'"),
        (["import"], "Missing FILE"),
        (["import", "purchases"], "Missing argument"),
        (["engine", "run", "--now", "X"], "'--now': 'X' is not a date"),
        (["--now", "tomorrowish", "engine", "run"], "'--now': 'tomorrowish' is not a date"),
        (["followup", "done", "2"], "Missing option '--outcome'"),
        (["followup", "done", "two", "--outcome", "called"], "'ID'"),
        (["clients", "--limit", "many"], "'--limit'"),
        (["clients", "--bogus"], "No such option: --bogus"),
        (["user", "add", "--email"], "Option '--email' requires an argument"),
    ],
)
def test_a_usage_error_is_the_usage_line_and_one_line_saying_what_is_wrong(
    args: list[str], what: str
) -> None:
    result = goodwill(*args)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stdout == ""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 2, result.stderr
    usage, error = lines
    assert usage.startswith("Usage: goodwill")
    assert error.startswith("error: ")
    assert what in error
    assert error.endswith("--help'.")


def test_now_and_db_are_accepted_after_the_command_as_before_it(sqlite_url: str) -> None:
    before = goodwill("--db", sqlite_url, "--now", "2026-01-01T09:00Z", "insights", "--json")
    after = goodwill("insights", "--json", "--db", sqlite_url, "--now", "2026-01-01T09:00Z")
    assert before.returncode == 0 and after.returncode == 0, before.stderr + after.stderr
    assert json.loads(after.stdout)["weeks"] == json.loads(before.stdout)["weeks"]
    assert json.loads(after.stdout)["weeks"][-1] == "2025-12-29"  # the week of 2026-01-01

    ran = goodwill("engine", "run", "--now", "2026-01-01T09:00Z", "--json", "--db", sqlite_url)
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["created"] == 0
    # The last one given wins, as with any repeated option.
    later = goodwill(
        "--db", sqlite_url, "--now", "2020-05-05", "insights", "--json", "--now", "2026-01-01"
    )
    assert json.loads(later.stdout)["weeks"][-1] == "2025-12-29", later.stderr


def test_config_is_read_when_it_follows_the_command(tmp_path: Path, sqlite_url: str) -> None:
    config = tmp_path / "goodwill.toml"
    config.write_text('timezone = "Mars/Olympus"\n', "utf-8")
    done = goodwill("clients", "--db", sqlite_url, "--config", str(config))
    assert done.returncode == 2
    assert "goodwill.toml: timezone 'Mars/Olympus'" in done.stderr


def test_no_command_has_an_option_named_like_a_global_one() -> None:
    root = command()
    globals_ = {opt for p in root.params if p.name in AFTER_COMMAND for opt in p.opts}

    def own_options(group: Any) -> list[tuple[str, str]]:
        found = []
        for name, sub in getattr(group, "commands", {}).items():
            for param in sub.params:
                if param.expose_value:  # the copies of the global options are not exposed
                    found += [(name, opt) for opt in param.opts if opt in globals_]
            found += own_options(sub)
        return found

    assert own_options(root) == []


def test_the_choices_written_out_for_help_are_the_stores() -> None:
    from goodwill.analysis.clv_report import REPORT_MODELS
    from goodwill.cli import clv, feedback, insights, mail, users
    from goodwill.mail.smtpd import WORKERS
    from goodwill.store.feedback import CHANNELS
    from goodwill.store.insights import DEFAULT_WEEKS
    from goodwill.store.staff import ROLES

    assert users.ROLES == ROLES
    assert feedback.CHANNELS == CHANNELS
    assert clv.REPORT_MODELS == REPORT_MODELS
    assert insights.DEFAULT_WEEKS == DEFAULT_WEEKS
    assert mail.WORKERS == WORKERS


def test_a_group_without_its_command_shows_its_help() -> None:
    result = goodwill("user")
    assert "Traceback" not in result.stderr
    assert result.stderr.strip() == ""
    assert "calendar-link" in result.stdout
    assert result.returncode in (0, 2)  # 2 from click 8.2 on, as for any command left unfinished


def test_each_command_word_is_added_by_the_module_the_map_names() -> None:
    from goodwill.cli.main import GROUPS, MODULES, REGISTERED, build, command_word, module_of

    every = set(command().commands)
    named = {"init", *GROUPS.values(), *(w for words in REGISTERED.values() for w in words)}
    assert every == named
    for module in MODULES:
        alone = set(typer_command(build((module,))).commands) - {"init"}
        assert {module_of(word) for word in alone} == {module}, module
    # built again and again in one process, no group gains a command twice
    from goodwill.cli.clients import client_app

    build()
    added = [c.callback for c in client_app.registered_commands]
    assert len(added) == len(set(added)) > 10
    assert command_word(["--db", "sqlite:///x.db", "--now", "2026-01-01", "-v", "clv", "fit"]) == (
        "clv"
    )
    assert command_word(["--config", "clients", "today"]) == "today"  # a value, not the word
    assert command_word(["--help", "clv"]) is None
    assert command_word([]) is None


def typer_command(app: Any) -> Any:
    import typer

    return typer.main.get_command(app)


def test_a_command_loads_its_own_module_of_the_command_line_alone() -> None:
    probe = (
        "import json, sys\n"
        "from goodwill.cli.main import run\n"
        "sys.argv = ['goodwill', '--now', '2026-01-01T09:00Z', 'clv', 'fit', '--help']\n"
        "try:\n"
        "    run()\n"
        "except SystemExit as exc:\n"
        "    assert exc.code == 0, exc.code\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('goodwill.cli.'))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "--summary" in result.stdout
    loaded = set(json.loads(result.stdout.strip().splitlines()[-1]))
    assert "goodwill.cli.clv" in loaded
    assert loaded.isdisjoint({"goodwill.cli.inbox", "goodwill.cli.engine", "goodwill.cli.audit"})
    # help without a command still lists every command
    listed = goodwill("--help").stdout
    assert all(word in listed for word in ("inbox", "engine", "clv", "audit", "today"))
