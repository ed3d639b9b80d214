"""What a store function asks the database, and how the database would answer it: the tests
that an index serves a read capture the statement as it ran and ask for its plan."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.orm import Session


@contextmanager
def recorded(session: Session) -> Iterator[list[tuple[str, Any]]]:
    """The statements (and their parameters) run on the session's engine within the block."""
    seen: list[tuple[str, Any]] = []
    engine = session.get_bind().engine

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def plan_of(session: Session, statement: str, parameters: Any) -> str:
    """The statement's plan as one line; on PostgreSQL with sequential scans priced out, so a
    table read whole means no index could serve it."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL enable_seqscan = off"))
        explain = "EXPLAIN "
    else:
        explain = "EXPLAIN QUERY PLAN "
    rows = session.connection().exec_driver_sql(explain + statement, parameters)
    return " ".join(str(value) for row in rows for value in row)
