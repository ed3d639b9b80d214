"""Each client's purchase figures, kept as purchases arrive, so a client page reads one row.

A row holds what the client page's figures, rhythm and value need: the order count, first and
last order, spend in the figures currency, and the client's distinct purchase days in the
business's time zone (how many, the first and last, the first day's spend, and the sums of
their log-intervals the rhythm is learned from). Rows are computed from the client's own
orders, never the whole history.

Where orders are written, their clients' rows are marked stale (``mark_stale``: an order's
amount recomputed from its lines and refunds, an import undone, a merge); the engine then
refreshes the stale rows (``keep_figures``), folding a client's new purchases into the row when
they all come after the ones it holds, else rebuilding the row from that client's orders (the
clients of a chunk rebuilt at once, as arrays: ``rebuilt``). It
also keeps the business-wide rhythm prior and the time zone and currency the rows are in (the
``rhythm`` row of ``model_fits``); a change of either rebuilds every row. Until a row is fresh a
page computes the figures from that client's orders (``figures_for``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import case, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from goodwill.domain.cadence import Prior
from goodwill.domain.cadence_sums import RhythmSums, population_prior
from goodwill.settings import Settings
from goodwill.store.among import among
from goodwill.store.base import as_utc
from goodwill.store.client_sort import kept_marker
from goodwill.store.figures_models import KEPT
from goodwill.store.history import local_days, order_epoch
from goodwill.store.models import ClientFigures, ModelFit, Order
from goodwill.store.queries import figures_currency

log = logging.getLogger(__name__)

CHUNK = 500


@dataclass(frozen=True)
class Figures:
    """A client's figures (from the row, or computed from their orders): see the table."""

    orders: int
    first_at: datetime | None
    last_at: datetime | None
    spend_minor: int
    other_currency_orders: int
    first_day: date | None
    first_day_minor: int
    last_day_minor: int
    rhythm: RhythmSums
    currency: str

    @property
    def repeat_minor(self) -> int:
        """Spend on the purchase days after the first (the count models' repeat spend)."""
        return self.spend_minor - self.first_day_minor


Row = tuple[int, datetime, str, int]  # order id, occurred_at, currency, amount_minor


def fold(known: Figures | None, rows: Iterable[Row], *, zone: Any, currency: str) -> Figures:
    """``known`` with ``rows`` added, in (occurred_at, id) order, none before ``known``'s last
    purchase day (else build from every order instead)."""
    figures = known or Figures(0, None, None, 0, 0, None, 0, 0, RhythmSums(0, None, 0.0, 0.0), "")
    orders, first_at, last_at = figures.orders, figures.first_at, figures.last_at
    spend, other, first_day = figures.spend_minor, figures.other_currency_orders, figures.first_day
    first_minor, last_minor, sums = figures.first_day_minor, figures.last_day_minor, figures.rhythm
    for _, occurred_at, row_currency, amount in rows:
        at = as_utc(occurred_at)
        day = at.astimezone(zone).date()
        minor = amount if row_currency == currency else 0
        orders += 1
        first_at = at if first_at is None else min(first_at, at)
        last_at = at if last_at is None else max(last_at, at)
        spend += minor
        other += row_currency != currency
        if sums.last is not None and day < sums.last:
            raise ValueError("purchases must be folded in day order")
        if sums.last == day:
            last_minor += minor
            if day == first_day:
                first_minor += minor
            continue
        sums = sums.then(day)
        last_minor = minor
        if first_day is None:
            first_day, first_minor = day, minor
    return Figures(
        orders, first_at, last_at, spend, other, first_day, first_minor, last_minor, sums, currency
    )


def _figures_of(row: Any) -> Figures:
    """The figures a row holds (a ``ClientFigures`` or a plain row of its columns)."""
    return Figures(
        orders=row.orders,
        first_at=row.first_at,
        last_at=row.last_at,
        spend_minor=row.spend_minor,
        other_currency_orders=row.other_currency_orders,
        first_day=row.first_day,
        first_day_minor=row.first_day_minor,
        last_day_minor=row.last_day_minor,
        rhythm=RhythmSums(row.days, row.last_day, row.log_gaps, row.log_gap_squares),
        currency=row.currency,
    )


def _values(client_id: int, figures: Figures, newest: int, zone: str) -> dict[str, Any]:
    sums = figures.rhythm
    return {
        "client_id": client_id,
        "stale": False,
        "zone": zone,
        "currency": figures.currency,
        "orders": figures.orders,
        "newest_order": newest,
        "first_at": figures.first_at,
        "last_at": figures.last_at,
        "spend_minor": figures.spend_minor,
        "other_currency_orders": figures.other_currency_orders,
        "days": sums.days,
        "first_day": figures.first_day,
        "last_day": sums.last,
        "first_day_minor": figures.first_day_minor,
        "last_day_minor": figures.last_day_minor,
        "log_gaps": sums.log_gaps,
        "log_gap_squares": sums.log_gap_squares,
        "value_stamp": None,
    }


def _orders_of(
    session: Session, client_ids: Sequence[int], *, newer: bool = False
) -> Iterator[Any]:
    """The clients' orders (client id first) in (client, time, id) order; ``newer``: only
    those after the newest order each client's row holds."""
    query = (
        select(Order.client_id, Order.id, Order.occurred_at, Order.currency, Order.amount_minor)
        .where(among(session, Order.client_id, client_ids))
        .order_by(Order.client_id, Order.occurred_at, Order.id)
    )
    if newer:
        query = query.join(ClientFigures, ClientFigures.client_id == Order.client_id).where(
            Order.id > ClientFigures.newest_order
        )
    yield from session.execute(query)


def _newest(rows: Sequence[Row]) -> int:
    return max((r[0] for r in rows), default=0)


def computed(session: Session, client_id: int, *, zone: Any, currency: str) -> Figures | None:
    """A client's figures from their own orders (None: no orders); what the row must hold."""
    rows = [(r[1], r[2], r[3], r[4]) for r in _orders_of(session, [client_id])]
    return fold(None, rows, zone=zone, currency=currency) if rows else None


# -- marking and refreshing ------------------------------------------------------------------


def _upsert(
    session: Session, rows: list[dict[str, Any]], columns: Sequence[str], *, marking: bool = False
) -> None:
    """INSERT … ON CONFLICT (client_id) DO UPDATE ``columns``, on SQLite and PostgreSQL.

    ``marking``: one more mark on the row. Otherwise the row is written only if no mark came
    since it was read (``marks`` as read): an import that commits while the engine computes a
    client's figures leaves the row stale for the next pass instead of fresh and wrong."""
    if not rows:
        return
    dialect: Any = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    table = ClientFigures.__table__
    stmt = dialect.insert(table)
    changes: dict[str, Any] = {c: stmt.excluded[c] for c in columns}
    if marking:
        stmt = stmt.on_conflict_do_update(
            index_elements=["client_id"], set_=changes | {"marks": table.c.marks + 1}
        )
    else:
        stmt = stmt.on_conflict_do_update(
            index_elements=["client_id"], set_=changes, where=table.c.marks == stmt.excluded.marks
        )
    session.execute(stmt, rows)


def mark_stale(session: Session, client_ids: Iterable[int], *, rebuild: bool = True) -> None:
    """The clients' orders changed: their rows are refreshed by the next engine pass (rebuilt
    from their orders, or with ``rebuild`` False only the newer orders added), and their pages
    compute the figures from their orders until then."""
    ids = sorted({int(i) for i in client_ids if i is not None})
    columns = ["stale", "newest_order"] if rebuild else ["stale"]
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        _upsert(
            session,
            [{"client_id": i, "stale": True, "newest_order": 0, "marks": 1} for i in chunk],
            columns,
            marking=True,
        )


def forget_figures(session: Session, client_ids: Sequence[int]) -> None:
    """Drop the rows of clients about to be deleted (a merged duplicate)."""
    session.execute(delete(ClientFigures).where(ClientFigures.client_id.in_(client_ids)))


def mark_orders_stale(session: Session, order_ids: Iterable[int]) -> None:
    """``mark_stale`` for the clients of these orders: rebuilt where an order the row already
    counts changed, else only the new orders added."""
    ids = sorted(set(order_ids))
    for start in range(0, len(ids), CHUNK):
        found = session.execute(
            select(Order.client_id, Order.id, ClientFigures.newest_order)
            .outerjoin(ClientFigures, ClientFigures.client_id == Order.client_id)
            .where(among(session, Order.id, ids[start : start + CHUNK]))
        ).all()
        changed = {c for c, order, newest in found if newest is not None and order <= newest}
        mark_stale(session, changed)
        mark_stale(session, {c for c, _, _ in found} - changed, rebuild=False)


def refresh(
    session: Session,
    client_ids: Sequence[int],
    *,
    zone_name: str,
    zone: Any,
    currency: str,
    rebuild: bool = False,
) -> int:
    """Recompute these clients' rows: new orders folded in where they come after the row's
    last purchase day (and no order changed), else rebuilt from the client's orders; every row
    rebuilt with ``rebuild``. Clients with no orders lose their row. Returns how many rows were
    written."""
    written = 0
    # Plain rows, not ORM objects: a chunk reads thousands; a rebuild needs only their marks.
    read = (
        (ClientFigures.client_id, ClientFigures.marks)
        if rebuild
        else tuple(ClientFigures.__table__.columns)
    )
    for start in range(0, len(client_ids), CHUNK):
        chunk = list(client_ids[start : start + CHUNK])
        rows = {
            r.client_id: r
            for r in session.execute(
                select(*read).where(among(session, ClientFigures.client_id, chunk))
            )
        }
        foldable = {
            c: r for c, r in rows.items() if not rebuild and _foldable(r, zone_name, currency)
        }
        whole = [c for c in chunk if c not in foldable]
        fresh = rebuilt(session, whole, zone=zone, currency=currency)
        added = dict(_grouped(_orders_of(session, list(foldable), newer=True)))
        for client_id, row in foldable.items():
            new = added.get(client_id, [])
            known: Figures | None = _figures_of(row)
            last = row.last_day
            if new and last is not None and _day(new[0][1], zone) < last:
                new = [(r[1], r[2], r[3], r[4]) for r in _orders_of(session, [client_id])]
                known = None
            figures = fold(known, new, zone=zone, currency=currency)
            fresh[client_id] = (figures, max(_newest(new), row.newest_order if known else 0))
        for gone in (c for c in chunk if c not in fresh and c in rows):
            session.execute(
                delete(ClientFigures).where(
                    ClientFigures.client_id == gone, ClientFigures.marks == rows[gone].marks
                )
            )
        values = [
            _values(c, f, newest, zone_name) | {"marks": rows[c].marks if c in rows else 0}
            for c, (f, newest) in fresh.items()
        ]
        _upsert(
            session,
            values,
            [k for k in values[0] if k not in ("client_id", "marks")] if values else [],
        )
        written += len(values)
    return written


def rebuilt(
    session: Session, client_ids: Sequence[int], *, zone: Any, currency: str
) -> dict[int, tuple[Figures, int]]:
    """Each of these clients' figures (and newest order id) from all their orders at once:
    what ``fold`` gives order by order (the same counts, days and amounts; the log-interval
    sums to rounding, added in another order), for the thousands of clients a first fill or a
    change of time zone rebuilds. A client whose local days run backwards in time order (a
    zone that turned its clocks back across midnight) is folded order by order."""
    if not client_ids:
        return {}
    query = (
        select(
            Order.client_id,
            Order.id,
            order_epoch(session),
            case((Order.currency == currency, Order.amount_minor), else_=None),
        )
        .where(among(session, Order.client_id, client_ids))
        .order_by(Order.client_id, Order.occurred_at, Order.id)
    )
    rows = session.connection().execute(query).all()  # plain rows: no datetime per order
    if not rows:
        return {}
    n = len(rows)
    client = np.fromiter((r[0] for r in rows), dtype=np.int64, count=n)
    order = np.fromiter((r[1] for r in rows), dtype=np.int64, count=n)
    day = local_days(np.fromiter((r[2] for r in rows), dtype=np.int64, count=n), zone)
    day = day.astype(np.int64)
    other = np.fromiter((r[3] is None for r in rows), dtype=bool, count=n)
    minor = np.fromiter((r[3] or 0 for r in rows), dtype=np.int64, count=n)
    new_client = np.r_[True, client[1:] != client[:-1]]
    starts = np.flatnonzero(new_client)
    ends = np.r_[starts[1:], n] - 1
    # A new purchase day: a client's first order, or a later local day than the order before.
    new_day = new_client | np.r_[True, day[1:] != day[:-1]]
    backwards = ~new_client & np.r_[False, day[1:] < day[:-1]]
    day_starts = np.flatnonzero(new_day)
    day_minor = np.add.reduceat(minor, day_starts)
    day_client = np.cumsum(new_client)[day_starts] - 1  # each purchase day's client, 0..
    first_of_client = np.r_[True, day_client[1:] != day_client[:-1]]
    gaps = np.zeros(day_starts.size)
    later = np.flatnonzero(~first_of_client)
    with np.errstate(invalid="ignore", divide="ignore"):  # days run backwards: folded below
        gaps[later] = np.log(day[day_starts[later]] - day[day_starts[later - 1]])
    client_days = np.flatnonzero(first_of_client)
    log_gaps = np.add.reduceat(gaps, client_days)
    log_squares = np.add.reduceat(gaps * gaps, client_days)
    last_day_index = np.r_[client_days[1:], day_starts.size] - 1
    days = np.diff(np.r_[client_days, day_starts.size])
    spend = np.add.reduceat(minor, starts)
    others = np.add.reduceat(other.astype(np.int64), starts)
    newest = np.maximum.reduceat(order, starts)
    odd = set(client[backwards].tolist())
    moments = _first_and_last(session, [c for c in client[starts].tolist() if c not in odd])
    out: dict[int, tuple[Figures, int]] = {}
    for i, client_id in enumerate(client[starts].tolist()):
        if client_id in odd:
            continue
        first_at, last_at = moments[client_id]
        first, last = int(day[starts[i]]), int(day[ends[i]])
        figures = Figures(
            orders=int(ends[i] - starts[i] + 1),
            first_at=first_at,
            last_at=last_at,
            spend_minor=int(spend[i]),
            other_currency_orders=int(others[i]),
            first_day=_EPOCH_DAY + timedelta(days=first),
            first_day_minor=int(day_minor[client_days[i]]),
            last_day_minor=int(day_minor[last_day_index[i]]),
            rhythm=RhythmSums(
                int(days[i]),
                _EPOCH_DAY + timedelta(days=last),
                float(log_gaps[i]),
                float(log_squares[i]),
            ),
            currency=currency,
        )
        out[client_id] = (figures, int(newest[i]))
    for client_id, orders in _grouped(_orders_of(session, sorted(odd))):
        out[client_id] = (fold(None, orders, zone=zone, currency=currency), _newest(orders))
    return out


_EPOCH_DAY = date(1970, 1, 1)


def _first_and_last(
    session: Session, client_ids: Sequence[int]
) -> dict[int, tuple[datetime, datetime]]:
    """Each client's first and last order instants, as stored (to the microsecond)."""
    found: dict[int, tuple[datetime, datetime]] = {}
    if client_ids:
        query = (
            select(Order.client_id, func.min(Order.occurred_at), func.max(Order.occurred_at))
            .where(among(session, Order.client_id, client_ids))
            .group_by(Order.client_id)
        )
        for client_id, first_at, last_at in session.execute(query):
            found[client_id] = (as_utc(first_at), as_utc(last_at))
    return found


def _day(value: datetime, zone: Any) -> date:
    return as_utc(value).astimezone(zone).date()


def _foldable(row: Any, zone_name: str, currency: str) -> bool:
    """A row new orders can be added to: in the right zone and currency, none of its orders
    changed since (``mark_stale`` clears ``newest_order`` when one did)."""
    return bool(row.zone == zone_name and row.currency == currency and row.newest_order > 0)


def _grouped(rows: Iterable[Any]) -> Iterator[tuple[int, list[Row]]]:
    current: int | None = None
    batch: list[Row] = []
    for client_id, order_id, occurred_at, currency, amount in rows:
        if client_id != current:
            if current is not None:
                yield current, batch
            current, batch = client_id, []
        batch.append((order_id, occurred_at, currency, amount))
    if current is not None:
        yield current, batch


# -- the engine's upkeep and the page's read -------------------------------------------------


def keep_figures(
    store: sessionmaker[Session], settings: Settings, *, today: date, now: datetime
) -> int:
    """Refresh the stale rows (every row, the first time or when the time zone or figures
    currency changed), then the business-wide rhythm prior; returns the rows written.

    Each chunk of clients is its own transaction, so a long first fill can be resumed."""
    with store() as session:
        currency = figures_currency(session, settings)
        marker = session.get(ModelFit, KEPT)
        params = {} if marker is None else dict(marker.params)
        everyone = params.get("zone") != settings.timezone or params.get("currency") != currency
        if everyone:
            ids = sorted(
                set(session.execute(select(Order.client_id).distinct()).scalars())
                | set(session.execute(select(ClientFigures.client_id)).scalars())
            )
        else:
            ids = list(
                session.execute(
                    select(ClientFigures.client_id)
                    .where(ClientFigures.stale.is_(True))
                    .order_by(ClientFigures.client_id)
                ).scalars()
            )
    written = 0
    for start in range(0, len(ids), CHUNK * 4):
        with store.begin() as session:
            written += refresh(
                session,
                ids[start : start + CHUNK * 4],
                zone_name=settings.timezone,
                zone=settings.zone,
                currency=currency,
                rebuild=everyone,
            )
    if ids or marker is None or marker.as_of < today:
        with store.begin() as session:
            _keep_prior(session, settings.timezone, currency, today=today, now=now)
    if ids:
        log.info("client figures refreshed for %d clients", len(ids))
    return written


def _keep_prior(session: Session, zone: str, currency: str, *, today: date, now: datetime) -> None:
    """The rhythm prior ``learn`` would fit on every order, from the kept sums (one row each)."""
    rows = session.execute(
        select(ClientFigures.days, ClientFigures.log_gaps, ClientFigures.log_gap_squares)
        .where(ClientFigures.days > 0)
        .order_by(ClientFigures.client_id)
    ).all()
    # Plain tuples: numpy asks each Row for array attributes it does not have, slowly.
    sums = np.array([tuple(row) for row in rows], dtype=np.float64).reshape(-1, 3)
    params: dict[str, Any] = {"zone": zone, "currency": currency}
    if sums.shape[0]:
        prior = population_prior(sums[:, 0].astype(np.int64), sums[:, 1], sums[:, 2])
        params |= {
            "mean": prior.mean,
            "kappa": prior.kappa,
            "shape": prior.shape,
            "scale": prior.scale,
            "units": prior.units,
            "estimated": prior.estimated,
        }
    try:
        with session.begin_nested():
            session.merge(
                ModelFit(
                    name=KEPT,
                    model="nig",
                    params=params,
                    log_likelihood=0.0,
                    n_customers=int(sums.shape[0]),
                    period="day",
                    as_of=today,
                    fitted_at=now,
                )
            )
    except IntegrityError:
        # Another worker kept the first prior at the same moment, from the same sums.
        log.info("the rhythm prior was kept by another worker")


@dataclass(frozen=True)
class Kept:
    """What a client page reads: the client's figures (None: no orders), the rhythm prior
    (None: no purchases anywhere yet) and the figures currency."""

    figures: Figures | None
    prior: Prior | None
    currency: str
    #: The model figures the engine kept for the row: (stamp, P(alive), purchases in a year,
    #: expected spend, CLV); None when the figures were computed from the orders.
    values: tuple[str, float | None, float | None, float | None, float | None] | None = None


def figures_for(session: Session, settings: Settings, client_id: int) -> Kept | None:
    """The client's kept figures; None before the engine first kept them in this time zone and
    currency (the caller computes them the old way). A stale row is computed from the client's
    own orders instead."""
    params = kept_marker(session, zone=settings.timezone)
    if params is None:
        return None
    currency = settings.currency or str(params.get("currency"))
    if params.get("currency") != currency:
        return None
    prior = None
    if "mean" in params:
        prior = Prior(
            None,
            float(params["mean"]),
            float(params["kappa"]),
            float(params["shape"]),
            float(params["scale"]),
            int(params["units"]),
            bool(params["estimated"]),
        )
    row = session.get(ClientFigures, client_id)
    if row is not None and not row.stale and row.zone == settings.timezone:
        values = None
        if row.value_stamp is not None:
            values = (row.value_stamp, row.p_alive, row.purchases_year, row.expected_spend, row.clv)
        return Kept(_figures_of(row), prior, currency, values)
    if (
        row is None
        and not session.execute(
            select(Order.id).where(Order.client_id == client_id).limit(1)
        ).first()
    ):
        return Kept(None, prior, currency)
    return Kept(
        computed(session, client_id, zone=settings.zone, currency=currency), prior, currency
    )


def kept_currency(session: Session, settings: Settings) -> str:
    """The figures currency without reading every order once the engine has kept it."""
    if settings.currency:
        return settings.currency
    params = kept_marker(session, zone=settings.timezone)
    return str(params["currency"]) if params is not None else figures_currency(session, settings)


__all__ = [
    "ClientFigures",
    "Figures",
    "Kept",
    "computed",
    "figures_for",
    "fold",
    "forget_figures",
    "keep_figures",
    "kept_currency",
    "mark_orders_stale",
    "mark_stale",
    "refresh",
]
