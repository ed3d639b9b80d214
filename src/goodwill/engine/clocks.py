"""Response clocks: warnings before a breach and alerts at it, each fired once at its instant.

A conversation's clock stores its warning and due instants (see ``Conversation``), so the scan is
an index lookup. Each warning and breach is a touch point (``sla.warning``, ``sla.breach``, so
playbooks can act on them) keyed by the conversation and the clock's number, and is notified by
email (the assignee is warned; the owner and the assignee are alerted at breach) and to the
configured webhooks, through outbox rows whose unique keys make every notice go out once however
often the scan runs. The events carry the instant the clock reached, not the scan's time.
"""

from __future__ import annotations

import email.utils
import json
from collections.abc import Sequence
from datetime import datetime
from email.message import EmailMessage
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from goodwill.domain.touchpoints import Derived
from goodwill.settings import Settings
from goodwill.store.ingest import insert_new
from goodwill.store.models import Client, Conversation, Outbox, StaffUser


def clock_events(session: Session, *, now: datetime) -> list[tuple[int | None, datetime, Derived]]:
    """The warnings and breaches reached by ``now`` on running clocks."""
    rows = session.execute(
        select(Conversation).where(
            Conversation.sla_running_since.is_not(None),
            or_(Conversation.sla_warn_at <= now, Conversation.sla_due_at <= now),
        )
    ).scalars()
    out: list[tuple[int | None, datetime, Derived]] = []
    for c in rows:
        payload = {
            "conversation_id": c.id,
            "subject": c.subject,
            "due_at": c.sla_due_at.isoformat() if c.sla_due_at else None,
            "policy": c.sla_policy,
            "critical": c.sla_critical,
            "assignee_id": c.assignee_id,
        }
        for kind, at in (("warning", c.sla_warn_at), ("breach", c.sla_due_at)):
            if at is not None and at <= now:
                key = f"scan:sla/{c.id}/{c.sla_clock}/{kind}"
                out.append((c.client_id, at, Derived(f"sla.{kind}", key, payload)))
    return out


def notify(
    session: Session,
    settings: Settings,
    events: Sequence[tuple[int | None, datetime, Derived]],
    *,
    owner_id: int | None,
    now: datetime,
) -> int:
    """Outbox rows for the events: mail to the people concerned, and the webhooks."""
    if not events:
        return 0
    staff = {u.id: u for u in session.execute(select(StaffUser)).scalars()}
    clients = {
        c.id: c
        for c in session.execute(
            select(Client).where(Client.id.in_({e[0] for e in events if e[0] is not None}))
        ).scalars()
    }
    sender = settings.mail.get("from_address")
    rows: list[dict[str, Any]] = []
    for client_id, at, derived in events:
        breach = derived.type == "sla.breach"
        assignee = derived.payload.get("assignee_id")
        people = {assignee} | ({owner_id} if breach else set())
        client = clients.get(client_id or -1)
        who = client.name if client else "a client"
        for person in sorted(p for p in people if p in staff):
            user = staff[person]
            if not sender or not user.active:
                continue
            mail = EmailMessage()
            mail["From"] = str(sender)
            mail["To"] = user.email
            mail["Subject"] = (
                f"Response target missed: {who} — {derived.payload['subject']}"
                if breach
                else f"Answer soon: {who} — {derived.payload['subject']}"
            )
            mail["Date"] = email.utils.format_datetime(now)
            mail["Message-ID"] = email.utils.make_msgid(domain=str(sender).rsplit("@", 1)[-1])
            due = derived.payload.get("due_at")
            mail.set_content(
                (
                    f"{who} has waited past the response target ({due})."
                    if breach
                    else f"{who} is owed an answer by {due}."
                )
                + f"\nConversation {derived.payload['conversation_id']}: "
                f"{derived.payload['subject']}\n"
            )
            rows.append(
                _row(
                    f"notify:{derived.key}:{user.email}",
                    "email",
                    [user.email],
                    mail.as_bytes(),
                    now,
                )
            )
        for hook in settings.webhooks:
            wanted = hook.get("events")
            if wanted and derived.type not in wanted:
                continue
            body = json.dumps(
                {
                    "event": derived.type,
                    "at": at.isoformat(),
                    "client": {
                        "id": client.external_id if client else None,
                        "name": who,
                    },
                    **derived.payload,
                }
            ).encode()
            url = str(hook["url"])
            rows.append(_row(f"webhook:{derived.key}:{url}", "webhook", [url], body, now))
    return insert_new(session, Outbox, rows, ["key"])


def _row(key: str, kind: str, recipients: list[str], body: bytes, now: datetime) -> dict[str, Any]:
    return {
        "key": key[:500],
        "kind": kind,
        "recipients": recipients,
        "body": body,
        "status": "queued",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }
