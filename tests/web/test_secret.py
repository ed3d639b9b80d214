"""The session signing key: configured, or generated once and kept private beside the database."""

from __future__ import annotations

import stat
from pathlib import Path

from goodwill.settings import load_settings
from goodwill.web import secret_key
from goodwill.web.secret import KEY_FILE


def test_a_configured_secret_key_is_used_as_is(sqlite_url: str, tmp_path: Path) -> None:
    settings = load_settings(database_url=sqlite_url, environ={"GOODWILL_SECRET_KEY": "abc"})
    assert secret_key(settings) == "abc"
    assert not (tmp_path / KEY_FILE).exists()


def test_a_missing_key_is_generated_once_next_to_the_database_with_mode_600(
    sqlite_url: str, tmp_path: Path
) -> None:
    settings = load_settings(database_url=sqlite_url, environ={})
    first = secret_key(settings)
    path = tmp_path / KEY_FILE
    assert path.exists()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) >= 40
    assert secret_key(settings) == first
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
