"""Backups taken while another thread writes, restored, on SQLite and PostgreSQL."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from goodwill.errors import InvalidInput, NotFound
from goodwill.settings import Settings
from goodwill.store.backup import backup, inspect, restore
from goodwill.store.database import make_engine
from tests.conftest import NOW
from tests.privacy.people import person


def _ids(url: str) -> set[int]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return set(connection.execute(text("SELECT id FROM partners")).scalars())
    finally:
        engine.dispose()


def test_a_backup_taken_during_writes_restores_every_row_committed_before_it(
    store: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    with store.begin() as session:
        person(session, now=NOW)
    committed: list[int] = []
    stop = threading.Event()
    started = threading.Event()

    def write() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            with store.begin() as session:
                row = session.execute(
                    text("INSERT INTO partners (name, created_at) VALUES (:n, :at) RETURNING id"),
                    {"n": f"partner {n}", "at": NOW.replace(tzinfo=None)},
                ).scalar_one()
            committed.append(int(row))
            if n >= 20:
                started.set()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        assert started.wait(60)
        before = list(committed)
        target = tmp_path / "backup.bin"
        info = backup(settings.database_url, target)
    finally:
        stop.set()
        writer.join(60)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert info.kind == settings.database_url.split(":")[0].split("+")[0]
    # More rows arrive after the backup; a restore brings back the state as of the backup.
    with store.begin() as session:
        session.execute(text("DELETE FROM partners"))
    store.kw["bind"].dispose()
    restored = restore(target, settings.database_url)
    assert restored.revision == info.revision
    found = _ids(settings.database_url)
    assert set(before) <= found
    assert found <= set(committed)
    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM clients")).scalar_one() == 1
            if engine.dialect.name == "sqlite":
                assert connection.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
    finally:
        engine.dispose()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_restore_refuses_what_is_not_a_goodwill_backup(
    store: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    junk = tmp_path / "notes.txt"
    junk.write_text("hello")
    with pytest.raises(InvalidInput, match="not a goodwill backup"):
        inspect(junk, settings.database_url)
    with pytest.raises(NotFound, match="no such file"):
        inspect(tmp_path / "missing.db", settings.database_url)
    target = tmp_path / "copy.db"
    backup(settings.database_url, target)
    import sqlite3

    with sqlite3.connect(target) as connection:
        connection.execute("UPDATE alembic_version SET version_num = 'ffffffffffff'")
    with pytest.raises(InvalidInput, match="ffffffffffff is unknown"):
        restore(target, settings.database_url)
    with pytest.raises(InvalidInput, match="already exists"):
        backup(settings.database_url, target)
