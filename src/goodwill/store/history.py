"""Purchase history as arrays, for the models: one row per order (or per order line's category)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import case, literal_column, select
from sqlalchemy.orm import Session

from goodwill.domain.money import exponent
from goodwill.settings import Settings
from goodwill.store.among import among as among_ids
from goodwill.store.models import Order, OrderLine
from goodwill.store.queries import figures_currency
from goodwill.store.week_grid import epoch_sql, offset_changes, utc_offset


@dataclass(frozen=True)
class PurchaseHistory:
    client: NDArray[np.int64]  # internal client ids
    day: NDArray[np.datetime64]  # the purchase's date in the business's time zone
    amount: NDArray[np.float64]  # major units of the figures currency; NaN for other currencies
    category: NDArray[np.str_] | None  # per line, when read by category
    currency: str


def purchase_history(
    session: Session,
    settings: Settings,
    *,
    by_category: bool = False,
    client_id: int | None = None,
    among: Collection[int] | None = None,
) -> PurchaseHistory:
    """Every order (or every categorised order line) as parallel arrays, read in one query;
    ``client_id`` reads only that client's, ``among`` only those clients'.

    The database gives each order's instant as whole epoch seconds and its amount only in the
    figures currency, so no row is turned into Python objects one by one (a refit reads
    millions): the local days are worked out for all orders at once from the zone's UTC
    offsets over their range."""
    currency = figures_currency(session, settings)
    amount = OrderLine.amount_minor if by_category else Order.amount_minor
    columns: list[Any] = [
        Order.client_id,
        order_epoch(session),
        case((Order.currency == currency, amount), else_=None),
    ]
    query: Any
    if by_category:
        query = (
            select(*columns, OrderLine.category)
            .join(OrderLine, OrderLine.order_id == Order.id)
            .where(OrderLine.category.is_not(None))
        )
    else:
        query = select(*columns)
    if client_id is not None:
        query = query.where(Order.client_id == client_id)
    if among is not None:
        query = query.where(among_ids(session, Order.client_id, sorted(among)))
    rows = session.connection().execute(query).all()  # plain rows: no ORM bookkeeping
    n = len(rows)
    clients = np.fromiter((r[0] for r in rows), dtype=np.int64, count=n)
    seconds = np.fromiter((r[1] for r in rows), dtype=np.int64, count=n)
    scale = 10.0 ** exponent(currency)
    amounts = np.array([r[2] for r in rows], dtype=np.float64).reshape(n) / scale
    categories = np.array([r[3] for r in rows], dtype=np.str_) if by_category else None
    return PurchaseHistory(
        clients, local_days(seconds, settings.zone), amounts, categories, currency
    )


def local_days(seconds: NDArray[np.int64], zone: ZoneInfo) -> NDArray[np.datetime64]:
    """The date in ``zone`` of each instant (whole epoch seconds), from the zone's UTC offsets
    in force over the instants' range."""
    if len(seconds) == 0:
        return np.empty(0, dtype="datetime64[D]")
    low, high = int(seconds.min()), int(seconds.max())
    changes = offset_changes(zone, low, high)
    at = np.array([instant for instant, _ in changes], dtype=np.int64)
    offsets = np.array([utc_offset(zone, low), *(o for _, o in changes)], dtype=np.int64)
    local = seconds + offsets[np.searchsorted(at, seconds, side="right")]
    return (local // 86400).astype("datetime64[D]")


def order_epoch(session: Session) -> Any:
    """Whole seconds since 1970 of each order's instant, as the insights' SQL spells it."""
    postgres = session.get_bind().dialect.name == "postgresql"
    return literal_column(epoch_sql(f"{Order.__tablename__}.occurred_at", postgres=postgres))
