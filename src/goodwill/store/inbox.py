"""Reading the inbox: conversations with their client, clock and assignee, and their messages."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from goodwill.store.models import Attachment, Client, Conversation, InboundMail, Message, StaffUser


@dataclass(frozen=True)
class MessageView:
    id: int
    message_id: str
    direction: str
    from_address: str
    from_name: str | None
    sent_at: datetime
    subject: str
    new_text: str
    full_text: str
    auto_reply: bool
    attachments: tuple[tuple[int, str, int], ...] = ()  # (id, filename, size)

    def as_dict(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id,
            "direction": self.direction,
            "from": self.from_address,
            "from_name": self.from_name,
            "received_at": self.sent_at.isoformat(),
            "subject": self.subject,
            "new_text": self.new_text,
            "full_text": self.full_text,
            "auto_reply": self.auto_reply,
            "attachments": [{"id": i, "filename": n, "size": s} for i, n, s in self.attachments],
        }


@dataclass(frozen=True)
class ConversationView:
    id: int
    client_id: int
    client_ref: str  # the id used in the imported files, else the email
    client_name: str
    subject: str
    status: str
    assignee: str | None
    assignee_id: int | None
    created_at: datetime
    last_message_at: datetime
    sla_due_at: datetime | None
    sla_warn_at: datetime | None
    sla_policy: str | None
    sla_critical: bool
    paused: bool
    messages: tuple[MessageView, ...] = field(default=())

    def state(self, now: datetime) -> str:
        """ok, warning, breached, paused, or none (nothing owed)."""
        if self.paused:
            return "paused"
        if self.sla_due_at is None:
            return "none"
        if now >= self.sla_due_at:
            return "breached"
        if self.sla_warn_at is not None and now >= self.sla_warn_at:
            return "warning"
        return "ok"

    def as_dict(self, now: datetime, *, messages: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "client_id": self.client_ref,
            "client_name": self.client_name,
            "subject": self.subject,
            "status": self.status,
            "sla_due_at": self.sla_due_at.isoformat() if self.sla_due_at else None,
            "sla_state": self.state(now),
            "sla_policy": self.sla_policy,
            "critical_window": self.sla_critical,
            "assignee": self.assignee,
            "last_message_at": self.last_message_at.isoformat(),
        }
        if messages:
            out["messages"] = [m.as_dict() for m in self.messages]
        return out


def list_conversations(
    session: Session,
    *,
    status: Sequence[str] | None = None,
    assignee_id: int | None = None,
    client_id: int | None = None,
    limit: int = 200,
) -> list[ConversationView]:
    """Most urgent first: running clocks by due instant, then the rest by latest message."""
    query = (
        select(Conversation, Client, StaffUser.email)
        .join(Client, Client.id == Conversation.client_id)
        .outerjoin(StaffUser, StaffUser.id == Conversation.assignee_id)
        .order_by(
            case((Conversation.sla_due_at.is_(None), 1), else_=0),
            Conversation.sla_due_at,
            Conversation.last_message_at.desc(),
            Conversation.id.desc(),
        )
        .limit(limit)
    )
    if status:
        query = query.where(Conversation.status.in_(list(status)))
    if assignee_id is not None:
        query = query.where(Conversation.assignee_id == assignee_id)
    if client_id is not None:
        query = query.where(Conversation.client_id == client_id)
    return [_view(c, client, email) for c, client, email in session.execute(query).all()]


def conversation(session: Session, conversation_id: int) -> ConversationView | None:
    row = session.execute(
        select(Conversation, Client, StaffUser.email)
        .join(Client, Client.id == Conversation.client_id)
        .outerjoin(StaffUser, StaffUser.id == Conversation.assignee_id)
        .where(Conversation.id == conversation_id)
    ).first()
    if row is None:
        return None
    view = _view(*row)
    return _with_messages(session, [view])[0]


def with_messages(session: Session, views: list[ConversationView]) -> list[ConversationView]:
    return _with_messages(session, views)


def _with_messages(session: Session, views: list[ConversationView]) -> list[ConversationView]:
    ids = [v.id for v in views]
    if not ids:
        return views
    messages: dict[int, list[Message]] = {}
    for m in session.execute(
        select(Message)
        .where(Message.conversation_id.in_(ids))
        .order_by(Message.sent_at, Message.id)
    ).scalars():
        messages.setdefault(m.conversation_id, []).append(m)
    files: dict[int, list[tuple[int, str, int]]] = {}
    all_ids = [m.id for ms in messages.values() for m in ms]
    if all_ids:
        for a_id, m_id, name, size in session.execute(
            select(Attachment.id, Attachment.message_id, Attachment.filename, Attachment.size)
            .where(Attachment.message_id.in_(all_ids))
            .order_by(Attachment.id)
        ):
            files.setdefault(m_id, []).append((a_id, name, size))
    out = []
    for view in views:
        shown = tuple(
            MessageView(
                id=m.id,
                message_id=m.message_id,
                direction=m.direction,
                from_address=m.from_address,
                from_name=m.from_name,
                sent_at=m.sent_at,
                subject=m.subject,
                new_text=m.new_text,
                full_text=m.text,
                auto_reply=m.auto_reply,
                attachments=tuple(files.get(m.id, [])),
            )
            for m in messages.get(view.id, [])
        )
        out.append(_replace(view, shown))
    return out


def unreadable_mail(session: Session, *, limit: int = 50) -> list[InboundMail]:
    """Messages kept but not read (shown so someone can look at them)."""
    return list(
        session.execute(
            select(InboundMail)
            .where(InboundMail.status == "failed")
            .order_by(InboundMail.id.desc())
            .limit(limit)
        ).scalars()
    )


def _view(c: Conversation, client: Client, assignee: str | None) -> ConversationView:
    return ConversationView(
        id=c.id,
        client_id=client.id,
        client_ref=client.external_id or client.email or f"#{client.id}",
        client_name=client.name,
        subject=c.subject,
        status=c.status,
        assignee=assignee,
        assignee_id=c.assignee_id,
        created_at=c.created_at,
        last_message_at=c.last_message_at,
        sla_due_at=c.sla_due_at,
        sla_warn_at=c.sla_warn_at,
        sla_policy=c.sla_policy,
        sla_critical=c.sla_critical,
        paused=c.status == "waiting" and c.sla_target_s is not None,
    )


def _replace(view: ConversationView, messages: tuple[MessageView, ...]) -> ConversationView:
    from dataclasses import replace

    return replace(view, messages=messages)
