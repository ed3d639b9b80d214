"""Purchase touch points derived by the database: purchase.first or purchase.repeat for each
order of an engine batch, and client.milestone for its 10th, 25th, … order (once a client).

One INSERT … SELECT a batch: the orders are found from the events' payloads and numbered among
their client's orders on the (client, time) index, so neither the events nor the orders travel
to Python. A derived event's idempotency key names its order, so a batch read again inserts
nothing twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Numeric,
    Select,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    literal_column,
    select,
    true,
    tuple_,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.selectable import CTE

from goodwill.domain.money import EXPONENTS
from goodwill.domain.touchpoints import ORDER_MILESTONES
from goodwill.store.base import UTCDateTime
from goodwill.store.models import Event, Order, Partner

COLUMNS = (
    "type",
    "client_id",
    "occurred_at",
    "recorded_at",
    "source",
    "external_id",
    "idempotency_key",
    "payload",
)


def derive_purchases(
    session: Session, order_ids: Select[Any], *, now: datetime, source: str
) -> int:
    """Insert the touch points of the orders whose external ids ``order_ids`` selects; returns
    how many were new."""
    postgres = session.get_bind().dialect.name == "postgresql"
    sweep = postgres or _heavy(session, order_ids)
    ranked = _numbered_by_sweep(order_ids) if sweep else _numbered_by_count(order_ids)
    scale = case(
        *((ranked.c.currency == code, 10**places) for code, places in EXPONENTS.items()),
        else_=100,
    )
    amount = cast(ranked.c.amount_minor, Numeric(20, 4)) / scale

    def payload(*extra: tuple[str, Any]) -> Any:
        pairs = [
            ("order_id", ranked.c.external_id),
            ("amount", amount),
            ("currency", ranked.c.currency),
            ("channel", ranked.c.channel),
            ("n", ranked.c.n),
            *extra,
        ]
        args: list[Any] = []
        for name, value in pairs:
            args += [literal_column(f"'{name}'"), value]
        return (func.json_build_object if postgres else func.json_object)(*args)

    kinds = [
        (
            case((ranked.c.n == 1, "purchase.first"), else_="purchase.repeat"),
            "derive:purchase/",
            payload(),
            true(),
        ),
        (
            literal_column("'client.milestone'"),
            "derive:milestone/order/",
            payload(("what", cast(ranked.c.n, String) + literal_column("'th order'"))),
            and_(ranked.c.n.in_(ORDER_MILESTONES), ~_milestone_reached(ranked)),
        ),
    ]
    selects = []
    for kind, prefix, body, where in kinds:
        key: Any = literal_column(f"'{prefix}'", String) + ranked.c.external_id
        selects.append(
            select(
                kind,
                ranked.c.client_id,
                ranked.c.occurred_at,
                literal(now, UTCDateTime()),
                literal_column(f"'{source}'"),
                key,
                key,
                body,
            ).where(where)
        )
    dialect: Any = postgresql if postgres else sqlite
    stmt = (
        dialect.insert(Event.__table__)
        .from_select(list(COLUMNS), union_all(*selects))
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
    )
    # The count of rows written, not their ids: nothing here needs them back. Python's sqlite3
    # gives no row count for a statement that opens with WITH; SQLite's changes() does.
    written = session.execute(stmt, execution_options={"preserve_rowcount": True})
    if postgres:
        return int(written.rowcount)  # type: ignore[attr-defined]
    return int(session.execute(select(func.changes())).scalar_one())


#: Orders a client in a batch from which SQLite numbers by a sweep of each client's orders rather
#: than a count for each order: the count reads the covering index alone and is quicker for a few
#: hundred orders a client, but grows with the square of them, and a first pass over a client
#: with a thousand orders took twice the sweep's time (docs/benchmarks.md).
SWEEP_FROM = 300


def _heavy(session: Session, order_ids: Select[Any]) -> bool:
    """The batch's orders belong, on average over its orders, to clients with ``SWEEP_FROM`` or
    more orders in it (a first pass over long histories; a daily pass has one or two a client).
    Weighted by order, as the count's cost grows with the square of a client's orders: one
    client's thousand orders among thousands of one-order clients still call for the sweep."""
    per_client = (
        select(func.count(Order.id).label("k"))
        .where(Order.external_id.in_(order_ids))
        .group_by(Order.client_id)
        .subquery()
    )
    squares, orders = session.execute(
        select(func.sum(per_client.c.k * per_client.c.k), func.sum(per_client.c.k))
    ).one()
    return bool(orders) and squares >= SWEEP_FROM * orders


def _milestone_reached(ranked: CTE) -> Any:
    """The client has had this milestone already: an order imported late, dated before orders
    already numbered, moves the 250th place to another order, and a pass reading the batch again
    would otherwise thank the client for a second 250th order. Asked only of the few orders at a
    milestone's number, on the (client, time) index of the log: the type is tested as an
    expression no index serves, as PostgreSQL, planning from statistics taken before the pass
    wrote any milestone, otherwise read every milestone of the log by the (type, time) index for
    each order asked (a first pass grew with the square of its milestones: 100,000 events' derive
    step took 7.7 s, not 4)."""
    reached = aliased(Event)
    return (
        select(reached.id)
        .where(
            reached.client_id == ranked.c.client_id,
            reached.type + "" == "client.milestone",
            reached.payload["n"].as_integer() == ranked.c.n,
        )
        .exists()
    )


def _numbered_by_count(order_ids: Select[Any]) -> CTE:
    """Each order with its number: its client's orders up to it, counted on the (client, time)
    index. On SQLite that count reads the covering index alone, and beats a sweep of the
    client's orders until a client has a few hundred (docs/benchmarks.md, engine throughput)."""
    earlier = aliased(Order)
    number = (
        select(func.count(earlier.id))
        .where(
            earlier.client_id == Order.client_id,
            # One range of the (client, time) index: an OR of the two cases made PostgreSQL
            # also scan every order placed at that instant, whoever's.
            tuple_(earlier.occurred_at, earlier.id) <= tuple_(Order.occurred_at, Order.id),
        )
        .scalar_subquery()
    )
    return (
        select(
            Order.external_id,
            Order.client_id,
            Order.occurred_at,
            Order.amount_minor,
            Order.currency,
            Partner.name.label("channel"),
            number.label("n"),
        )
        .outerjoin(Partner, Partner.id == Order.partner_id)
        .where(Order.external_id.in_(order_ids))
        # One CTE for both kinds: each order's number is worked out once, not once a kind
        # (a CTE named twice is worked out once, on PostgreSQL as on SQLite).
        .cte("ranked")
    )


def _numbered_by_sweep(order_ids: Select[Any]) -> CTE:
    """Each order with its number, from one sweep of each of the batch's clients' orders up
    to the client's latest in the batch (``row_number`` over one range of the (client, time)
    index a client). On PostgreSQL, where counting for each order reads the heap, the count
    read a client's orders once an order: a first pass grew with the square of a client's
    orders (the derive step about four times slower with a thousand orders a client)."""
    batch = select(Order.id, Order.client_id, Order.occurred_at).where(
        Order.external_id.in_(order_ids)
    )
    batch_cte = batch.cte("batch")
    latest = (
        select(batch_cte.c.client_id, func.max(batch_cte.c.occurred_at).label("until"))
        .group_by(batch_cte.c.client_id)
        .subquery("latest")
    )
    numbered = (
        select(
            Order.id,
            Order.external_id,
            Order.client_id,
            Order.occurred_at,
            Order.amount_minor,
            Order.currency,
            Order.partner_id,
            func.row_number()
            .over(partition_by=Order.client_id, order_by=(Order.occurred_at, Order.id))
            .label("n"),
        )
        .join(
            latest,
            and_(Order.client_id == latest.c.client_id, Order.occurred_at <= latest.c.until),
        )
        .subquery("numbered")
    )
    return (
        select(
            numbered.c.external_id,
            numbered.c.client_id,
            numbered.c.occurred_at,
            numbered.c.amount_minor,
            numbered.c.currency,
            Partner.name.label("channel"),
            numbered.c.n,
        )
        .outerjoin(Partner, Partner.id == numbered.c.partner_id)
        # The batch's orders, looked up by id (a join of the two let SQLite compare every pair).
        .where(numbered.c.id.in_(select(batch_cte.c.id)))
        .cte("ranked")
    )
