"""The client list's orders by figures (spend, last purchase, client since), read from the
figures the engine keeps rather than by grouping every order on every page.

A kept row counts once it is fresh and in the figures currency; the clients without one (new
orders since the engine last ran, or none kept yet) are aggregated from their own orders.
Either way a client's key equals what grouping all their orders gives.
"""

from __future__ import annotations

from sqlalchemy import Subquery, and_, case, exists, func, select, union_all
from sqlalchemy.orm import Session

from goodwill.store.figures_models import ClientFigures
from goodwill.store.models import Client, Order


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
