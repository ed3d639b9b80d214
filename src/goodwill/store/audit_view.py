"""Reading the audit log as people ask for it: by client reference, staff email, action prefix
and a day, for the CLI (`goodwill audit`), the owner's /audit page and a client's page."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from goodwill.domain.dates import DateError, parse_instant
from goodwill.errors import InvalidInput, NotFound
from goodwill.settings import Settings
from goodwill.store.audit import AuditRow, entries
from goodwill.store.queries import find_client
from goodwill.store.staff import user_by_email

_ACTION = re.compile(r"^[a-z0-9_.-]{1,60}$")

#: Plain words for the actions a client's page shows; others are shown as their name.
ACTION_WORDS = {
    "client.exported": "exported everything held about the client",
    "client.erased": "erased the client",
}


@dataclass(frozen=True)
class AuditFilter:
    client_id: int | None = None
    user_id: int | None = None
    action: str | None = None
    since: datetime | None = None

    @classmethod
    def parse(
        cls,
        session: Session,
        settings: Settings,
        *,
        client: str | None = None,
        user: str | None = None,
        action: str | None = None,
        since: str | None = None,
    ) -> AuditFilter:
        """Filters from what a person typed; a bad value raises InvalidInput or NotFound naming
        the filter."""
        client_id = None
        if client:
            client_id = find_client(session, client).id
        user_id = None
        if user:
            try:
                user_id = user_by_email(session, user).id
            except NotFound as exc:
                raise NotFound(f"user: no staff user {user!r}", field="user") from exc
        if action:
            action = action.strip().lower()
            if not _ACTION.match(action):
                raise InvalidInput(
                    "action: letters, digits, dots and dashes only (e.g. client. or login)",
                    field="action",
                )
        instant = None
        if since:
            try:
                instant = parse_instant(since, zone=settings.zone, date_order=settings.date_order)
            except DateError as exc:
                raise InvalidInput(f"since: {exc}", field="since") from exc
        return cls(client_id=client_id, user_id=user_id, action=action or None, since=instant)


def read_entries(session: Session, filters: AuditFilter, *, limit: int = 100) -> list[AuditRow]:
    """Entries newest first. An action without a dot that names no whole action is read as a
    prefix (``client`` finds ``client.exported`` and ``client.erased``)."""
    action = filters.action
    rows = entries(
        session,
        client_id=filters.client_id,
        user_id=filters.user_id,
        action=action,
        since=filters.since,
        limit=limit,
    )
    if not rows and action and not action.endswith("."):
        rows = entries(
            session,
            client_id=filters.client_id,
            user_id=filters.user_id,
            action=action + ".",
            since=filters.since,
            limit=limit,
        )
    return rows


def in_words(row: AuditRow) -> str:
    """One entry as a sentence for a client's page: who did what."""
    what = ACTION_WORDS.get(row.action, row.action)
    return f"{row.actor} {what}"
