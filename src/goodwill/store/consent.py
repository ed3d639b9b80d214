"""Changing a client's marketing consent: withdrawn through an unsubscribe link (audited, on the
timeline), or read from an import (the import's own log says which file did it)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from goodwill.domain.audit import Actor
from goodwill.domain.consent import LINK_HOW, from_import, import_how
from goodwill.domain.exports import Document
from goodwill.store.audit import record
from goodwill.store.models import Client, Event

if TYPE_CHECKING:
    from goodwill.store.ingest import Ingest

log = logging.getLogger(__name__)

SOURCE = "unsubscribe"


def _state(client: Client) -> dict[str, object]:
    return {
        "marketing_consent": client.marketing_consent,
        "consent_at": client.consent_at.isoformat() if client.consent_at else None,
        "consent_how": client.consent_how,
    }


def withdraw_marketing(session: Session, client: Client, *, now: datetime, actor: Actor) -> bool:
    """Record that ``client`` withdrew marketing consent through their unsubscribe link:
    the consent columns, an audit entry and a ``client.unsubscribed`` event on their timeline.

    Returns whether anything changed: a client already withdrawn is left exactly as they are
    (a second click, or a mail program retrying, records nothing twice).
    """
    session.refresh(client, with_for_update=True)  # two clicks at once record one withdrawal
    if client.marketing_consent is False:
        return False
    before = _state(client)
    client.marketing_consent = False
    client.consent_at = now
    client.consent_how = LINK_HOW
    client.updated_at = now
    client.version += 1  # an edit made on the page before this is refused, not undoing it
    entry = record(
        session,
        actor,
        "client.unsubscribed",
        at=now,
        object_type="client",
        object_id=client.id,
        client_id=client.id,
        before=before,
        after={**_state(client), "version": client.version},
        detail="marketing consent withdrawn through the unsubscribe link",
    )
    session.add(
        Event(
            type="client.unsubscribed",
            client_id=client.id,
            occurred_at=now,
            recorded_at=now,
            source=SOURCE,
            external_id=str(entry.id),
            idempotency_key=f"{SOURCE}:client.unsubscribed/{entry.id}",
            payload={"how": LINK_HOW, "was": before["marketing_consent"]},
        )
    )
    session.flush()
    log.info("client %s unsubscribed from marketing", client.id)
    return True


def take_from_import(client: Client, given: bool | None, *, how: str, now: datetime) -> bool:
    """Set ``client``'s consent as an import row states it (see ``domain.consent.from_import``);
    returns whether it changed."""
    value = from_import(client.marketing_consent, client.consent_how, given)
    if value is None:
        return False
    client.marketing_consent = value
    client.consent_at = now
    client.consent_how = how
    return True


def import_consent(ingest: Ingest, documents: Sequence[Document], profile: str | None) -> int:
    """Take the consent the documents read by import ``profile`` state (in file order: the last
    a file says of a client stands). Returns how many clients changed."""
    how = import_how(profile or "profile")
    stated = [(d.ref, d.marketing_consent) for d in documents if d.marketing_consent is not None]
    if not stated:
        return 0
    ids = ingest.resolve(ref for ref, _ in stated)
    last = {ids[ref]: value for ref, value in stated}
    clients = ingest.session.execute(select(Client).where(Client.id.in_(set(last)))).scalars()
    changed = 0
    for client in clients:
        if take_from_import(client, last[client.id], how=how, now=ingest.now):
            client.updated_at = ingest.now
            changed += 1
    ingest.session.flush()
    return changed
