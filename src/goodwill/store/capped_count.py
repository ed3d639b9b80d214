"""Counting only as far as a page needs: on a store of a million clients, counting every
match takes the database longer than the whole page, while "more than 10,000" says enough."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select


def cap_past(shown_end: int, step: int) -> int:
    """The next multiple of ``step`` past the last row shown (``shown_end``, the offset plus
    the page's size): a count up to it always tells whether a next page exists."""
    return step * (shown_end // step + 1)


def count_up_to(rows: Select[Any], cap: int) -> Select[Any]:
    """How many rows ``rows`` selects, counting no further than ``cap + 1``: a result above
    ``cap`` means "more than ``cap``"."""
    return select(func.count()).select_from(rows.limit(cap + 1).subquery())
