"""What every command shares: the settings, the store (opened on first use) and the clock."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from goodwill.cli.terminal import SafeConsole
from goodwill.domain.dates import DateError, parse_instant
from goodwill.errors import InvalidInput
from goodwill.settings import Settings, load_settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

out = SafeConsole(soft_wrap=True)
err = SafeConsole(stderr=True)


@dataclass
class State:
    db: str | None = None
    config: Path | None = None
    now_text: str | None = None
    _base: Settings | None = None
    _settings: Settings | None = None
    _store: sessionmaker[Session] | None = field(default=None, repr=False)

    @property
    def base_settings(self) -> Settings:
        """The file's and the environment's settings, without the settings page's."""
        if self._base is None:
            self._base = load_settings(config_path=self.config, database_url=self.db)
        return self._base

    @property
    def settings(self) -> Settings:
        """The settings in force: the file's, with what the owner saved on the settings page."""
        if self._settings is None:
            from goodwill.store.page_settings import read_saved

            self._settings = self.base_settings
            saved = read_saved(self._settings.database_url, self._settings.database)
            if saved:
                from goodwill.errors import ConfigError
                from goodwill.settings_layers import with_page

                try:
                    self._settings = with_page(self._settings, saved)
                except ConfigError as exc:
                    err.print(
                        f"warning: the settings page's values are not used: {exc.message}",
                        markup=False,
                        highlight=False,
                    )
        return self._settings

    @property
    def store(self) -> sessionmaker[Session]:
        if self._store is None:
            from goodwill.store.database import open_store

            self._store = open_store(self.settings.database_url, options=self.settings.database)
        return self._store

    def now(self) -> datetime:
        """The injected instant (--now) or the real time, aware and in UTC."""
        if self.now_text is None:
            return datetime.now(UTC)
        try:
            return parse_instant(self.now_text, zone=self.settings.zone)
        except DateError as exc:
            raise InvalidInput(f"--now: {exc}", option="--now") from exc

    def today(self) -> date:
        """Today in the business's time zone (not UTC: a day early or late is a classic bug)."""
        return self.now().astimezone(self.settings.zone).date()


def state(ctx: typer.Context) -> State:
    obj = ctx.find_root().obj
    assert isinstance(obj, State)
    return obj


def is_terminal() -> bool:
    return sys.stderr.isatty()
