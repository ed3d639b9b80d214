"""The table of each client's kept purchase figures (store/client_figures.py keeps it)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from goodwill.store.base import Base, UTCDateTime

#: The ``model_fits`` row holding the rhythm prior and the zone and currency rows are kept in.
KEPT = "rhythm"


class ClientFigures(Base):
    """One client's kept purchase figures (no row: no orders, or not kept yet)."""

    __tablename__ = "client_figures"
    client_id: Mapped[int] = mapped_column(
        ForeignKey("clients.id", ondelete="CASCADE"), primary_key=True
    )
    #: True when the client's orders changed since the row was computed.
    stale: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    #: How many times the row was marked stale: the engine writes a row only if none came since
    #: it read it.
    marks: Mapped[int] = mapped_column(Integer, default=0)
    zone: Mapped[str] = mapped_column(String(64), default="")
    currency: Mapped[str] = mapped_column(String(3), default="")
    orders: Mapped[int] = mapped_column(Integer, default=0)
    #: The newest order id folded in: later orders of the client are not counted yet.
    newest_order: Mapped[int] = mapped_column(Integer, default=0)
    first_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    spend_minor: Mapped[int] = mapped_column(BigInteger, default=0)  # in ``currency``
    other_currency_orders: Mapped[int] = mapped_column(Integer, default=0)
    days: Mapped[int] = mapped_column(Integer, default=0)  # distinct local purchase days
    first_day: Mapped[date | None] = mapped_column(Date, nullable=True)
    last_day: Mapped[date | None] = mapped_column(Date, nullable=True)
    first_day_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    last_day_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    log_gaps: Mapped[float] = mapped_column(Float, default=0.0)
    log_gap_squares: Mapped[float] = mapped_column(Float, default=0.0)
    #: The value panel's model figures, computed by the engine for ``value_stamp`` (the day and
    #: the fits they are for); another stamp means they are computed again on the page.
    value_stamp: Mapped[str | None] = mapped_column(String(200), nullable=True)
    p_alive: Mapped[float | None] = mapped_column(Float, nullable=True)
    purchases_year: Mapped[float | None] = mapped_column(Float, nullable=True)
    expected_spend: Mapped[float | None] = mapped_column(Float, nullable=True)
    clv: Mapped[float | None] = mapped_column(Float, nullable=True)


# The client list by highest spend or latest purchase reads these down (store/client_sort.py).
Index(
    "ix_client_figures_spend",
    ClientFigures.stale,
    ClientFigures.currency,
    ClientFigures.spend_minor.desc(),
    ClientFigures.client_id,
)
Index(
    "ix_client_figures_last",
    ClientFigures.stale,
    ClientFigures.currency,
    ClientFigures.last_at.desc(),
    ClientFigures.client_id,
)
