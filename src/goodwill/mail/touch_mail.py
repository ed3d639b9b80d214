"""The mail of an automated touch: the rule's template filled for one client, from the business,
signed by the client's owner, with the one-click unsubscribe (actions/touches.py sends it)."""

from __future__ import annotations

import email.utils
from collections.abc import Mapping
from datetime import datetime
from email.message import EmailMessage
from typing import Any

from sqlalchemy.orm import Session

from goodwill.domain.playbooks import Rule
from goodwill.domain.unsubscribe import prepare_marketing
from goodwill.settings import Settings
from goodwill.store.models import Client

__all__ = ["compose"]


def compose(
    session: Session,
    settings: Settings,
    rule: Rule,
    client: Client,
    *,
    payload: Mapping[str, Any],
    now: datetime,
    followup_id: int | None = None,
) -> EmailMessage:
    """The mail for ``rule``'s touch point ``payload``: its template filled for the client, from
    the business and signed by the client's owner. Every automated touch offers the one-click
    unsubscribe, marketing or not: a client can always stop mail a machine sends them."""
    from goodwill.touch_messages import render_message, signer_for, touch_placeholders

    assert rule.template is not None and client.email
    context = touch_placeholders(
        session,
        settings,
        rule=rule,
        client_id=client.id,
        payload=payload,
        today=now.astimezone(settings.zone).date(),
    )
    text = render_message(settings, rule.template, context)
    signer = signer_for(session, settings, rule, client)
    sender = str(settings.mail["from_address"])
    business = settings.business_name
    mail = EmailMessage()
    shown = f"{signer.name} at {business}" if business else signer.name
    mail["From"] = email.utils.formataddr((shown, sender))
    mail["To"] = email.utils.formataddr((client.name, client.email))
    mail["Subject"] = text.subject or (f"A note from {business}" if business else "A note")
    mail["Date"] = email.utils.format_datetime(now)
    # The follow-up's id in the Message-ID lets a bounce that quotes it find the touch.
    mail["Message-ID"] = email.utils.make_msgid(
        idstring=f"touch.{followup_id}" if followup_id is not None else None,
        domain=sender.rsplit("@", 1)[-1],
    )
    # RFC 3834: holiday auto-replies should not answer an automated touch.
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(text.body)
    from goodwill.web.secret import secret_key

    return prepare_marketing(
        mail,
        key=secret_key(settings),
        client_id=client.id,
        public_url=settings.public_url,
        mailto=settings.mail.get("unsubscribe_address") or None,
    )
