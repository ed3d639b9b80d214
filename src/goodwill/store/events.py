"""Recording touch points that arrive from outside (the API, the CLI, a web form).

Exactly once: the event's idempotency key is the source plus the caller's external id (or, when
none is given, a digest of what the event says), so a retried request stores nothing twice.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from goodwill.domain.records import ClientRef
from goodwill.domain.touchpoints import TOUCH_POINTS
from goodwill.errors import InvalidInput
from goodwill.settings import Settings
from goodwill.store.ingest import Ingest, insert_new
from goodwill.store.models import Event


def record_touch_point(
    session: Session,
    settings: Settings,
    *,
    type: str,
    client: ClientRef,
    occurred_at: datetime,
    source: str,
    payload: dict[str, Any],
    now: datetime,
    external_id: str | None = None,
) -> tuple[int, bool]:
    """Append a touch point for ``client`` (created as a lead when unknown).

    Returns (event id, whether it was new).
    """
    if type not in TOUCH_POINTS:
        raise InvalidInput(
            f"{type!r} is not a touch point (known: {', '.join(sorted(TOUCH_POINTS))})",
            field="type",
        )
    if not source.strip() or ":" in source:
        raise InvalidInput("source must be a name without ':'", field="source")
    if occurred_at.tzinfo is None:
        raise InvalidInput("occurred_at needs a time zone or offset", field="occurred_at")
    client_id = Ingest(session, now=now, zone=settings.zone).resolve([client])[client]
    if external_id is None:
        basis = json.dumps(
            [type, client_id, occurred_at.isoformat(), payload], sort_keys=True, default=str
        )
        external_id = "sha256-" + hashlib.sha256(basis.encode()).hexdigest()[:32]
    key = f"{source}:{type}/{external_id}"
    existing = session.execute(
        select(Event.id).where(Event.idempotency_key == key)
    ).scalar_one_or_none()
    if existing is not None:
        return existing, False
    insert_new(
        session,
        Event,
        [
            {
                "type": type,
                "client_id": client_id,
                "occurred_at": occurred_at,
                "recorded_at": now,
                "source": source,
                "external_id": external_id,
                "idempotency_key": key,
                "payload": payload,
            }
        ],
        ["idempotency_key"],
    )
    event_id = session.execute(select(Event.id).where(Event.idempotency_key == key)).scalar_one()
    return event_id, True
