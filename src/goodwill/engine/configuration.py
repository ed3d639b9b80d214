"""The engine's inputs that come from files: the playbook and the business calendar."""

from __future__ import annotations

import tomllib
from datetime import datetime
from importlib import resources
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from goodwill.calendar_files import calendar_from_mapping, load_calendar
from goodwill.domain.calendars import BusinessCalendar
from goodwill.domain.playbooks import Playbook, parse_playbook
from goodwill.engine.passes import EnginePass, PassReport
from goodwill.errors import ConfigError
from goodwill.settings import Settings

DEFAULT_HOURS = {day: ["09:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")}


def default_playbook_text() -> str:
    return resources.files("goodwill").joinpath("defaults/playbooks.toml").read_text("utf-8")


def load_playbook_file(path: Path) -> Playbook:
    """A playbook file, validated; errors name the file, the rule and the field."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: playbook file not found", file=str(path)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}", file=str(path)) from exc
    return parse_playbook(data, source=str(path))


def playbook_for(settings: Settings) -> Playbook:
    if settings.playbook is not None:
        return load_playbook_file(settings.playbook)
    return parse_playbook(tomllib.loads(default_playbook_text()), source="default playbook")


def calendar_for(settings: Settings) -> BusinessCalendar:
    """The business calendar: the [calendar] table or file; Monday–Friday 9–17 by default."""
    if isinstance(settings.calendar, Path):
        return load_calendar(settings.calendar)
    data = dict(settings.calendar or {"hours": DEFAULT_HOURS})
    data.setdefault("timezone", settings.timezone)
    source = f"{settings.config_path or 'settings'}: calendar"
    return calendar_from_mapping(data, source=source)


def run_pass(store: sessionmaker[Session], settings: Settings, *, now: datetime) -> PassReport:
    """One engine pass with the playbook and calendar the settings name."""
    return EnginePass(
        store, settings, now=now, playbook=playbook_for(settings), calendar=calendar_for(settings)
    ).run()
