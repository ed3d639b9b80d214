"""Backups that are consistent while goodwill runs, and restoring them.

SQLite: the online backup API (``sqlite3.Connection.backup``) copies the database page by page
under SQLite's own locking, so the copy is one consistent state even with writers busy; the file
is created 0600. PostgreSQL: ``pg_dump -Fc`` (a consistent snapshot by design), when it is
installed. Restoring first checks the file is a goodwill backup of a schema this version can
migrate (its Alembic revision is one goodwill knows), then brings it back and upgrades it to head.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Engine
from sqlalchemy.engine import URL, make_url

from goodwill.errors import ConfigError, InvalidInput, NotFound
from goodwill.store.database import alembic_config, make_engine, upgrade

log = logging.getLogger(__name__)

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"
_REVISION = re.compile(r"^\s*([0-9A-Za-z_]{1,64})\s*$", re.MULTILINE)


@dataclass(frozen=True)
class BackupInfo:
    """What a backup file holds: its kind (sqlite or postgresql) and schema revision."""

    kind: str
    revision: str
    path: Path


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise ConfigError("an in-memory SQLite database cannot be backed up or restored")
    return Path(url.database).expanduser()


def _pg_tool(name: str) -> str:
    """``pg_dump`` or ``pg_restore`` from PATH, else from the newest PostgreSQL install."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True)
    if candidates:
        return str(candidates[0])
    raise ConfigError(
        f"{name} is not installed: install the PostgreSQL client tools "
        f"(e.g. apt install postgresql-client) to back up or restore a PostgreSQL database"
    )


def _pg_args(url: URL) -> tuple[list[str], dict[str, str]]:
    """Connection options for the libpq tools; the password goes in the environment."""
    args = ["--dbname", str(url.database or "")]
    if url.host:
        args += ["--host", url.host]
    if url.port:
        args += ["--port", str(url.port)]
    if url.username:
        args += ["--username", url.username]
    env = {**os.environ}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return args, env


def _create_private(path: Path) -> None:
    """Create ``path`` empty with mode 0600; refuse to overwrite an existing file."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise InvalidInput(
            f"{path}: already exists; choose a new file name", file=str(path)
        ) from exc
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot create: {exc.strerror}", file=str(path)) from exc
    os.close(fd)


def backup(database_url: str, target: Path) -> BackupInfo:
    """Write a consistent copy of the database at ``database_url`` to ``target`` (a new file)."""
    url = make_url(database_url)
    engine = make_engine(database_url)
    try:
        revision = _live_revision(engine)
    finally:
        engine.dispose()
    _create_private(target)
    try:
        if url.get_backend_name() == "sqlite":
            _sqlite_backup(_sqlite_path(url), target)
            kind = "sqlite"
        elif url.get_backend_name() == "postgresql":
            _pg_dump(url, target)
            kind = "postgresql"
        else:
            raise ConfigError(f"backups of {url.get_backend_name()} databases are not supported")
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    log.info("backed up the database (%s, schema %s)", kind, revision)
    return BackupInfo(kind=kind, revision=revision, path=target)


def _live_revision(engine: Engine) -> str:
    from goodwill.store.database import schema_revision

    revision = schema_revision(engine)
    if revision is None:
        raise NotFound("the database has no goodwill schema yet (run goodwill init)")
    return revision


def _sqlite_backup(source: Path, target: Path) -> None:
    if not source.is_file():
        raise NotFound(f"{source}: no such database file", file=str(source))
    src = sqlite3.connect(source, timeout=30)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")
        finally:
            dst.close()
    finally:
        src.close()


def _pg_dump(url: URL, target: Path) -> None:
    args, env = _pg_args(url)
    result = subprocess.run(
        [_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(target), *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if result.returncode != 0:
        raise ConfigError(f"pg_dump failed: {_first_line(result.stderr)}")
    os.chmod(target, 0o600)


def _first_line(text: str) -> str:
    return next((line for line in text.splitlines() if line.strip()), "no message")


def inspect(path: Path, database_url: str) -> BackupInfo:
    """Check ``path`` is a goodwill backup this version can restore; raises InvalidInput naming
    the file and what is wrong otherwise."""
    if not path.is_file():
        raise NotFound(f"{path}: no such file", file=str(path))
    with path.open("rb") as handle:
        head = handle.read(16)
    if head.startswith(SQLITE_MAGIC):
        kind, revision = "sqlite", _sqlite_revision(path)
    elif head.startswith(PGDUMP_MAGIC):
        kind, revision = "postgresql", _pg_revision(path)
    else:
        raise InvalidInput(
            f"{path}: not a goodwill backup (neither SQLite nor pg_dump)", file=str(path)
        )
    backend = make_url(database_url).get_backend_name()
    if backend != kind:
        raise InvalidInput(
            f"{path}: a {kind} backup cannot be restored into a {backend} database", file=str(path)
        )
    engine = make_engine(database_url)
    try:
        scripts = ScriptDirectory.from_config(alembic_config(engine))
    finally:
        engine.dispose()
    try:
        known = scripts.get_revision(revision) is not None
    except CommandError:
        known = False
    if not known:
        raise InvalidInput(
            f"{path}: its schema revision {revision} is unknown to this goodwill "
            "(made by a newer version?); restore it with that version",
            file=str(path),
        )
    return BackupInfo(kind=kind, revision=revision, path=path)


def _sqlite_revision(path: Path) -> str:
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            check = connection.execute("PRAGMA quick_check").fetchone()
            row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
            connection.execute("SELECT count(*) FROM clients").fetchone()
        finally:
            connection.close()
    except sqlite3.DatabaseError as exc:
        raise InvalidInput(f"{path}: not a goodwill backup ({exc})", file=str(path)) from exc
    if check is None or check[0] != "ok":
        raise InvalidInput(f"{path}: the backup is damaged ({check})", file=str(path))
    if row is None:
        raise InvalidInput(f"{path}: not a goodwill backup (no schema revision)", file=str(path))
    return str(row[0])


def _pg_revision(path: Path) -> str:
    result = subprocess.run(
        [
            _pg_tool("pg_restore"),
            "--data-only",
            "--table",
            "alembic_version",
            "--file",
            "-",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise InvalidInput(f"{path}: not a readable pg_dump archive: {_first_line(result.stderr)}")
    data = result.stdout.split("FROM stdin;", 1)
    match = _REVISION.search(data[1]) if len(data) == 2 else None
    if match is None:
        raise InvalidInput(f"{path}: not a goodwill backup (no schema revision)", file=str(path))
    return match.group(1)


def restore(path: Path, database_url: str) -> BackupInfo:
    """Bring back the backup at ``path`` into the database at ``database_url``, replacing what it
    holds, then upgrade it to this version's schema. Checks the file first (:func:`inspect`)."""
    info = inspect(path, database_url)
    url = make_url(database_url)
    if info.kind == "sqlite":
        target = _sqlite_path(url)
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            _create_private(target)
        src = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            dst = sqlite3.connect(target, timeout=30)
            try:
                src.backup(dst)
            finally:
                dst.close()
        finally:
            src.close()
    else:
        args, env = _pg_args(url)
        result = subprocess.run(
            [
                _pg_tool("pg_restore"),
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                *args,
                str(path),
            ],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        if result.returncode != 0:
            raise ConfigError(f"pg_restore failed: {_first_line(result.stderr)}")
    engine = make_engine(database_url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    log.info("restored a %s backup (schema %s)", info.kind, info.revision)
    return info


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to a new file readable by its owner only (an export, a copy)."""
    _create_private(path)
    path.write_bytes(data)
