"""Merge conversations that a message showed to be one thread (domain/conversation_merge.py says
what the merged one owes): the messages, kept ids, incidents and facts of the later ones move to
the earliest, which takes the clock, status and assignee the merge gives; the later ones are
removed, each leaving a note of where it went, and the change is audited like other inbox
changes."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from goodwill.actions.conversation_clock import clear_clock, clock_of, store_clock
from goodwill.domain.audit import Actor
from goodwill.domain.conversation_merge import (
    Side,
    merged_assignee,
    merged_clock,
    merged_status,
)
from goodwill.settings import Settings
from goodwill.store.audit import record
from goodwill.store.models import ClientFact, Conversation, Incident, Message
from goodwill.store.thread_index import move_ids

log = logging.getLogger(__name__)

#: The clock's columns, copied from the conversation whose clock the merge keeps.
_CLOCK_COLUMNS = (
    "sla_policy",
    "sla_kind",
    "sla_critical",
    "sla_target_s",
    "sla_calendar",
    "sla_warn_fraction",
    "sla_started_at",
)


def merge_conversations(
    session: Session,
    settings: Settings,
    kept_id: int,
    merged_ids: Sequence[int],
    *,
    now: datetime,
    actor: Actor,
    because: str,
) -> None:
    """Fold ``merged_ids`` into ``kept_id`` (the earliest), in the caller's transaction."""
    if not merged_ids:
        return
    ids = [kept_id, *sorted(set(merged_ids) - {kept_id})]
    rows = {
        c.id: c
        for c in session.execute(
            select(Conversation).where(Conversation.id.in_(ids)).with_for_update()
        ).scalars()
    }
    ordered = [rows[i] for i in ids if i in rows]
    if len(ordered) < 2 or ordered[0].id != kept_id:
        return
    kept, later = ordered[0], ordered[1:]
    before = _shown(kept)
    sides = [Side(c.status, c.assignee_id, clock_of(c, settings)) for c in ordered]
    clock = merged_clock(sides)
    if clock is None:
        clear_clock(kept)
    else:
        source = ordered[clock[0]]
        if source is not kept:
            for column in _CLOCK_COLUMNS:
                setattr(kept, column, getattr(source, column))
            kept.sla_clock = max(c.sla_clock for c in ordered) + 1
        store_clock(kept, clock[1])
    kept.status = merged_status(sides)
    kept.assignee_id = merged_assignee(sides)
    kept.created_at = min(c.created_at for c in ordered)
    kept.last_message_at = max(c.last_message_at for c in ordered)
    answered = [c.first_response_at for c in ordered if c.first_response_at is not None]
    kept.first_response_at = min(answered) if answered else None
    gone = [c.id for c in later]
    session.execute(
        update(Message).where(Message.conversation_id.in_(gone)).values(conversation_id=kept.id)
    )
    session.execute(
        update(Incident).where(Incident.conversation_id.in_(gone)).values(conversation_id=kept.id)
    )
    for old in gone:
        session.execute(
            update(ClientFact)
            .where(ClientFact.source_ref == f"conversation:{old}")
            .values(source_ref=f"conversation:{kept.id}")
        )
    move_ids(session, gone, kept.id, at=now)
    session.flush()
    for c in later:
        session.delete(c)
    session.flush()
    after = {**_shown(kept), "merged": gone, "because": because}
    record(
        session,
        actor,
        "conversation.merged",
        at=now,
        object_type="conversation",
        object_id=kept.id,
        client_id=kept.client_id,
        before=before,
        after=after,
    )
    log.info("conversations %s merged into %s", gone, kept.id)


def _shown(c: Conversation) -> dict[str, object]:
    return {
        "status": c.status,
        "assignee_id": c.assignee_id,
        "sla_due_at": c.sla_due_at.isoformat() if c.sla_due_at else None,
    }
