"""Stored text reaches the terminal as text: no Rich markup, no escape sequences."""

from __future__ import annotations

import json
import re
from pathlib import Path

from goodwill.cli.terminal import shown, without_controls
from tests.cli.test_cli import goodwill

HOSTILE = "[bold red]x[/] \x1b[2J"


def test_an_imported_name_cannot_restyle_or_clear_the_terminal(
    tmp_path: Path, sqlite_url: str
) -> None:
    clients = tmp_path / "c.csv"
    clients.write_text(
        f'client_id,name,email\nC-1,"{HOSTILE}",x@example.com\n', "utf-8", newline=""
    )
    assert goodwill("import", "clients", str(clients), db=sqlite_url).returncode == 0
    stored = goodwill("clients", "--json", db=sqlite_url).stdout
    assert "[bold red]x[/] \\u001b[2J" in stored  # kept as imported; JSON escapes it
    for args in (("clients",), ("client", "show", "C-1")):
        run = goodwill(*args, db=sqlite_url, env={"FORCE_COLOR": "1", "TERM": "xterm"})
        assert run.returncode == 0, run.stderr
        assert "\x1b[2J" not in run.stdout
        assert "[bold red]x[/] [2J" in _unstyled(run.stdout), run.stdout


def _unstyled(text: str) -> str:
    """The output without the SGR sequences Rich adds for its own styling."""
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def test_shown_escapes_markup_and_drops_control_characters() -> None:
    assert shown(HOSTILE) == "\\[bold red]x\\[/] [2J"
    assert without_controls("a\tb\nc\x07\x9b\x1b") == "a\tb\nc"
    assert shown(None) == ""


def test_hostile_stored_text_shows_literally_in_every_listing(
    tmp_path: Path, sqlite_url: str
) -> None:
    from datetime import UTC, datetime

    from goodwill.actions.inbox import receive
    from goodwill.settings import load_settings
    from goodwill.store.database import open_store
    from tests.cli.test_inbox_cli import message

    clients = tmp_path / "[bold red]x \x1b[2J.csv"  # a file name cannot hold the "/"
    clients.write_text(
        f'client_id,name,email\nC-1,"{HOSTILE}",dana@example.com\n', "utf-8", newline=""
    )
    rows = "".join(
        f"R{k}-{i},R{k},2025-{i:02d}-{1 + k % 20:02d},30\n" for k in range(35) for i in range(1, 13)
    )
    rows += "".join(f"M{i},C-1,2025-{i:02d}-05,80\n" for i in range(1, 13))
    rows += "".join(f"N{i},C-1,2026-{i:02d}-05,80\n" for i in range(1, 10))
    purchases = tmp_path / "o.csv"
    purchases.write_text("order_id,client_id,occurred_at,amount\n" + rows, "utf-8")
    for kind, path in (("clients", clients), ("purchases", purchases)):
        assert goodwill("import", kind, str(path), db=sqlite_url).returncode == 0
    opened = goodwill(
        "incident", "open", "--client", "C-1", "--what", HOSTILE, "--cause", HOSTILE,
        "--by", "ana@example.com", "--json", db=sqlite_url,
    )  # fmt: skip
    assert opened.returncode == 0, opened.stderr
    incident_id = str(json.loads(opened.stdout)["id"])
    config = tmp_path / "goodwill.toml"
    config.write_text('[mail]\nfrom_address = "care@roastery.example"\n', encoding="utf-8")
    settings = load_settings(database_url=sqlite_url, config_path=config, environ={})
    at = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    mail = message("h1@example.com", f"{HOSTILE}\n")
    receive(open_store(sqlite_url), settings, mail, source="smtp", now=at)

    history = goodwill("import", "history", db=sqlite_url, env={"FORCE_COLOR": "1"})
    assert "\x1b[2J" not in history.stdout
    assert "[bold red]x [2J.csv" in _unstyled(history.stdout), history.stdout
    for args in (
        ("incident", "list"),
        ("incident", "show", incident_id),
        ("cadence", "overdue", "--as-of", "2026-11-23"),
        ("inbox", "--messages"),
    ):
        run = goodwill(
            *args, db=sqlite_url, config=config, env={"FORCE_COLOR": "1", "TERM": "xterm"}
        )
        assert run.returncode == 0, run.stderr
        assert "\x1b[2J" not in run.stdout, args
        # lower(): an incident's cause is kept lower-cased
        assert "[bold red]x[/] [2j" in _unstyled(run.stdout).lower(), (args, run.stdout)
