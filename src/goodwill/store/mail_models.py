"""The inbox's tables: mail as it arrived, conversations, messages, attachments, the outbox and
where each mailbox was last read."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from goodwill.store.base import Base, UTCDateTime


class InboundMail(Base):
    """A message as it arrived, its bytes stored before anything reads them: a message that
    cannot be filed is kept (``status`` failed, with the reason in ``error`` and the moment in
    ``failed_at``) and shown, never dropped. The unique Message-ID stores a duplicate delivery
    once; a different message reusing a stored id is kept under a key of its own, with a
    ``note`` saying so, as is goodwill's own reply coming back (status own-reply)."""

    __tablename__ = "inbound_mail"
    __table_args__ = (Index("ix_inbound_mail_status", "status", "id"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(998), unique=True)
    source: Mapped[str] = mapped_column(String(20))  # smtp | imap | maildir | api | form
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sha256: Mapped[str] = mapped_column(String(64))
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(20))  # stored | parsed | failed | own-reply
    error: Mapped[str | None] = mapped_column(Text)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(Text)


class Conversation(Base):
    """A thread with a client, and its response clock.

    The clock: ``sla_elapsed_s`` seconds of the target already used before the current run,
    running since ``sla_running_since`` (NULL while paused or when nothing is owed);
    ``sla_due_at`` and ``sla_warn_at`` are computed from them whenever they change, so scans
    are simple index lookups. ``sla_clock`` counts the clocks started, keying their events."""

    __tablename__ = "conversations"
    __table_args__ = (
        Index("ix_conversations_status_due", "status", "sla_due_at"),
        Index("ix_conversations_client", "client_id", "last_message_at"),
        Index("ix_conversations_created", "created_at"),
        Index("ix_conversations_last_message", "last_message_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(998))
    subject_key: Mapped[str] = mapped_column(String(998), index=True)  # normalised, for threading
    status: Mapped[str] = mapped_column(String(20))  # open (owed a reply) | waiting | closed
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_message_at: Mapped[datetime] = mapped_column(UTCDateTime)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sla_policy: Mapped[str | None] = mapped_column(String(100))
    sla_kind: Mapped[str | None] = mapped_column(String(10))  # first | next
    sla_critical: Mapped[bool] = mapped_column(Boolean, default=False)
    sla_target_s: Mapped[int | None] = mapped_column(Integer)
    sla_calendar: Mapped[str | None] = mapped_column(String(20))  # business | 24/7
    sla_warn_fraction: Mapped[float | None] = mapped_column(Float)
    sla_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sla_elapsed_s: Mapped[int] = mapped_column(Integer, default=0)
    sla_running_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sla_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sla_warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sla_clock: Mapped[int] = mapped_column(Integer, default=0)


class Message(Base):
    """One message of a conversation, in or out."""

    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_conversation_time", "conversation_id", "sent_at"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    inbound_id: Mapped[int | None] = mapped_column(
        ForeignKey("inbound_mail.id", ondelete="SET NULL")
    )
    direction: Mapped[str] = mapped_column(String(3))  # in | out
    message_id: Mapped[str] = mapped_column(String(998), unique=True)
    in_reply_to: Mapped[str | None] = mapped_column(String(998))
    references: Mapped[list[str]] = mapped_column(JSON, default=list)
    from_address: Mapped[str] = mapped_column(String(320))
    from_name: Mapped[str | None] = mapped_column(String(300))
    to: Mapped[list[str]] = mapped_column(JSON, default=list)
    subject: Mapped[str] = mapped_column(String(998))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    text: Mapped[str] = mapped_column(Text)
    new_text: Mapped[str] = mapped_column(Text)
    html: Mapped[str | None] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    auto_reply: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The guardrails' findings on an outgoing reply, and why its sender went ahead anyway.
    findings: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    override_reason: Mapped[str | None] = mapped_column(Text)


class Attachment(Base):
    __tablename__ = "attachments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(500))
    content_type: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)


class Outbox(Base):
    """Mail and webhooks to send. A row is written in the transaction that decides to send, under
    a unique key, and marked sent after delivery; a failed send is retried with back-off and stays
    visible (``status`` failed, ``last_error``) after the last attempt, never silently lost."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_next", "status", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(500), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # email | webhook
    recipients: Mapped[list[str]] = mapped_column(JSON, default=list)  # addresses, or the URL
    body: Mapped[bytes] = mapped_column(LargeBinary)  # the RFC 5322 message, or the JSON
    message_row_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL")
    )
    status: Mapped[str] = mapped_column(String(20))  # queued | sending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class MailboxState(Base):
    """How far an IMAP mailbox has been read: its UIDVALIDITY and the last UID stored."""

    __tablename__ = "mailbox_state"
    mailbox: Mapped[str] = mapped_column(String(500), primary_key=True)  # user@host/INBOX
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    last_uid: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
