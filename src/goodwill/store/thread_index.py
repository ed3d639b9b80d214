"""Every id a conversation's messages carry, and where merged conversations went.

``thread_ids`` holds, per conversation, its messages' own ids (``seen``) and the ids they answer
that have not arrived (placeholders), so a reply to a missing message and that message, when it
comes, find each other. A seen inbound message also keeps its sender's client, its subject key
(only a subject that may join anything) and whether it had reply headers, for the subject rule.
``conversation_merges`` says which conversation a merged one became, so a link to it still
leads somewhere (the event log that names it is never rewritten).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from goodwill.store.base import Base, UTCDateTime
from goodwill.store.mail_models import Conversation


class ThreadId(Base):
    """One id of a conversation's thread: a message's own (``seen``) or one answered but unseen."""

    __tablename__ = "thread_ids"
    __table_args__ = (Index("ix_thread_ids_subject", "client_id", "subject_key", "sent_at"),)
    message_id: Mapped[str] = mapped_column(String(998), primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    seen: Mapped[bool] = mapped_column(Boolean)
    client_id: Mapped[int | None] = mapped_column(Integer)
    subject_key: Mapped[str | None] = mapped_column(String(998))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: It carried In-Reply-To or References (the subject joins it only to header-less mail).
    answers: Mapped[bool] = mapped_column(Boolean, default=False)


class ConversationMerge(Base):
    """A conversation merged into another when a message showed them to be one thread."""

    __tablename__ = "conversation_merges"
    merged_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    into_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    merged_at: Mapped[datetime] = mapped_column(UTCDateTime)


def known_ids(session: Session, ids: Sequence[str]) -> dict[str, int]:
    """``{id: conversation_id}`` for the ids kept, seen or not."""
    if not ids:
        return {}
    rows = session.execute(
        select(ThreadId.message_id, ThreadId.conversation_id).where(
            ThreadId.message_id.in_(list(ids))
        )
    )
    return {str(m): int(c) for m, c in rows}


def same_subject(
    session: Session,
    *,
    client_id: int,
    key: str,
    headerless_only: bool,
    sent_at: datetime,
    window: timedelta,
) -> set[int]:
    """Conversations holding a message of ``client_id`` under ``key`` sent within ``window``
    of ``sent_at`` (either side), only header-less ones when ``headerless_only``."""
    query = select(ThreadId.conversation_id).where(
        ThreadId.client_id == client_id,
        ThreadId.subject_key == key,
        ThreadId.sent_at >= sent_at - window,
        ThreadId.sent_at <= sent_at + window,
    )
    if headerless_only:
        query = query.where(ThreadId.answers.is_(False))
    return {int(c) for c in session.execute(query.distinct()).scalars()}


def keep_ids(
    session: Session,
    conversation_id: int,
    *,
    message_id: str,
    parents: Collection[str],
    client_id: int | None,
    subject_key: str | None,
    sent_at: datetime,
) -> None:
    """Keep a filed message's own id as seen and its unseen parents as placeholders."""
    dialect: Any = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    values = {
        "conversation_id": conversation_id,
        "seen": True,
        "client_id": client_id,
        "subject_key": subject_key[:998] if subject_key else None,
        "sent_at": sent_at,
        "answers": bool(parents),
    }
    session.execute(
        dialect.insert(ThreadId)
        .values(message_id=message_id, **values)
        .on_conflict_do_update(index_elements=["message_id"], set_=values)
    )
    if parents:
        rows = [
            {"message_id": p, "conversation_id": conversation_id, "seen": False, "answers": False}
            for p in dict.fromkeys(parents)
            if len(p) <= 998
        ]
        if rows:
            session.execute(
                dialect.insert(ThreadId)
                .values(rows)
                .on_conflict_do_nothing(index_elements=["message_id"])
            )


def move_ids(session: Session, merged: Collection[int], into: int, *, at: datetime) -> None:
    """The merged conversations' ids now belong to ``into``; where each went is kept."""
    session.execute(
        update(ThreadId)
        .where(ThreadId.conversation_id.in_(list(merged)))
        .values(conversation_id=into)
    )
    session.execute(
        update(ConversationMerge)
        .where(ConversationMerge.into_id.in_(list(merged)))
        .values(into_id=into)
    )
    session.add_all(ConversationMerge(merged_id=m, into_id=into, merged_at=at) for m in merged)


def merged_into(session: Session, conversation_id: int) -> int | None:
    """The conversation a merged one became (None: it was never merged)."""
    return session.execute(
        select(ConversationMerge.into_id).where(ConversationMerge.merged_id == conversation_id)
    ).scalar_one_or_none()


def unused_id(session: Session, conversation_id: int) -> int | None:
    """The id a conversation just made should have instead, on SQLite, which hands the newest
    merged conversation's id to the next row: a link to a merged conversation must lead to where
    it went, never to another client's. None when its id is its own (always on PostgreSQL, whose
    sequence never gives one twice). Call it after the row is written: the transaction then
    holds SQLite's write lock, so the largest ids read are the latest."""
    if session.get_bind().dialect.name != "sqlite":
        return None
    merged = session.execute(select(func.max(ConversationMerge.merged_id))).scalar_one_or_none()
    if merged is None or conversation_id > merged:
        return None
    live = session.execute(select(func.max(Conversation.id))).scalar_one()
    return max(int(live), int(merged)) + 1
