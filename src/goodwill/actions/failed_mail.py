"""Messages that arrived, were kept, and could not be filed: listed with their reason, and tried
again once the reason is dealt with (`goodwill mail failed`, `goodwill mail retry`)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import LargeBinary, func, select
from sqlalchemy.orm import Session, sessionmaker

from goodwill.actions.inbox import Received, file_stored
from goodwill.errors import InvalidInput, NotFound
from goodwill.mail.parse import sender_and_subject
from goodwill.settings import Settings
from goodwill.store.models import InboundMail

__all__ = ["FailedMail", "failed_mail", "retry_failed"]

log = logging.getLogger(__name__)

#: How much of a raw message is read to show its sender and subject.
HEAD_BYTES = 64 * 1024
#: Statuses a message can be filed again from.
RETRYABLE = ("failed", "stored")


@dataclass(frozen=True)
class FailedMail:
    """One kept message that could not be filed; sender and subject as its headers say."""

    id: int
    received_at: datetime
    failed_at: datetime | None
    source: str
    from_address: str | None
    subject: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "received_at": self.received_at.isoformat(),
            "failed_at": self.failed_at.isoformat() if self.failed_at else None,
            "source": self.source,
            "from": self.from_address,
            "subject": self.subject,
            "reason": self.reason,
        }


def failed_mail(store: sessionmaker[Session], *, limit: int = 200) -> list[FailedMail]:
    """The messages marked failed, newest first (at most ``limit``)."""
    with store() as session:
        rows = session.execute(
            select(
                InboundMail.id,
                InboundMail.received_at,
                InboundMail.failed_at,
                InboundMail.source,
                InboundMail.error,
                func.substr(InboundMail.raw, 1, HEAD_BYTES, type_=LargeBinary),
            )
            .where(InboundMail.status == "failed")
            .order_by(InboundMail.id.desc())
            .limit(limit)
        ).all()
    found = []
    for inbound_id, received_at, failed_at, source, error, head in rows:
        sender, subject = sender_and_subject(bytes(head or b""))
        found.append(
            FailedMail(
                id=int(inbound_id),
                received_at=received_at,
                failed_at=failed_at,
                source=source,
                from_address=sender,
                subject=subject,
                reason=error or "unknown reason",
            )
        )
    return found


def retry_failed(
    store: sessionmaker[Session],
    settings: Settings,
    inbound_ids: Sequence[int] | None,
    *,
    now: datetime,
) -> list[tuple[int, Received]]:
    """File the given kept messages again (``None``: every failed one, oldest first); each is
    filed, or failed again with its new reason. A message already filed is refused."""
    with store() as session:
        query = select(InboundMail.id, InboundMail.status)
        if inbound_ids is None:
            query = query.where(InboundMail.status == "failed").order_by(InboundMail.id)
        else:
            query = query.where(InboundMail.id.in_(list(inbound_ids)))
        found = {int(i): str(s) for i, s in session.execute(query).all()}
    ids = sorted(found) if inbound_ids is None else list(dict.fromkeys(inbound_ids))
    for inbound_id in ids:
        if inbound_id not in found:
            raise NotFound(f"no inbound message {inbound_id}", inbound_id=inbound_id)
        if found[inbound_id] not in RETRYABLE:
            raise InvalidInput(
                f"inbound message {inbound_id} is {found[inbound_id]}, not failed",
                inbound_id=inbound_id,
            )
    done = [(i, file_stored(store, settings, i, now=now)) for i in ids]
    log.info(
        "retried %s kept messages: %s filed", len(done), sum(r.status == "parsed" for _, r in done)
    )
    return done
