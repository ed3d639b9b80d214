"""Purchase history as arrays, for the models: one row per order (or per order line's category)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import select
from sqlalchemy.orm import Session

from goodwill.domain.money import exponent
from goodwill.settings import Settings
from goodwill.store.among import among as among_ids
from goodwill.store.base import as_utc
from goodwill.store.models import Order, OrderLine
from goodwill.store.queries import figures_currency


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
    ``client_id`` reads only that client's, ``among`` only those clients'."""
    currency = figures_currency(session, settings)
    query: Any
    if by_category:
        query = (
            select(
                Order.client_id,
                Order.occurred_at,
                OrderLine.amount_minor,
                Order.currency,
                OrderLine.category,
            )
            .join(OrderLine, OrderLine.order_id == Order.id)
            .where(OrderLine.category.is_not(None))
        )
    else:
        query = select(Order.client_id, Order.occurred_at, Order.amount_minor, Order.currency)
    if client_id is not None:
        query = query.where(Order.client_id == client_id)
    if among is not None:
        query = query.where(among_ids(session, Order.client_id, sorted(among)))
    rows = session.execute(query).all()
    zone = settings.zone
    clients = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    days = np.array([_local_day(r[1], zone) for r in rows], dtype="datetime64[D]").reshape(
        len(rows)
    )
    scale = 10.0 ** exponent(currency)
    amounts = np.fromiter(
        (r[2] / scale if r[3] == currency else np.nan for r in rows),
        dtype=np.float64,
        count=len(rows),
    )
    categories = np.array([r[4] for r in rows], dtype=np.str_) if by_category else None
    return PurchaseHistory(clients, days, amounts, categories, currency)


def _local_day(value: datetime, zone: object) -> str:
    return as_utc(value).astimezone(zone).date().isoformat()  # type: ignore[arg-type]
