"""Maildir polling: a folder a local mail server (Postfix, Dovecot, fetchmail) delivers into.

Messages in ``new/``, and those in ``cur/`` not yet flagged seen (``S``), are handed to
:func:`~goodwill.actions.inbox.receive`; once stored, each is moved to ``cur/`` with the ``S``
flag, so the next poll skips it. A message that fails to store stays where it was and is tried
again on the next poll; a crash between storing and moving reads it again, and the unique
Message-ID keeps one copy.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from goodwill.actions.inbox import receive
from goodwill.errors import ConfigError
from goodwill.mail.poll import PollReport
from goodwill.settings import Settings

log = logging.getLogger(__name__)

#: Separates a Maildir file's unique name from its info (``:2,FLAGS``).
INFO = ":2,"


def maildir_path(settings: Settings, path: Path | None = None) -> Path:
    """``path``, else the ``mail.maildir`` setting; it must have ``new/`` and ``cur/``."""
    found = path or (Path(settings.mail["maildir"]) if settings.mail.get("maildir") else None)
    if found is None:
        raise ConfigError("set mail.maildir or give a Maildir path", key="mail.maildir")
    found = found.expanduser()
    if not ((found / "new").is_dir() and (found / "cur").is_dir()):
        raise ConfigError(f"{found}: not a Maildir (no new/ and cur/)", key="mail.maildir")
    return found


def poll_maildir(
    store: sessionmaker[Session],
    settings: Settings,
    path: Path,
    *,
    clock: Callable[[], datetime],
) -> PollReport:
    """Store the Maildir's unseen messages, oldest first, and mark each seen once stored."""
    report = PollReport()
    for file in unseen(path):
        try:
            raw = file.read_bytes()
        except FileNotFoundError:  # another reader moved it meanwhile
            continue
        try:
            received = receive(store, settings, raw, source="maildir", now=clock())
        except SQLAlchemyError:
            log.exception("maildir: %s not stored; it stays for the next poll", file.name)
            report.errors += 1
            continue
        report.count(received.status)
        _mark_seen(path, file)
        log.info("maildir: %s is inbound %s", file.name, received.inbound_id)
    return report


def unseen(path: Path) -> Iterator[Path]:
    """The messages the next poll files: those in ``new/``, and those in ``cur/`` not seen."""
    for sub in ("new", "cur"):
        # Unique names start with the delivery time in seconds: sorting keeps arrival order.
        for name in sorted(os.listdir(path / sub)):
            if name.startswith("."):
                continue
            if sub == "cur" and "S" in _flags(name):
                continue
            yield path / sub / name


def _flags(name: str) -> str:
    return name.split(INFO, 1)[1] if INFO in name else ""


def _mark_seen(path: Path, file: Path) -> None:
    base = file.name.split(INFO, 1)[0]
    flags = "".join(sorted(set(_flags(file.name)) | {"S"}))
    try:
        os.replace(file, path / "cur" / f"{base}{INFO}{flags}")
    except FileNotFoundError:
        log.warning("maildir: %s was moved before it could be marked seen", file.name)
