"""The client list's orders by figures (spend, last purchase, client since), read from the
figures the engine keeps rather than by grouping every order on every page.

A kept row counts once it is fresh and in the figures currency; the clients without one (new
orders since the engine last ran, or none kept yet) are aggregated from their own orders.
Either way a client's key equals what grouping all their orders gives.

Highest spend and latest purchase first are also read down an index of the kept rows
(:func:`kept_page`): a page of 50 then reads about 50 rows, not every client's key.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Subquery, and_, case, exists, func, select, union_all
from sqlalchemy.orm import Session

from goodwill.store.base import as_utc
from goodwill.store.figures_models import KEPT, ClientFigures
from goodwill.store.models import Client, ModelFit, Order


def sort_keys(session: Session, currency: str) -> Subquery:
    """(client_id, first_purchase, last_purchase, spend) of every client with orders."""
    kept = and_(ClientFigures.stale.is_(False), ClientFigures.currency == currency)
    fresh = select(
        ClientFigures.client_id.label("client_id"),
        ClientFigures.first_at.label("first_purchase"),
        ClientFigures.last_at.label("last_purchase"),
        ClientFigures.spend_minor.label("spend"),
    ).where(kept)
    unkept = select(Client.id).where(~exists().where(ClientFigures.client_id == Client.id, kept))
    live = (
        select(
            Order.client_id,
            func.min(Order.occurred_at),
            func.max(Order.occurred_at),
            func.coalesce(
                func.sum(case((Order.currency == currency, Order.amount_minor), else_=0)), 0
            ),
        )
        .where(Order.client_id.in_(unkept))
        .group_by(Order.client_id)
    )
    return union_all(fresh, live).subquery("keys")


#: The sorts a kept column answers, highest first (``_live``: the same key from the orders).
_KEPT_SORTS = {"spend": ClientFigures.spend_minor, "last_purchase": ClientFigures.last_at}


def _live(sort: str, currency: str) -> ColumnElement[Any]:
    """A client's key grouped from their orders, as the kept column holds it."""
    if sort == "spend":
        return func.coalesce(
            func.sum(case((Order.currency == currency, Order.amount_minor), else_=0)), 0
        )
    return func.max(Order.occurred_at)


def _shown(key: Any) -> Any:
    """A key as Python compares it: aggregates bypass the column type on SQLite."""
    return as_utc(key) if isinstance(key, str | datetime) else key


def kept_marker(session: Session, *, zone: str) -> dict[str, Any] | None:
    """The engine's marker (its currency and the spend prior) once it has kept every client's
    row in this time zone; None before. It is written after a pass that built a row for each
    client with orders, and from then on the imports mark a row for each client whose orders
    they write, so a client with orders has a row, fresh or stale."""
    marker = session.get(ModelFit, KEPT)
    if marker is None or marker.params.get("zone") != zone:
        return None
    return marker.params


def all_kept(session: Session, *, zone: str, currency: str) -> bool:
    """Whether the engine has kept every client's row in this zone and currency."""
    params = kept_marker(session, zone=zone)
    return params is not None and params.get("currency") == currency


def kept_page(
    session: Session,
    sort: str,
    conditions: Sequence[ColumnElement[bool]],
    *,
    zone: str,
    currency: str,
    offset: int,
    limit: int,
) -> list[int] | None:
    """The ids of one page of clients by highest spend or latest purchase (then by id), read
    down the kept rows' index, with the clients whose rows are stale computed from their
    orders; None when the kept rows cannot answer (the sort is not theirs, not every client is
    kept, or the page reaches the clients with no spend or no purchase, whose order is by id
    among everyone: the caller's whole query answers those)."""
    column = _KEPT_SORTS.get(sort)
    if column is None or not all_kept(session, zone=zone, currency=currency):
        return None
    want = offset + limit
    fresh = session.execute(
        select(ClientFigures.client_id, column)
        .join(Client, Client.id == ClientFigures.client_id)
        .where(
            ClientFigures.stale.is_(False),
            ClientFigures.currency == currency,
            column.is_not(None),
            *conditions,
        )
        .order_by(column.desc(), ClientFigures.client_id)
        .limit(want)
    ).all()
    live = _live(sort, currency)
    stale = select(ClientFigures.client_id).where(ClientFigures.stale.is_(True))
    unkept = session.execute(
        select(Client.id, live)
        .join(Order, Order.client_id == Client.id)
        .where(Client.id.in_(stale), *conditions)
        .group_by(Client.id)
        .order_by(live.desc(), Client.id)
        .limit(want)
    ).all()
    rows = sorted(((_shown(key), i) for i, key in [*fresh, *unkept]), key=lambda r: r[1])
    rows.sort(key=lambda r: r[0], reverse=True)  # stable: equal keys stay in id order
    # A spend of zero or less ranks among the clients with no orders, ordered by id.
    if (
        len(rows) < want
        or rows[want - 1][0] is None
        or (sort == "spend" and rows[want - 1][0] <= 0)
    ):
        return None
    return [i for _, i in rows[offset:want]]
