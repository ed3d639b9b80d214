"""A message through the public contact form, filed exactly as mail is.

The visitor's message becomes a real RFC 5322 message (their words, their files as attachments)
and goes through the inbox's :func:`~goodwill.actions.inbox.receive` with source ``form``: its
bytes are kept first, then it is threaded, matched to a client, assigned and put on the client's
SLA clock, and one that cannot be filed is kept and shown as failed, as mail is. An unknown
address becomes a lead there (``lead.created`` with via ``web_form``); a known lead asking (to
become a client, or a question) gets ``lead.info_requested``. The Message-ID is made of the
form's nonce and a digest of what was sent, so the same form sent twice is stored once.

A confirmation goes to the visitor through the outbox (its retries and back-off). It carries
none of the visitor's words, so the form cannot be used to send a stranger text of one's choice.
"""

from __future__ import annotations

import email.utils
import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import Literal

from sqlalchemy.orm import Session, sessionmaker

from goodwill.actions.inbox import client_of, receive
from goodwill.domain.clients import Kind
from goodwill.domain.contact_form import CHOICES, Submission, subject_for
from goodwill.errors import Throttled
from goodwill.settings import Settings
from goodwill.store.ingest import insert_new
from goodwill.store.models import Client, Event, Outbox
from goodwill.store.queries import overviews_for
from goodwill.store.rate_limits import hit

__all__ = ["SOURCE", "Sent", "check_rate", "compose", "submit"]

log = logging.getLogger(__name__)

SOURCE = "form"
#: The domain of the form's Message-IDs when goodwill has no mail address of its own.
FALLBACK_DOMAIN = "contact.goodwill.invalid"
#: Choices that, from a known lead, are a request for information.
ASKING = frozenset({"client", "question"})
#: The rate limit's window, in seconds.
WINDOW = 60

Lead = Literal["created", "info_requested"]


@dataclass(frozen=True)
class Sent:
    """What became of a submission: the kept message, its conversation (None while it waits to
    be filed, or when it failed), the client, whether it was a resend of one already kept, what
    it did for a lead, and whether a confirmation was queued."""

    inbound_id: int
    conversation_id: int | None
    client_id: int | None
    duplicate: bool
    lead: Lead | None
    confirmation: bool


def check_rate(
    store: sessionmaker[Session], settings: Settings, address: str | None, *, now: datetime
) -> None:
    """Count one post from ``address``; Throttled (with Retry-After) beyond ``per_minute``.

    The count is kept in its own transaction, so a refused post counts too. The address is
    kept only as a hash, and only for an hour."""
    digest = hashlib.sha256((address or "unknown").encode()).hexdigest()[:40]
    with store.begin() as session:
        counted = hit(session, f"contact:{digest}", seconds=WINDOW, now=now)
    if counted.count > int(settings.contact_form["per_minute"]):
        wait = counted.retry_after(now)
        log.info("contact form post %s from one address this minute: refused", counted.count)
        raise Throttled(
            "Too many messages came from your address in the last minute. "
            f"Please wait {wait} seconds, then send your message again.",
            retry_after=wait,
        )


def compose(
    submission: Submission, settings: Settings, *, nonce: str, now: datetime
) -> tuple[bytes, str]:
    """The submission as a message to the business (bytes, and its Message-ID without brackets).

    Everything that decides the body is fixed by what was sent (the MIME boundary included), so
    the same submission composed again has the same body and the same Message-ID."""
    sender = str(settings.mail.get("from_address") or f"contact@{FALLBACK_DOMAIN}")
    domain = sender.rsplit("@", 1)[-1]
    digest = submission.digest()
    safe_nonce = "".join(ch for ch in nonce if ch.isalnum() or ch in "-_")[:40]
    message_id = f"form-{safe_nonce}-{digest[:16]}@{domain}"
    mail = EmailMessage()
    mail["From"] = email.utils.formataddr((submission.name, submission.email))
    mail["To"] = email.utils.formataddr((settings.business_name or "", sender))
    mail["Subject"] = subject_for(submission)
    mail["Date"] = email.utils.format_datetime(now)
    mail["Message-ID"] = f"<{message_id}>"
    mail["X-Goodwill-Form"] = submission.choice
    lines = [f"Sent through the contact form: {CHOICES[submission.choice]}"]
    if submission.phone:
        lines.append(f"Phone: {submission.phone}")
    mail.set_content("\n".join(lines) + "\n\n" + submission.message + "\n")
    for attachment in submission.attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        mail.add_attachment(
            attachment.content, maintype=maintype, subtype=subtype, filename=attachment.filename
        )
    if mail.is_multipart():
        mail.set_boundary(f"goodwill-form-{digest[:32]}")
    return mail.as_bytes(), message_id


def submit(
    store: sessionmaker[Session],
    settings: Settings,
    submission: Submission,
    *,
    nonce: str,
    now: datetime,
) -> Sent:
    """File a checked submission as a message (see the module docstring). Raises only when
    its bytes could not be stored (the store unreachable): the visitor is asked to send again."""
    raw, message_id = compose(submission, settings, nonce=nonce, now=now)
    with store() as session:
        known = client_of(session, submission.email)
        was_lead = known is not None and _is_lead(session, settings, known, now=now)
    received = receive(store, settings, raw, source=SOURCE, now=now)
    if received.duplicate:
        log.info("contact form message %s sent again: kept once", received.inbound_id)
        return Sent(received.inbound_id, received.conversation_id, known, True, None, False)
    lead: Lead | None = None
    with store.begin() as session:
        client_id = known if known is not None else client_of(session, submission.email)
        if known is None and client_id is not None:
            lead = "created"
            client = session.get(Client, client_id)
            if client is not None and submission.phone and not client.phone:
                client.phone = submission.phone
        elif known is not None and was_lead and submission.choice in ASKING:
            lead = "info_requested"
            _info_requested(session, known, submission, message_id, received.conversation_id, now)
        confirmation = _confirm(session, settings, submission, message_id, now=now)
    log.info(
        "contact form message %s filed (%s) in conversation %s for client %s",
        received.inbound_id,
        received.status,
        received.conversation_id,
        client_id,
    )
    return Sent(received.inbound_id, received.conversation_id, client_id, False, lead, confirmation)


def _is_lead(session: Session, settings: Settings, client_id: int, *, now: datetime) -> bool:
    today = now.astimezone(settings.zone).date()
    overview = overviews_for(session, settings, [client_id], today=today).get(client_id)
    return overview is not None and overview.kind == Kind.LEAD


def _info_requested(
    session: Session,
    client_id: int,
    submission: Submission,
    message_id: str,
    conversation_id: int | None,
    now: datetime,
) -> None:
    external_id = f"info/{message_id}"[:300]
    insert_new(
        session,
        Event,
        [
            {
                "type": "lead.info_requested",
                "client_id": client_id,
                "occurred_at": now,
                "recorded_at": now,
                "source": SOURCE,
                "external_id": external_id,
                "idempotency_key": f"{SOURCE}:lead.info_requested/{external_id}"[:400],
                "payload": {
                    "topic": subject_for(submission),
                    "via": "web_form",
                    "conversation_id": conversation_id,
                },
            }
        ],
        ["idempotency_key"],
    )


def _confirm(
    session: Session, settings: Settings, submission: Submission, message_id: str, *, now: datetime
) -> bool:
    """Queue the visitor's confirmation; False when goodwill has no mail address to send from."""
    sender = settings.mail.get("from_address")
    if not sender:
        log.info("contact form confirmation not queued: mail.from_address is not set")
        return False
    business = settings.business_name
    mail = EmailMessage()
    mail["From"] = email.utils.formataddr((business or "", str(sender)))
    mail["To"] = submission.email
    mail["Subject"] = f"{business}: we have your message" if business else "We have your message"
    mail["Date"] = email.utils.format_datetime(now)
    mail["Message-ID"] = f"<thanks-{message_id}>"
    mail["In-Reply-To"] = f"<{message_id}>"
    mail["References"] = f"<{message_id}>"
    mail["Auto-Submitted"] = "auto-replied"  # RFC 3834: no auto-responder answers it
    signature = f"\n\n{business}" if business else ""
    mail.set_content(
        f"Hello,\n\nThank you for writing to {business or 'us'}. Your message has reached us, "
        "and a person will answer it by email.\n\nTo add something, reply to this mail."
        f"{signature}\n"
    )
    row = {
        "key": f"contact:{message_id}"[:500],
        "kind": "email",
        "recipients": [submission.email],
        "body": mail.as_bytes(),
        "status": "queued",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }
    insert_new(session, Outbox, [row], ["key"])
    return True
