"""The planner's statistics brought up to date right after a bulk write.

PostgreSQL plans each statement from statistics that autovacuum refreshes only once a table
has changed by a tenth and its next round comes (a minute by default). Right after an import or
a first engine pass, a table that grew from nothing to thousands of rows is still planned as
nearly empty, and a join that should hash runs as nested loops over every pair: the client list
sorted by spend took 1.5 s at 2,000 clients for that reason, and would never end at a million.
So whoever writes in bulk refreshes what it grew, as autovacuum would, but at once. ANALYZE
reads a fixed sample (30,000 rows a table), so it costs about the same at any size, and it takes
no lock that stops reads or writes.

It is a help, never a condition: the rows are committed before it runs, so an ANALYZE that must
wait (a VACUUM or another ANALYZE holds the table, for longer than ``LOCK_WAIT``) or fails is
logged and left to autovacuum, and the import or the engine step it follows goes on.

SQLite is left as it is: without statistics its planner assumes large tables and prefers the
indexes, the plan every query here is written for.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

#: Fewer rows written than this never change a plan worth an ANALYZE.
GROWN = 1_000
#: The share of a table's known rows that must be new, as autovacuum's own threshold.
SHARE = 0.1
#: How long an ANALYZE waits for a table another maintenance job holds before it gives up.
LOCK_WAIT = "2s"


def stale_tables(known: Mapping[str, float], written: Mapping[str, int]) -> list[str]:
    """The tables whose statistics the writes outdated: at least ``GROWN`` rows written and
    at least a tenth of the rows the statistics know (a table never analysed knows -1)."""
    return sorted(
        table
        for table, rows in written.items()
        if rows >= GROWN and (known.get(table, -1.0) < 0 or rows >= SHARE * known[table])
    )


def refresh_statistics(store: sessionmaker[Session], written: Mapping[str, int]) -> list[str]:
    """ANALYZE the tables ``written`` (table name → rows written) outdated, on PostgreSQL, in a
    transaction of its own; returns the tables analysed (none when it could not: logged). Run
    it after the writes commit."""
    bind = store.kw.get("bind")
    if bind is None or bind.dialect.name != "postgresql":
        return []
    if not any(rows >= GROWN for rows in written.values()):
        return []
    try:
        with store.begin() as session:
            session.execute(text(f"SET LOCAL lock_timeout = '{LOCK_WAIT}'"))
            return _analyse(session, written)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", exc)).splitlines()[0]
        log.warning("planner statistics left to autovacuum: %s", reason)
        return []


def _analyse(session: Session, written: Mapping[str, int]) -> list[str]:
    known = {
        str(name): float(rows)
        for name, rows in session.execute(
            text(
                "SELECT c.relname, c.reltuples FROM pg_class c "
                "WHERE c.relkind IN ('r', 'p') AND c.relname = ANY(:names) "
                "AND pg_table_is_visible(c.oid)"
            ),
            {"names": list(written)},
        )
    }
    stale = [t for t in stale_tables(known, written) if t in known]
    for table in stale:
        session.execute(text(f'ANALYZE "{table}"'))
    return stale
