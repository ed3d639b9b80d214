"""Membership tests (``column IN values``) that stay one parameter on PostgreSQL.

A batch asks about thousands of ids at once. Written as ``IN (…)`` each id becomes its own
placeholder, and psycopg parses the long statement text in Python on every execution; on
PostgreSQL the values travel instead as one array: ``column = ANY(%(ids)s)``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, String, Text, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import InstrumentedAttribute, Session


def among(
    session: Session, column: InstrumentedAttribute[Any] | ColumnElement[Any], values: Iterable[Any]
) -> ColumnElement[bool]:
    """``column IN values``, as one array parameter when the store is PostgreSQL."""
    listed = list(values)
    if session.get_bind().dialect.name != "postgresql":
        return column.in_(listed)
    # A text array, not varchar(n): a cast to varchar(n) would cut a longer value to a match.
    kind = Text() if isinstance(column.type, String) else column.type
    return column == any_(bindparam(None, listed, type_=ARRAY(kind)))
