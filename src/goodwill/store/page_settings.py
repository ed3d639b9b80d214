"""Settings saved on the settings page: read all at once, written one key at a time."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, inspect, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from goodwill.store.models import PageSetting

log = logging.getLogger(__name__)


def revision(session: Session) -> int:
    """A number that rises with every save: unchanged means nothing needs re-reading."""
    return int(
        session.execute(select(func.coalesce(func.max(PageSetting.revision), 0))).scalar_one()
    )


def stored(session: Session) -> dict[str, Any]:
    """Every saved setting, key -> value in the shape the TOML file would hold it."""
    rows = session.execute(select(PageSetting.key, PageSetting.value)).all()
    return {key: value for key, value in rows if value is not None}


def saved_by(session: Session) -> dict[str, tuple[str | None, datetime]]:
    """Who saved each setting last, and when (the page shows it beside the value)."""
    rows = session.execute(
        select(PageSetting.key, PageSetting.value, PageSetting.changed_by, PageSetting.changed_at)
    ).all()
    return {key: (by, at) for key, value, by, at in rows if value is not None}


def put(session: Session, key: str, value: Any, *, by: str | None, at: datetime) -> None:
    """Save ``value`` under ``key`` (None clears it), raising the revision."""
    number = revision(session) + 1
    row = session.get(PageSetting, key)
    if row is None:
        session.add(
            PageSetting(key=key, value=value, revision=number, changed_by=by, changed_at=at)
        )
    else:
        row.value, row.revision, row.changed_by, row.changed_at = value, number, by, at
    session.flush()


def read_saved(url: str, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The saved settings of the store at ``url``, for a command starting up: nothing when the
    store does not exist yet or cannot be reached (the command then says what is wrong itself),
    and nothing created or migrated on the way."""
    from sqlalchemy.engine import make_url

    from goodwill.errors import ConfigError
    from goodwill.store.database import make_engine

    try:
        parsed = make_url(url)
        if parsed.drivername.startswith("sqlite") and (
            not parsed.database
            or parsed.database == ":memory:"
            or not Path(parsed.database).expanduser().exists()
        ):
            return {}
        engine = make_engine(url, options)
    except (SQLAlchemyError, ValueError, ConfigError):
        return {}
    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table(PageSetting.__tablename__):
                return {}
            with Session(connection) as session:
                return stored(session)
    except SQLAlchemyError as exc:
        log.debug("saved settings not read: %s", exc)
        return {}
    finally:
        engine.dispose()
