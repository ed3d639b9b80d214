"""The engine's inputs that come from files: the playbook and the business calendar."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from goodwill.analysis.calendar_files import calendar_from_mapping, load_calendar
from goodwill.domain.calendars import BusinessCalendar
from goodwill.domain.playbook_edits import PAGE_SOURCE
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


def default_playbook_document() -> dict[str, Any]:
    """The shipped playbook as the mapping its TOML file parses to."""
    return tomllib.loads(default_playbook_text())


def page_playbook(settings: Settings) -> dict[str, Any] | None:
    """The playbook saved from the playbook page, if any (the file, when set, still wins)."""
    document = settings.page.get("playbook")
    return dict(document) if isinstance(document, Mapping) else None


def playbook_document(settings: Settings) -> dict[str, Any]:
    """The document the page edits: the one saved from the page, else the shipped one."""
    return page_playbook(settings) or default_playbook_document()


def playbook_source(settings: Settings) -> str:
    """Where the rules in force come from: the file, the playbook page, or the shipped default."""
    if settings.playbook is not None:
        return str(settings.playbook)
    return PAGE_SOURCE if page_playbook(settings) is not None else "default playbook"


def playbook_for(settings: Settings) -> Playbook:
    """The playbook in force: the ``playbook`` file when set, else the one saved from the page,
    else the shipped default."""
    if settings.playbook is not None:
        return load_playbook_file(settings.playbook)
    document = page_playbook(settings)
    if document is not None:
        return parse_playbook(document, source=PAGE_SOURCE)
    return parse_playbook(default_playbook_document(), source="default playbook")


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
