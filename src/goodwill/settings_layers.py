"""Settings the owner saves on the settings page, laid under the file and the environment.

The file still wins, so a deployment kept in version control stays reproducible: a value the
file (or an environment variable) sets is shown on the page with where it comes from, and a
page value for it is kept but has no effect. :class:`LiveSettings` is how a long-running
process (the web app, a worker) sees a saved change without a restart.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

from sqlalchemy.orm import Session, sessionmaker

from goodwill.errors import ConfigError
from goodwill.settings import (
    ENV_BUSINESS_KIND,
    PAGE_DOCUMENTS,
    PAGE_KEYS,
    Layers,
    Settings,
    build_settings,
)

log = logging.getLogger(__name__)

Source = Literal["default", "page", "file", "environment"]

#: The label page values carry in error messages, where a file's path would be.
PAGE_LABEL = Path("settings page")

#: Settings taken from an environment variable before the file: dotted key -> variable.
FROM_ENVIRONMENT: Mapping[str, str] = {
    "business_kind": ENV_BUSINESS_KIND,
    "mail.smtp_password": "GOODWILL_SMTP_PASSWORD",
    "mail.imap_password": "GOODWILL_IMAP_PASSWORD",
}


def _layers_of(settings: Settings) -> Layers:
    """What ``settings`` were built from. A value set in code after the build (the demo's
    trade and time zone, a test's signing key) counts as written in the file, so a page value
    never undoes it."""
    layers = settings.layers or Layers({}, {}, settings.database_url, PAGE_LABEL, False)
    try:
        rebuilt = build_settings(layers, settings.page)
    except ConfigError:
        rebuilt = Settings(database_url=settings.database_url)
    given: dict[str, Any] = dict(layers.file)
    for spec in dataclasses.fields(Settings):
        if spec.name in ("page", "layers", "config_path", "database_url"):
            continue
        value = getattr(settings, spec.name)
        if value != getattr(rebuilt, spec.name):
            given[spec.name] = _as_file_value(value)
    if given == layers.file:
        return layers
    return dataclasses.replace(layers, file=given, database_url=settings.database_url)


def _as_file_value(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Mapping):
        return {k: _as_file_value(v) for k, v in value.items() if v is not None}
    if isinstance(value, tuple):
        return [_as_file_value(v) for v in value]
    return value


def with_page(settings: Settings, page: Mapping[str, Any]) -> Settings:
    """``settings`` with ``page`` laid under the file (raises ConfigError when they clash)."""
    if not page and not settings.page:
        return settings
    built = build_settings(_layers_of(settings), page)
    return dataclasses.replace(built, config_path=settings.config_path)


def check_page_value(key: str, value: Any) -> None:
    """The file's own checks on one page value alone, so the error names the page's field.

    Whole documents (the SLA policies, the rota, the playbook, ...) are checked by their own
    readers before they are saved."""
    if key not in PAGE_KEYS and key not in PAGE_DOCUMENTS:
        raise ConfigError(f"{key!r} cannot be changed on the settings page", key=key)
    if key in PAGE_DOCUMENTS or value is None:
        return
    layers = Layers({key: value}, {}, "sqlite://", PAGE_LABEL, False)
    build_settings(layers, {})


def source_of(settings: Settings, dotted: str) -> Source:
    """Where the value in force for ``dotted`` (``timezone``, ``mail.smtp_host``) comes from."""
    layers = _layers_of(settings)
    variable = FROM_ENVIRONMENT.get(dotted)
    if variable and layers.environ.get(variable):
        return "environment"
    if _holds(layers.file, dotted):
        return "file"
    if _holds(settings.page, dotted):
        return "page"
    return "default"


def _holds(table: Mapping[str, Any], dotted: str) -> bool:
    head, _, rest = dotted.partition(".")
    if head not in table:
        return False
    if not rest:
        return True
    inner = table[head]
    return isinstance(inner, Mapping) and _holds(inner, rest)


class LiveSettings:
    """The settings a long-running process uses: the file's, with the page's saved values laid
    under them, re-read when the store says they changed (checked at most every ``every`` s)."""

    def __init__(
        self,
        base: Settings,
        sessions: sessionmaker[Session],
        *,
        every: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base = base
        self._sessions = sessions
        self._every = every
        self._clock = clock
        self._lock = threading.Lock()
        self._current = base
        self._revision = -1
        self._checked = float("-inf")
        self.problem: str | None = None

    def get(self) -> Settings:
        if self._clock() - self._checked >= self._every:
            try:
                with self._sessions() as session:
                    self.refresh(session)
            except Exception:  # a store that is briefly away must not take the pages down
                log.exception("could not re-read the settings page's values")
                self._checked = self._clock()
        return self._current

    def refresh(self, session: Session) -> Settings:
        """Re-read now, in ``session`` (so a view sees its own save at once)."""
        from goodwill.store import page_settings

        number = page_settings.revision(session)
        with self._lock:
            self._checked = self._clock()
            if number == self._revision:
                return self._current
            page = page_settings.stored(session)
            try:
                self._current = with_page(self.base, page)
                self.problem = None
            except ConfigError as exc:
                # The file changed under a saved value: the file wins, the page says why.
                self._current = self.base
                self.problem = exc.message
                log.error("settings page values not used: %s", exc.message)
            self._revision = number
            return self._current
