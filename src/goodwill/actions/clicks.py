"""A click on a tracked link: an ``email.link_clicked`` touch point for the client the mail was
for, unless it was not a person's.

Not a person's: a HEAD request, a known scanner's user agent, a click before the mail was
delivered or within ``tracking.min_seconds`` of it (mail-security scanners open every link as the
mail arrives). The same client clicking the same link of the same mail again that day (in the
business's timezone) is one touch point: the event's idempotency key says so. Nothing is recorded
while tracking is off, for a client no longer kept (erased), or for a mail goodwill has no row
of and never sent; the redirect happens all the same.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from goodwill.domain.click_tracking import counts_as_person
from goodwill.mail.tracked_links import Click
from goodwill.settings import Settings
from goodwill.store.ingest import insert_new
from goodwill.store.models import Client, Event, Outbox

__all__ = ["SOURCE", "TYPE", "record_click"]

log = logging.getLogger(__name__)

SOURCE = "click"
TYPE = "email.link_clicked"


def record_click(
    session: Session,
    settings: Settings,
    click: Click,
    *,
    method: str,
    user_agent: str | None,
    now: datetime,
) -> int | None:
    """Record a verified click; returns the new event's id, or None when nothing was recorded
    (not a person's, a repeat the same day, tracking off, the client gone)."""
    if not settings.tracking.get("clicks"):
        return None
    if session.get(Client, click.client_id) is None:
        return None
    mail = session.execute(
        select(Outbox.id, Outbox.status, Outbox.sent_at).where(Outbox.key == click.mail_ref)
    ).one_or_none()
    # A sent copy purged under privacy.raw_mail_days leaves no row: the mail was delivered.
    delivered = mail is None or mail.status == "sent"
    if not counts_as_person(
        method=method,
        user_agent=user_agent,
        delivered_at=mail.sent_at if mail is not None else None,
        delivered=delivered,
        now=now,
        min_seconds=float(settings.tracking["min_seconds"]),
    ):
        return None
    day = now.astimezone(settings.zone).date().isoformat()
    basis = json.dumps([click.client_id, click.mail_ref, click.url, day])
    external_id = "sha256-" + hashlib.sha256(basis.encode()).hexdigest()[:32]
    key = f"{SOURCE}:{TYPE}/{external_id}"
    payload = {
        "url": click.url,
        "mail": click.mail_ref,
        "outbox_id": mail.id if mail is not None else None,
    }
    row = {
        "type": TYPE,
        "client_id": click.client_id,
        "occurred_at": now,
        "recorded_at": now,
        "source": SOURCE,
        "external_id": external_id,
        "idempotency_key": key,
        "payload": payload,
    }
    if not insert_new(session, Event, [row], ["idempotency_key"]):
        return None
    event_id = session.execute(select(Event.id).where(Event.idempotency_key == key)).scalar_one()
    log.info("link click recorded as event %s for client %s", event_id, click.client_id)
    return event_id
