"""Mail about a person's own account (a lockout, a reset link, an invitation), through the outbox.

Queued in the caller's transaction under a unique key, like every other mail goodwill sends; with
no ``mail.from_address`` nothing is queued and the caller says so (the link can still be handed
over by the owner from the CLI or the users page).
"""

from __future__ import annotations

import email.utils
import logging
from datetime import datetime
from email.message import EmailMessage

from sqlalchemy.orm import Session

from goodwill.settings import Settings
from goodwill.store.ingest import insert_new
from goodwill.store.models import Outbox

log = logging.getLogger(__name__)


def queue_account_mail(
    session: Session,
    settings: Settings,
    *,
    to: str,
    subject: str,
    text: str,
    key: str,
    now: datetime,
) -> bool:
    """Queue one plain-text mail to ``to``; False when mail is not set up (or already queued)."""
    sender = settings.mail.get("from_address")
    if not sender:
        log.info("account mail %s not queued: mail.from_address is not set", key.split(":")[0])
        return False
    mail = EmailMessage()
    mail["From"] = str(sender)
    mail["To"] = to
    mail["Subject"] = subject
    mail["Date"] = email.utils.format_datetime(now)
    mail["Message-ID"] = email.utils.make_msgid(domain=str(sender).rsplit("@", 1)[-1])
    mail.set_content(text)
    row = {
        "key": key[:500],
        "kind": "email",
        "recipients": [to],
        "body": mail.as_bytes(),
        "status": "queued",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }
    return bool(insert_new(session, Outbox, [row], ["key"]))
