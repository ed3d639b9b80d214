"""The follow-ups and links one engine batch makes, written together at the batch's end.

A batch that creates hundreds of follow-ups sends one multi-row INSERT … ON CONFLICT DO NOTHING
for them and one for their links to events, not two statements a follow-up: on a busy
PostgreSQL each round trip costs more than the row. Exactly-once still comes from the unique
keys: a row that another worker committed a moment ago (the rule's key, or an open follow-up for
the same client and reason) is skipped by the database and the event is linked to that one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from goodwill.store.idempotent_insert import insert_new
from goodwill.store.models import FollowUp, FollowUpEvent

log = logging.getLogger(__name__)

#: A follow-up as the batch knows it: its id once stored, its key while it waits to be written.
Ref = int | str


@dataclass
class Written:
    created: int = 0
    suppressed: int = 0  # made by another worker first: the events are linked to that one


@dataclass
class Pending:
    rows: list[dict[str, Any]] = field(default_factory=list)
    links: list[tuple[Ref, int]] = field(default_factory=list)

    def add(self, values: dict[str, Any]) -> str:
        """A follow-up to create; its key stands for it until it is written."""
        self.rows.append(values)
        return str(values["key"])

    def link(self, followup: Ref, event_id: int) -> None:
        self.links.append((followup, event_id))

    def write(self, session: Session) -> Written:
        """Insert the waiting follow-ups, then the links (each only once: a retried batch or
        another worker's rows are skipped)."""
        written = Written()
        ids: dict[str, int | None] = {}
        if self.rows:
            table = FollowUp.__table__
            dialect: Any = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
            stmt = dialect.insert(table).on_conflict_do_nothing().returning(table.c.id, table.c.key)
            ids.update((key, int(i)) for i, key in session.execute(stmt, self.rows).all())
            for row in self.rows:
                if row["key"] in ids:
                    written.created += 1
                    log.info("follow-up created: rule=%s client=%s", row["rule"], row["client_id"])
                else:
                    written.suppressed += 1
                    ids[row["key"]] = _taken_by(session, row)
        links = [
            {"followup_id": ref if isinstance(ref, int) else ids.get(ref), "event_id": event}
            for ref, event in self.links
        ]
        insert_new(
            session,
            FollowUpEvent,
            [link for link in links if link["followup_id"] is not None],
            ["followup_id", "event_id"],
        )
        self.rows, self.links = [], []
        return written


def _taken_by(session: Session, row: dict[str, Any]) -> int | None:
    """The follow-up that kept ``row`` out: its key, or the client's open one for the reason."""
    return (
        session.execute(
            select(FollowUp.id)
            .where(
                (FollowUp.key == row["key"])
                | and_(
                    FollowUp.client_id == row["client_id"],
                    FollowUp.open_reason == row["open_reason"],
                )
            )
            .order_by(FollowUp.id.desc())
        )
        .scalars()
        .first()
    )


@dataclass
class Known:
    """Follow-up facts of one batch: keys already used, (event, reason) pairs already linked,
    and the open follow-up per (client, reason)."""

    keys: set[str] = field(default_factory=set)
    handled: set[tuple[int, str]] = field(default_factory=set)
    open: dict[tuple[int, str | None], Ref] = field(default_factory=dict)
