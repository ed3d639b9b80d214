"""Changing a setting from the settings page: checked as the file would be, saved, audited.

``change`` checks the value alone (so the error names the page's field), then laid under the
file (so a clash with what the file says is caught before anything is saved), then saves it and
records who changed what, from what, in the audit log. Secrets are never written to the log.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from goodwill.domain.audit import Actor
from goodwill.settings import Settings
from goodwill.settings_layers import check_page_value, with_page
from goodwill.store import page_settings
from goodwill.store.audit import record

#: Keys whose values never reach the audit log (it says only that they changed).
SECRETS = frozenset({"smtp_password", "imap_password"})


def change(
    session: Session, settings: Settings, key: str, value: Any, *, actor: Actor, now: datetime
) -> Settings:
    """Save ``value`` for ``key`` and return the settings now in force.

    Raises ConfigError (with ``key`` naming the field) and saves nothing when it is wrong."""
    check_page_value(key, value)
    page = page_settings.stored(session)
    before = page.get(key)
    if value is None:
        page.pop(key, None)
    else:
        page[key] = value
    updated = with_page(settings, page)
    page_settings.put(session, key, value, by=actor.label, at=now)
    record(
        session,
        actor,
        "settings.change",
        at=now,
        object_type="setting",
        object_id=key,
        before={"value": _redacted(before)},
        after={"value": _redacted(value)},
    )
    return updated


def clear(
    session: Session, settings: Settings, key: str, *, actor: Actor, now: datetime
) -> Settings:
    """Forget the page's value for ``key``: the file's or the default applies again."""
    return change(session, settings, key, None, actor=actor, now=now)


def _redacted(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: ("(changed)" if k in SECRETS else _redacted(v)) for k, v in value.items()}
    return value
