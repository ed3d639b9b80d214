"""The audit log: an append-only record of who did what to which object, when and from where.

Writers call :func:`record` in the same session (and so the same transaction) as the change it
describes, so an entry exists exactly when its change does. Nothing here updates or deletes an
entry; the one exception is an erasure (:func:`forget_client_details`), which blanks what the
entries of that client held about them and keeps that they happened.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from goodwill.domain.audit import Actor
from goodwill.store.models import AuditEntry

log = logging.getLogger(__name__)

#: The longest page of entries one read returns.
MAX_PAGE = 1000


def _cut(value: str | None, size: int) -> str | None:
    return None if value is None else value[:size]


def record(
    session: Session,
    actor: Actor,
    action: str,
    *,
    at: datetime,
    object_type: str | None = None,
    object_id: int | str | None = None,
    client_id: int | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    detail: str | None = None,
) -> AuditEntry:
    """Add one entry in the caller's transaction. ``action`` is a stable dotted name
    (``login``, ``login.failed``, ``followup.done``, ``client.erased``)."""
    entry = AuditEntry(
        at=at,
        actor_kind=actor.kind,
        actor_user_id=actor.user_id,
        actor_label=actor.label[:320],
        action=action[:60],
        object_type=_cut(object_type, 40),
        object_id=None if object_id is None else str(object_id)[:64],
        client_id=client_id,
        address=_cut(actor.address, 64),
        session_ref=_cut(actor.session_ref, 64),
        before=dict(before) if before is not None else None,
        after=dict(after) if after is not None else None,
        detail=_cut(detail, 500),
    )
    session.add(entry)
    session.flush()
    log.info(
        "audit %s by %s %s on %s %s", action, actor.kind, actor.user_id, object_type, object_id
    )
    return entry


@dataclass(frozen=True)
class AuditRow:
    """One entry as readers see it."""

    id: int
    at: datetime
    actor_kind: str
    actor: str
    actor_user_id: int | None
    action: str
    object_type: str | None
    object_id: str | None
    client_id: int | None
    address: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    detail: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at.isoformat(),
            "actor_kind": self.actor_kind,
            "actor": self.actor,
            "actor_user_id": self.actor_user_id,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "client_id": self.client_id,
            "address": self.address,
            "before": self.before,
            "after": self.after,
            "detail": self.detail,
        }


def entries(
    session: Session,
    *,
    client_id: int | None = None,
    user_id: int | None = None,
    action: str | None = None,
    since: datetime | None = None,
    before_id: int | None = None,
    limit: int = 200,
) -> list[AuditRow]:
    """Entries newest first, filtered; page on with ``before_id`` (the last id seen).
    ``action`` matches a whole name or a prefix ending in a dot (``followup.``)."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(max(1, min(limit, MAX_PAGE)))
    if client_id is not None:
        query = query.where(AuditEntry.client_id == client_id)
    if user_id is not None:
        query = query.where(AuditEntry.actor_user_id == user_id)
    if action is not None:
        if action.endswith("."):
            query = query.where(AuditEntry.action.startswith(action, autoescape=True))
        else:
            query = query.where(AuditEntry.action == action)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    return [
        AuditRow(
            id=e.id,
            at=e.at,
            actor_kind=e.actor_kind,
            actor=e.actor_label,
            actor_user_id=e.actor_user_id,
            action=e.action,
            object_type=e.object_type,
            object_id=e.object_id,
            client_id=e.client_id,
            address=e.address,
            before=e.before,
            after=e.after,
            detail=e.detail,
        )
        for e in session.scalars(query)
    ]


def forget_client_details(session: Session, client_id: int) -> int:
    """Blank what a client's entries held about them (before, after, detail) for an erasure;
    the entries themselves stay. Returns how many entries were blanked."""
    result = session.execute(
        update(AuditEntry)
        .where(AuditEntry.client_id == client_id)
        .values(before=None, after=None, detail=None)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
