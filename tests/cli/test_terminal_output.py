"""Stored text reaches the terminal as text: no Rich markup, no escape sequences."""

from __future__ import annotations

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
