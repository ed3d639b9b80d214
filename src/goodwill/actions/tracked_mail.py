"""Tracked links in mail goodwill has just queued for a client.

Called right after the mail's outbox row is written, in the same transaction, so the copy that
leaves carries the tracked links while the sent copy on the conversation keeps the original
words. Nothing happens while ``tracking.clicks`` is off.
"""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage

from sqlalchemy import select
from sqlalchemy.orm import Session

from goodwill.mail.outbound import OUTBOX_POLICY
from goodwill.mail.tracked_links import click_signer, track_message
from goodwill.settings import Settings
from goodwill.store.models import Conversation, Message, Outbox

__all__ = ["track_queued", "track_reply"]


def track_queued(session: Session, settings: Settings, outbox_key: str, client_id: int) -> bool:
    """Rewrite the links of the queued email under ``outbox_key`` for ``client_id``; returns
    whether its body changed. A row already being sent or sent is left as it is."""
    signer = click_signer(settings)
    if signer is None:
        return False
    row = session.execute(
        select(Outbox).where(Outbox.key == outbox_key, Outbox.kind == "email")
    ).scalar_one_or_none()
    if row is None or row.status != "queued" or row.attempts:
        return False
    mail = message_from_bytes(row.body, policy=policy.default)
    assert isinstance(mail, EmailMessage)
    before = mail.as_bytes(policy=OUTBOX_POLICY)
    after = track_message(mail, client_id, outbox_key, signer).as_bytes(policy=OUTBOX_POLICY)
    if after == before:
        return False
    row.body = after
    return True


def track_reply(session: Session, settings: Settings, message_row_id: int) -> bool:
    """Track the links of the reply just queued by ``actions.inbox.reply`` (its row id)."""
    found = session.execute(
        select(Outbox.key, Conversation.client_id)
        .join(Message, Message.id == Outbox.message_row_id)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(Outbox.message_row_id == message_row_id)
    ).one_or_none()
    if found is None or found.client_id is None:
        return False
    return track_queued(session, settings, found.key, found.client_id)
