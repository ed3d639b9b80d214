"""The key that signs session cookies and tracked links: configured, or generated once and kept
on disk.

A key that changed on every start would log every user out at each restart, so an unconfigured
installation gets one random key, written once (mode 0600) and read back afterwards.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from sqlalchemy.engine import make_url

from goodwill.private_files import private_dir
from goodwill.settings import Settings, data_dir

log = logging.getLogger(__name__)

KEY_FILE = "goodwill-secret-key"


def secret_key(settings: Settings) -> str:
    """``settings.secret_key``, else the key kept next to the SQLite file (or in the data dir)."""
    if settings.secret_key:
        return settings.secret_key
    path = key_path(settings)
    if not path.exists():
        _create(path)
    key = path.read_text(encoding="utf-8").strip()
    if not key:
        raise RuntimeError(f"{path} is empty; delete it to have a new key generated")
    return key


def key_path(settings: Settings) -> Path:
    """Where the generated key lives: beside a SQLite database file, else in the data dir."""
    url = make_url(settings.database_url)
    database = url.database or ""
    if (
        url.drivername.startswith("sqlite")
        and database
        and database != ":memory:"
        and not database.startswith("file:")
    ):
        return Path(database).expanduser().resolve().parent / KEY_FILE
    return data_dir() / KEY_FILE


def _create(path: Path) -> None:
    """Write a new key atomically: a private temporary file, then a hard link that fails if another
    process won the race (the winner's key is then the one read back)."""
    private_dir(path.parent)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(secrets.token_urlsafe(48) + "\n")
        try:
            os.link(temporary, path)
            log.info("generated a new session signing key in %s", path)
        except FileExistsError:
            pass
    finally:
        temporary.unlink(missing_ok=True)
