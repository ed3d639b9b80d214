"""The idempotent write every source of events shares: insert what is new, skip what is stored.

Imports, mail, the engine and the pages all record facts keyed by the source's own ids, so a
retry or an overlapping file adds nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, cast

from sqlalchemy import Column, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from goodwill.store.models import Base


def table(model: type[Base]) -> Table:
    return cast(Table, model.__table__)


def insert_new(
    session: Session, model: type[Base], rows: Sequence[dict[str, Any]], keys: Sequence[str]
) -> int:
    """INSERT … ON CONFLICT DO NOTHING on the unique ``keys``: the idempotent write.

    Returns how many rows were new.
    """
    return len(insert_rows(session, model, rows, keys=keys))


#: Below this many rows a multi-row INSERT is as quick as COPY and needs no scratch table.
COPY_FROM = 64


def insert_rows(
    session: Session,
    model: type[Base],
    rows: Sequence[dict[str, Any]],
    *,
    keys: Sequence[str] | None = None,
    returning: Sequence[str] = (),
) -> list[tuple[Any, ...]]:
    """Insert ``rows`` (all with the same columns) and return ``returning`` of each row written.

    With ``keys``, rows whose unique ``keys`` are stored already are skipped (ON CONFLICT DO
    NOTHING). The rows returned come in no promised order: callers match them on a column.
    On PostgreSQL many rows go in by COPY into a scratch table and one INSERT … SELECT from
    it: psycopg parses every multi-row INSERT's text in Python, which made that parse half of
    an import's time.
    """
    if not rows:
        return []
    tbl = table(model)
    if session.get_bind().dialect.name == "postgresql" and len(rows) >= COPY_FROM:
        copied = _copy_rows(session, tbl, rows, keys, returning)
        if copied is not None:
            return copied
    dialect: Any = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(tbl)
    if keys is not None:
        stmt = stmt.on_conflict_do_nothing(index_elements=list(keys))
    out = [tbl.c[name] for name in returning] or list(tbl.primary_key.columns)
    result = session.execute(stmt.returning(*out), list(rows)).all()
    return [tuple(row) for row in result] if returning else [() for _ in result]


def _copy_rows(
    session: Session,
    tbl: Table,
    rows: Sequence[dict[str, Any]],
    keys: Sequence[str] | None,
    returning: Sequence[str],
) -> list[tuple[Any, ...]] | None:
    """COPY into a scratch table shaped like ``tbl``'s columns, then INSERT … SELECT once.

    None when a column the rows leave out has a default only SQL can make.
    """
    dialect = session.get_bind().dialect
    given = list(rows[0])
    missing = [c for c in tbl.columns if c.name not in given and c.default is not None]
    if any(not (c.default.is_scalar or c.default.is_callable) for c in missing):  # type: ignore[union-attr]
        return None
    columns = [tbl.c[name] for name in given] + missing
    processors = [c.type.dialect_impl(dialect).bind_processor(dialect) for c in columns]
    defaults = [_python_default(c) for c in missing]
    names = ", ".join(dialect.identifier_preparer.quote(c.name) for c in columns)
    scratch = f"bulk_{tbl.name}"
    raw = session.connection().connection.driver_connection
    assert raw is not None
    with raw.cursor() as cur:
        cur.execute(
            f"CREATE TEMP TABLE {scratch} ON COMMIT DROP AS "
            f"SELECT {names} FROM {tbl.name} WITH NO DATA"
        )
        with cur.copy(f"COPY {scratch} ({names}) FROM STDIN") as copy:
            for row in rows:
                values = [row[name] for name in given] + [make() for make in defaults]
                copy.write_row([p(v) if p else v for p, v in zip(processors, values, strict=True)])
        conflict = ""
        if keys is not None:
            conflict = f" ON CONFLICT ({', '.join(keys)}) DO NOTHING"
        back = ", ".join(returning) if returning else "1"
        cur.execute(
            f"INSERT INTO {tbl.name} ({names}) SELECT {names} FROM {scratch}"
            f"{conflict} RETURNING {back}"
        )
        written = cur.fetchall()
        cur.execute(f"DROP TABLE {scratch}")
    return [tuple(row) for row in written] if returning else [() for _ in written]


def _python_default(column: Column[Any]) -> Callable[[], Any]:
    """What SQLAlchemy would fill in for a column the rows leave out (``default=``)."""
    default: Any = column.default
    if default.is_callable:
        return lambda: default.arg(None)
    return lambda: default.arg
