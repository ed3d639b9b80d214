"""Imports the dashboard runs in the background: a dry run to preview a file, then the real one.

An upload is saved under ``settings.upload_dir`` in a directory of its own (a random token),
keeping the browser's file name made safe; one larger than ``imports.max_upload_mb`` is refused
as it is copied, and an upload that will not be imported (refused, failed, cancelled) is
removed. The dry run's progress and summary live here, in memory, under that token: a reload of
the preview page in the same server sees them. The real import records itself in the store as
it starts, and the pages read its progress from there, so any request (another browser, a
reload, another process) sees it. One registry per app, kept on ``app.state``; nothing here
decides anything about the data, that is :func:`goodwill.actions.imports.import_file`'s job.

Cancel stops a running dry run or import at its next row (every row asks); what a real
import's committed chunks wrote stays, and importing the file again completes it. As the
registry is made (the app starting) it marks failed the imports a stopped process left
"running" (:func:`goodwill.store.imports_log.fail_abandoned`).
"""

from __future__ import annotations

import logging
import re
import secrets
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy.orm import Session, sessionmaker

from goodwill.actions.csv_files import Cancelled, limit
from goodwill.actions.imports import import_file
from goodwill.domain.audit import Actor
from goodwill.domain.records import FileKind
from goodwill.errors import GoodwillError, InvalidInput, NotFound
from goodwill.private_files import private_dir, private_file
from goodwill.settings import Settings
from goodwill.store.imports_log import fail_abandoned

log = logging.getLogger(__name__)

#: A preview nobody confirmed or cancelled is forgotten (and its file removed) after this long.
PREVIEW_LIFETIME = timedelta(hours=24)
#: How long confirming waits for the real import to record itself before answering.
START_WAIT_SECONDS = 30.0
#: How long shutting the app down waits for imports still running (they resume safely).
STOP_WAIT_SECONDS = 10.0
_UNSAFE_NAME = re.compile(r"[^\w. -]+")
_UNEXPECTED = "The import stopped on an unexpected error; the server's log has the details."


def safe_file_name(name: str | None) -> str:
    """The browser's file name without folders or odd characters (else ``upload.csv``)."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _UNSAFE_NAME.sub("_", base).strip(" .")[:120]
    return cleaned or "upload.csv"


@dataclass(frozen=True)
class Reading:
    """How a file is read: a named profile, one of goodwill's own kinds, or detection (neither).

    ``title`` names it for people; ``reason`` says why detection chose the profile it found.
    """

    title: str
    profile: str | None = None
    kind: FileKind | None = None
    reason: str | None = None


@dataclass
class Preview:
    """A dry run of one uploaded file, and later the real import it led to."""

    token: str
    path: Path
    file_name: str
    reading: Reading
    user: str
    started_at: datetime
    bytes_done: int = 0
    bytes_total: int = 0
    summary: dict[str, Any] | None = None
    error: str | None = None
    import_id: int | None = None
    cancelled: bool = False
    stop: threading.Event = field(default_factory=threading.Event, repr=False)
    thread: threading.Thread | None = field(default=None, repr=False)
    real: threading.Thread | None = field(default=None, repr=False)
    recorded: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    @property
    def finished(self) -> bool:
        return self.summary is not None or self.error is not None


class ImportJobs:
    """The background imports of one app: previews by token, real imports by their id."""

    def __init__(
        self,
        store: sessionmaker[Session],
        settings: Settings | Callable[[], Settings],
        *,
        now: datetime | None = None,
    ) -> None:
        self._store = store
        self._settings_in_force = settings if callable(settings) else (lambda: settings)
        self._lock = threading.RLock()
        self._previews: dict[str, Preview] = {}
        self._threads: list[threading.Thread] = []
        if now is not None:
            with store.begin() as session:
                fail_abandoned(session, now=now)

    @property
    def _settings(self) -> Settings:
        """The settings in force now (the owner may change the currency while goodwill runs)."""
        return self._settings_in_force()

    def save(self, source: BinaryIO, *, file_name: str | None) -> Path:
        """Copy an upload into a fresh directory of its own under the upload directory,
        refusing one larger than ``imports.max_upload_mb`` (nothing of it is kept)."""
        most = limit(self._settings, "max_upload_mb") * 1024 * 1024
        folder = private_dir(self._settings.upload_dir / secrets.token_urlsafe(16))
        path = private_file(folder / safe_file_name(file_name))
        try:
            copied = 0
            with path.open("wb") as target:
                while chunk := source.read(1 << 20):
                    copied += len(chunk)
                    if most and copied > most:
                        raise InvalidInput(
                            f"{path.name} is larger than the {most >> 20} MB an upload may be "
                            "(the imports.max_upload_mb setting); import it with "
                            "`goodwill import` on the server instead",
                            field="file",
                        )
                    target.write(chunk)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return path

    def discard(self, path: Path) -> None:
        """Remove a saved upload that will not be previewed."""
        shutil.rmtree(path.parent, ignore_errors=True)

    def start_preview(self, path: Path, *, reading: Reading, user: str, now: datetime) -> Preview:
        """Start the dry run of a saved upload; the preview's token names it from now on."""
        self._forget_old(now)
        preview = Preview(
            token=path.parent.name,
            path=path,
            file_name=path.name,
            reading=reading,
            user=user,
            started_at=now,
            bytes_total=path.stat().st_size,
        )
        with self._lock:
            self._previews[preview.token] = preview
        preview.thread = self._spawn(
            f"import-preview-{preview.token[:8]}", self._dry_run, preview, now
        )
        return preview

    def preview(self, token: str) -> Preview:
        with self._lock:
            found = self._previews.get(token)
        if found is None:
            raise NotFound("this preview is gone: upload the file again", token=token)
        return found

    def confirm(self, token: str, *, user: str, now: datetime, actor: Actor) -> int:
        """Start the real import of a finished preview; its import id once it is recorded.

        Confirming twice gives the same import (a double click imports once).
        """
        preview = self.preview(token)
        with self._lock:
            if preview.real is None:
                if preview.running or not preview.finished:
                    raise InvalidInput("the preview is still running: wait for it to finish")
                if preview.error is not None:
                    raise InvalidInput(preview.error)
                preview.real = self._spawn(
                    f"import-{token[:8]}", self._real_run, preview, user, now, actor
                )
            thread = preview.real
        # The import records itself within its first moments; a file refused before that
        # (it changed since the dry run, the store is down) leaves its error instead.
        deadline = time.monotonic() + START_WAIT_SECONDS
        while not preview.recorded.wait(0.05):
            if not thread.is_alive() or time.monotonic() > deadline:
                break
        if preview.import_id is None:
            raise InvalidInput(preview.error or _UNEXPECTED)
        return preview.import_id

    def cancel(self, token: str) -> None:
        """Stop a running dry run or import at its next row, forget the preview and remove its
        file (at once, or as the stopped thread ends). A real import stopped part-way is
        marked failed; what it wrote stays, and importing the file again completes it."""
        preview = self.preview(token)
        with self._lock:
            preview.stop.set()
            self._previews.pop(token, None)
            preview.cancelled = True
            running = preview.running or bool(preview.real and preview.real.is_alive())
        if not running:
            self._remove(preview)

    def cancel_import(self, import_id: int) -> None:
        """Stop the running import ``import_id`` at its next row (see :meth:`cancel`)."""
        with self._lock:
            found = next(
                (
                    p
                    for p in self._previews.values()
                    if p.import_id == import_id and p.real is not None and p.real.is_alive()
                ),
                None,
            )
        if found is None:
            raise InvalidInput(
                f"import {import_id} is not running in this server: it has ended, or another "
                "process runs it",
                import_id=import_id,
            )
        self.cancel(found.token)

    def close(self) -> None:
        """At shutdown: give running imports a moment to finish their chunk."""
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(STOP_WAIT_SECONDS)

    # -- the threads -------------------------------------------------------------------------

    def _spawn(self, name: str, target: Callable[..., None], *args: Any) -> threading.Thread:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()
        return thread

    def _dry_run(self, preview: Preview, now: datetime) -> None:
        def progress(done: int, total: int) -> None:
            preview.bytes_done, preview.bytes_total = done, total

        try:
            summary = import_file(
                self._store,
                self._settings,
                preview.reading.kind,
                preview.path,
                now=now,
                profile=preview.reading.profile,
                dry_run=True,
                user=preview.user,
                on_progress=progress,
                should_stop=preview.stop.is_set,
            )
        except Cancelled:
            log.info("the dry run of preview %s was cancelled", preview.token[:8])
            preview.error = "Cancelled."
        except GoodwillError as error:
            preview.error = self._words(error, preview)
        except Exception:
            log.exception("the dry run of preview %s failed", preview.token[:8])
            preview.error = _UNEXPECTED
        else:
            preview.summary = summary.as_dict()
            preview.bytes_done = preview.bytes_total
        if preview.cancelled or preview.error is not None:
            self._remove(preview)  # a file that cannot be imported is not kept

    def _real_run(self, preview: Preview, user: str, now: datetime, actor: Actor) -> None:
        def on_start(import_id: int) -> None:
            preview.import_id = import_id
            preview.recorded.set()

        try:
            summary = import_file(
                self._store,
                self._settings,
                preview.reading.kind,
                preview.path,
                now=now,
                profile=preview.reading.profile,
                user=user,
                actor=actor,
                on_start=on_start,
                should_stop=preview.stop.is_set,
            )
            log.info("import %s from the dashboard finished", summary.import_id)
        except GoodwillError as error:
            if preview.import_id is None:
                preview.error = self._words(error, preview)
            log.info("import %s from the dashboard refused: %s", preview.import_id, error.code)
        except Exception:
            log.exception("import %s from the dashboard failed", preview.import_id)
        finally:
            self._remove(preview)

    # -- files -------------------------------------------------------------------------------

    def _words(self, error: GoodwillError, preview: Preview) -> str:
        """The error's message naming the file as the user knows it, not where it was saved."""
        return error.message.replace(str(preview.path), preview.file_name)

    def _remove(self, preview: Preview) -> None:
        shutil.rmtree(preview.path.parent, ignore_errors=True)

    def _forget_old(self, now: datetime) -> None:
        with self._lock:
            old = [
                p
                for p in self._previews.values()
                if not p.running
                and not (p.real and p.real.is_alive())
                and now - p.started_at > PREVIEW_LIFETIME
            ]
            for p in old:
                del self._previews[p.token]
        for p in old:
            self._remove(p)
