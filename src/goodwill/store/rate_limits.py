"""Fixed-window rate limits kept in the database, so several web processes share one count.

One row per key and window; a hit is one upsert that adds one and returns the count, atomic on
SQLite (writes are serialised) and on PostgreSQL (``ON CONFLICT DO UPDATE`` locks the row).
Windows more than an hour old are deleted whenever a new window opens, so the table holds only
the last hour of traffic.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from goodwill.domain.contact_form import window_of
from goodwill.store.models import RateWindow

__all__ = ["Hit", "hit"]

#: How long a window is kept after it ends.
KEEP = timedelta(hours=1)


@dataclass(frozen=True)
class Hit:
    """The count in the window after this hit, and when the window ends."""

    count: int
    window_end: datetime

    def retry_after(self, now: datetime) -> int:
        """Whole seconds until the window ends (at least 1), for a Retry-After header."""
        return max(1, int((self.window_end - now).total_seconds() + 0.999))


def hit(session: Session, key: str, *, seconds: int, now: datetime) -> Hit:
    """Count one hit for ``key`` in the ``seconds``-long window holding ``now``."""
    start, end = window_of(now, seconds)
    dialect: Any = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(RateWindow).values(key=key[:200], window_start=start, hits=1)
    count = session.execute(
        statement.on_conflict_do_update(
            index_elements=["key", "window_start"], set_={"hits": RateWindow.hits + 1}
        ).returning(RateWindow.hits)
    ).scalar_one()
    if count == 1:
        session.execute(delete(RateWindow).where(RateWindow.window_start < now - KEEP))
    return Hit(int(count), end)
