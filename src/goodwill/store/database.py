"""Opening the store: the engine with the right SQLite pragmas, the schema brought up to date."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from goodwill.errors import ConfigError
from goodwill.private_files import FILE_MODE, private_dir
from goodwill.setting_tables import DATABASE_DEFAULTS

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"


def make_engine(url: str, options: Mapping[str, Any] | None = None) -> Engine:
    """An engine for ``url``; SQLite files get WAL, foreign keys and a busy timeout.

    ``options`` is the ``database`` setting (pool size and overflow, how many seconds to wait
    for a pooled connection and for SQLite's write lock); missing keys take their defaults.
    Waits are short on purpose: a caller that cannot get the store soon says so (the web app
    answers 503) instead of stacking up behind it.
    """
    chosen = {**DATABASE_DEFAULTS, **(options or {})}
    try:
        parsed = make_url(url)
    except Exception as exc:  # SQLAlchemy raises ArgumentError with a terse message
        raise ConfigError(f"not a database URL: {url!r}") from exc
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    pool: dict[str, Any] = {
        "pool_size": int(chosen["pool_size"]),
        "max_overflow": int(chosen["max_overflow"]),
        "pool_timeout": float(chosen["pool_timeout"]),
    }
    if parsed.drivername.startswith("sqlite"):
        busy = float(chosen["busy_timeout"])
        path = None
        if parsed.database and parsed.database != ":memory:":
            path = Path(parsed.database).expanduser()
            private_dir(path.parent)
        else:
            pool = {}  # one in-memory database per connection: no queue to size
        engine = create_engine(parsed, connect_args={"timeout": busy}, **pool)
        if path is not None:
            event.listen(engine, "connect", partial(_private_database, path=path))
        event.listen(engine, "connect", partial(_sqlite_pragmas, busy_ms=int(busy * 1000)))
        return engine
    connect: dict[str, Any] = {}
    if "options" not in parsed.query:
        # A page's statements take milliseconds; PostgreSQL compiles one it prices high (JIT)
        # in 10 ms and more, longer than running it. The long reads (insights on a cold cache)
        # measured no faster with it. A URL naming its own ``options`` decides for itself.
        connect["options"] = "-c jit=off"
    return create_engine(parsed, pool_pre_ping=True, connect_args=connect, **pool)


def _private_database(_connection: Any, _record: Any, *, path: Path) -> None:
    """The database file is the owner's alone (0600), made so as SQLite opens it and before the
    WAL exists: SQLite gives the -wal and -shm files the database file's mode."""
    if path.is_file() and stat.S_IMODE(path.stat().st_mode) != FILE_MODE:
        try:
            os.chmod(path, FILE_MODE)
        except PermissionError:  # a database another account owns: its owner decides
            log.warning("cannot make the database file private: it belongs to another account")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any, *, busy_ms: int) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={busy_ms:d}")
    cursor.close()


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def schema_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision(engine: Engine) -> str | None:
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def upgrade(engine: Engine) -> bool:
    """Create or upgrade the schema to the newest revision; True when anything was applied."""
    if schema_revision(engine) == head_revision(engine):
        return False
    log.info("upgrading schema to %s", head_revision(engine))
    command.upgrade(alembic_config(engine), "head")
    return True


def open_store(
    url: str, *, migrate: bool = True, options: Mapping[str, Any] | None = None
) -> sessionmaker[Session]:
    """A session factory on an up-to-date schema (applied on first use); ``options``: the
    ``database`` setting (see :func:`make_engine`)."""
    engine = make_engine(url, options)
    if migrate:
        upgrade(engine)
    return sessionmaker(engine, expire_on_commit=False)
