"""The idempotent write every source of events shares: insert what is new, skip what is stored.

Imports, mail, the engine and the pages all record facts keyed by the source's own ids, so a
retry or an overlapping file adds nothing twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from goodwill.store.models import Base


def table(model: type[Base]) -> Table:
    return cast(Table, model.__table__)


def insert_new(
    session: Session, model: type[Base], rows: Sequence[dict[str, Any]], keys: Sequence[str]
) -> int:
    """INSERT … ON CONFLICT DO NOTHING on the unique ``keys``: the idempotent write.

    Returns how many rows were new. The statement carries RETURNING, which also lets
    SQLAlchemy send the rows in multi-row statements instead of one round trip per row.
    """
    if not rows:
        return 0
    dialect: Any = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table(model)).on_conflict_do_nothing(index_elements=list(keys))
    returned = session.execute(stmt.returning(*table(model).primary_key.columns), list(rows))
    return len(returned.all())
