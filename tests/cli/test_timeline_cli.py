"""`goodwill client show ID --kind K --limit N`: the timeline in a terminal, a page at a time."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from goodwill.cli.main import app
from goodwill.store.database import open_store
from tests.conftest import NOW
from tests.web.sample import staff_user
from tests.web.timeline_story import STORY, story


def _show(db: str, *args: str) -> tuple[int, str]:
    done = CliRunner().invoke(
        app,
        ["--db", db, "--now", NOW.isoformat(), "client", "show", STORY, *args],
        env={"COLUMNS": "200"},
    )
    return done.exit_code, done.output + str(done.exception or "")


def test_client_show_filters_the_timeline_and_pages_it(sqlite_url: str) -> None:
    with open_store(sqlite_url).begin() as session:
        staff_user(session, now=NOW)
        story(session, now=NOW)
    code, out = _show(sqlite_url, "--kind", "conversations")
    assert code == 0, out
    assert "Timeline: conversations" in out and "→ conversation" in out
    assert "Learned:" not in out
    # The words themselves from --json: the table wraps them to the terminal's width.
    code, out = _show(sqlite_url, "--kind", "conversations", "--json")
    entries = json.loads(out)["timeline"]
    assert "Message from Bram: “Can you resend the invoice?”" in [e["title"] for e in entries]
    assert any(e["by"] == "Anna" for e in entries)
    code, out = _show(sqlite_url, "--kind", "notes", "--limit", "1", "--json")
    page = json.loads(out)
    assert [e["type"] for e in page["timeline"]] == ["note.added"]
    assert page["timeline_kind"] == "notes" and page["timeline_older"]
    code, out = _show(sqlite_url, "--kind", "notes", "--before", page["timeline_older"], "--json")
    assert [e["type"] for e in json.loads(out)["timeline"]] == ["service.interaction"]
    code, out = _show(sqlite_url, "--limit", "3")
    assert "older entries: --before " in out
    code, out = _show(sqlite_url, "--kind", "gossip")
    assert code != 0 and "kind" in out
