"""The table of the last insights answer of each view (store/insights_answers.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from goodwill.store.base import Base, UTCDateTime


class InsightsAnswer(Base):
    """The newest answer worked out for one view: the weeks up to today (or a fixed range), the
    filters and the settings that shape the figures. Aggregates only, no client's own data."""

    __tablename__ = "insights_answers"
    #: A digest of the view (store/insights_answers.py ``view_of``).
    view: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: The day asked on and the range, ISO dates: "as_of since until".
    asked: Mapped[str] = mapped_column(String(40))
    #: The store's ``data_version`` the answer was worked out at, as JSON.
    version: Mapped[str] = mapped_column(Text)
    took: Mapped[float] = mapped_column(Float)  # seconds to work it out
    orders: Mapped[int] = mapped_column(BigInteger)  # the newest order's id then
    figured_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answer: Mapped[str] = mapped_column(Text)  # the Insights, as JSON
