"""What clients said, read for topic discovery: their answers (with the themes stored for them)
and the new text of the mail they wrote (not auto-replies), with their tenure at the time.

Bounded: the ``limit`` most recent of each, so a business with years of mail reads no more than
the page can use. Tenure for a mail is counted as an answer's is (from the earlier of "client
since" and the first purchase, in the business's time zone), in one query for all clients.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select, true
from sqlalchemy.orm import Session

from goodwill.domain.topics import Said
from goodwill.store.base import as_utc
from goodwill.store.models import (
    Client,
    Conversation,
    FeedbackAnswer,
    FeedbackTheme,
    Message,
    Order,
)

__all__ = ["fingerprint", "said_by_clients"]


def _among(column: Any, clients: Select[Any] | None) -> Any:
    return column.in_(clients) if clients is not None else true()


def said_by_clients(
    session: Session,
    *,
    zone: ZoneInfo,
    until: datetime | None = None,
    clients: Select[Any] | None = None,
    limit: int = 5000,
) -> list[Said]:
    """The ``limit`` most recent answers and the ``limit`` most recent client mails (their new
    text), before ``until`` when given, of ``clients`` only when given (a select of ids)."""
    answered = (FeedbackAnswer.answered_at < until if until is not None else true()) & _among(
        FeedbackAnswer.client_id, clients
    )
    answers = session.execute(
        select(FeedbackAnswer.id, FeedbackAnswer.answer, FeedbackAnswer.answered_at)
        .add_columns(FeedbackAnswer.tenure_days)
        .where(answered)
        .order_by(FeedbackAnswer.answered_at.desc(), FeedbackAnswer.id.desc())
        .limit(limit)
    ).all()
    themes: dict[int, list[str]] = {}
    ids = [row[0] for row in answers]
    for begin in range(0, len(ids), 900):  # bound the IN list for SQLite
        for answer_id, theme in session.execute(
            select(FeedbackTheme.answer_id, FeedbackTheme.theme)
            .where(FeedbackTheme.answer_id.in_(ids[begin : begin + 900]))
            .order_by(FeedbackTheme.answer_id, FeedbackTheme.theme)
        ):
            themes.setdefault(answer_id, []).append(theme)
    said = [
        Said(text, as_utc(at), tenure, "answer", tuple(themes.get(answer_id, ())))
        for answer_id, text, at, tenure in answers
    ]
    sent = (Message.sent_at < until if until is not None else true()) & _among(
        Conversation.client_id, clients
    )
    mails = session.execute(
        select(Message.new_text, Message.sent_at, Conversation.client_id)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(sent, Message.direction == "in", Message.auto_reply.is_(False))
        .order_by(Message.sent_at.desc(), Message.id.desc())
        .limit(limit)
    ).all()
    starts = _starts(session, {client_id for _, _, client_id in mails}, zone)
    for text, at, client_id in mails:
        if not (text or "").strip():
            continue
        when = as_utc(at)
        first_day = starts.get(client_id)
        tenure = max(0, (when.astimezone(zone).date() - first_day).days) if first_day else None
        said.append(Said(text, when, tenure, "mail"))
    return said


def _starts(session: Session, client_ids: set[int], zone: ZoneInfo) -> dict[int, date]:
    """Each client's first day: the earlier of "client since" and their first purchase."""
    starts: dict[int, date] = {}
    ids = sorted(client_ids)
    for begin in range(0, len(ids), 900):
        chunk = ids[begin : begin + 900]
        for client_id, since in session.execute(
            select(Client.id, Client.client_since).where(Client.id.in_(chunk))
        ):
            if since is not None:
                starts[client_id] = since
        for client_id, first in session.execute(
            select(Order.client_id, func.min(Order.occurred_at))
            .where(Order.client_id.in_(chunk))
            .group_by(Order.client_id)
        ):
            if first is not None:
                day = as_utc(first).astimezone(zone).date()
                starts[client_id] = min(day, starts.get(client_id, day))
    return starts


def fingerprint(session: Session) -> tuple[Any, ...]:
    """What changes when a text is added or removed: counts and the newest ids, so a cached
    result is used only while nothing new was said."""
    answers = session.execute(select(func.count(), func.max(FeedbackAnswer.id))).one()
    themes = session.execute(select(func.count(FeedbackTheme.answer_id))).one()
    mails = session.execute(
        select(func.count(), func.max(Message.id)).where(Message.direction == "in")
    ).one()
    return (*answers, *themes, *mails)
