"""Membership tests (``column IN values``) for sets of any size, as few parameters as can be.

A batch asks about thousands of ids at once. Written as ``IN (…)`` each id becomes its own
placeholder: psycopg parses the long statement text in Python on every execution, and neither
store takes more than a bounded number of placeholders (PostgreSQL 65,535, SQLite 32,766), which
a million clients pass. On PostgreSQL the values travel as one array, ``column = ANY(:ids)``;
on SQLite a set past the bound travels as one JSON text read by ``json_each``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, String, Text, any_, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import InstrumentedAttribute, Session

#: Below SQLite's 32,766 placeholders a statement may hold, with room for the rest of it.
SQLITE_BINDS = 30_000


def among(
    session: Session, column: InstrumentedAttribute[Any] | ColumnElement[Any], values: Iterable[Any]
) -> ColumnElement[bool]:
    """``column IN values``, as one parameter on PostgreSQL (and on SQLite for a large set)."""
    listed = list(values)
    if session.get_bind().dialect.name != "postgresql":
        if len(listed) <= SQLITE_BINDS:
            return column.in_(listed)
        each = func.json_each(bindparam(None, json.dumps(listed), type_=Text())).table_valued(
            "value"
        )
        return column.in_(select(each.c.value))
    # A text array, not varchar(n): a cast to varchar(n) would cut a longer value to a match.
    kind = Text() if isinstance(column.type, String) else column.type
    return column == any_(bindparam(None, listed, type_=ARRAY(kind)))
