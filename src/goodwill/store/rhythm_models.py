"""The rhythms the refit leaves behind, so the At risk list reads only the rows it shows.

One row per client's overall rhythm (``category`` empty) and per client and product category,
as ``domain.cadence.learn`` gave them at the last refit, with the day numbers (days since
1970-01-01) the list filters and orders by in SQL. ``rhythm_snapshots`` holds the one row that
says what they were learned from: the newest order then, the settings, and the priors a client
whose orders changed since is learned again from.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from goodwill.store.base import Base, UTCDateTime

OVERALL = ""
"""The ``category`` of a client's overall rhythm."""


class RhythmRow(Base):
    __tablename__ = "rhythm_rows"
    __table_args__ = (
        # Who is overdue on a day: a range of due_by_day within overall or category rows.
        Index("ix_rhythm_rows_category_due", "category", "due_by_day"),
        # The list's order (a year of the rhythm, then the longest overdue) read from the index.
        Index("ix_rhythm_rows_rank", "year_value", "expected_day"),
        Index("ix_rhythm_rows_client", "client_id", "category"),
        # Who may be on the list on a day: the rows due by then that had not lapsed when last
        # looked at, a few hundred where every row ever due is tens of thousands. One column,
        # so the planner's statistics see how few they are.
        Index("ix_rhythm_rows_open_due", "open_due_day"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    category: Mapped[str] = mapped_column(String(200))
    last_day: Mapped[int] = mapped_column(Integer)
    expected_day: Mapped[int] = mapped_column(Integer)
    due_by_day: Mapped[int] = mapped_column(Integer)
    usual_interval: Mapped[float] = mapped_column(Float)
    mean_value: Mapped[float | None] = mapped_column(Float)  # None: no amounts in the currency
    year_value: Mapped[float] = mapped_column(Float)  # mean × purchases a year; 0 when unknown
    #: ``due_by_day`` while the row may still be on the list; None once it has lapsed (more
    #: than max_cycles cycles missed) by the snapshot's ``lapsed_on``, so on no later day's
    #: list unless lapsed rows are asked for. Read only when ``lapsed_on`` is set.
    open_due_day: Mapped[int | None] = mapped_column(Integer, nullable=True)


class RhythmSnapshot(Base):
    __tablename__ = "rhythm_snapshots"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # always 1
    as_of: Mapped[date] = mapped_column(Date)
    made_at: Mapped[datetime] = mapped_column(UTCDateTime)
    newest_order: Mapped[int] = mapped_column(Integer)  # 0: no orders
    settings_key: Mapped[str] = mapped_column(String(300))
    currency: Mapped[str] = mapped_column(String(3))
    priors: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: The day the rows' ``open_due_day`` holds from, and the max_cycles it was set under
    #: (None: not yet set; the list then tests every row due).
    lapsed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    lapsed_cycles: Mapped[int | None] = mapped_column(Integer, nullable=True)
