"""The At risk list read a page at a time: overdue rhythms filtered, counted and ordered in SQL.

The refit keeps every client's rhythm (``keep_rhythms``, into ``rhythm_rows``), and each engine
pass learns again, from their own orders and the kept priors, the clients who bought since
(``keep_changed_rhythms``); a page then reads the rows it shows and two aggregates, whatever the
number of clients. A client with an order newer than the kept rows is learned again the same way
as the page reads, so a purchase shows at once. Each day the engine flags the rows lapsed by
then (``keep_lapsed``), and a page reads only the due rows not flagged. Without kept rows, or
with rows learned under other settings, the list is computed from the whole history as
``store.cadence.overdue_clients`` does.
A merge or a corrected order (an id already kept) shows from the next refit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any
from typing import cast as cast_type

import numpy as np
from sqlalchemy import (
    ColumnElement,
    String,
    Table,
    and_,
    case,
    cast,
    collate,
    delete,
    false,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Session, aliased

from goodwill.domain.cadence import Overdue, Prior, Rhythms, learn, overdue
from goodwill.settings import Settings
from goodwill.store.cadence import (
    OverdueClient,
    cadence_settings,
    list_order,
    overdue_client,
    overdue_clients,
    overdue_rows,
)
from goodwill.store.history import PurchaseHistory, purchase_history
from goodwill.store.models import Client, Order
from goodwill.store.queries import figures_currency
from goodwill.store.rhythm_models import OVERALL, RhythmRow, RhythmSnapshot

EPOCH = date(1970, 1, 1)
#: More clients with orders since the refit than this, and the list is computed afresh.
MAX_CHANGED = 2_000
#: Rows written per statement when the refit keeps the rhythms.
BATCH = 5_000
#: The rows are written as the table's plain rows: the ORM's bulk path cost a refit of 2,000
#: clients a twentieth of a second in Python for nothing it needs (no objects come back).
RHYTHM_ROWS = cast_type(Table, RhythmRow.__table__)


@dataclass(frozen=True)
class AtRiskPage:
    """Some rows of the list, how many there are, and the headline over all of them."""

    rows: list[OverdueClient]
    count: int  # rows in the whole list
    total: float | None  # a year of the overall rhythms with amounts (None: no amounts)
    clients: int  # overall rhythms in the whole list
    currency: str
    kept_on: date | None  # the refit the rows come from; None: computed from the history


def settings_key(settings: Settings) -> str:
    """What kept rhythms depend on besides the orders: rows kept under other settings are unused."""
    config = cadence_settings(settings)
    return (
        f"level={config.level!r};min={config.min_purchases};"
        f"categories={bool(settings.cadence['by_category'])};zone={settings.timezone};"
        f"currency={settings.currency or ''}"
    )


def _learned(
    session: Session,
    settings: Settings,
    *,
    among: list[int] | None = None,
    read_history: Callable[[], PurchaseHistory] | None = None,
) -> tuple[list[tuple[Rhythms, bool]], str]:
    """Every client's rhythms (``among``: those clients', shrunk toward the kept priors).
    ``read_history``: reads every client's purchase history, for a caller that has read it."""
    config = cadence_settings(settings)
    kept = _priors(session) if among is not None else {}
    if read_history is not None and among is None:
        whole = read_history()
    else:
        whole = purchase_history(session, settings, among=among)
    found: list[tuple[Rhythms, bool]] = []
    if whole.client.size and (among is None or None in kept):
        prior = None if among is None else (kept[None],)
        found.append(
            (
                learn(whole.client, whole.day, whole.amount, settings=config, priors=prior),
                False,
            )
        )
    if settings.cadence["by_category"]:
        lines = purchase_history(session, settings, by_category=True, among=among)
        if lines.client.size and lines.category is not None:
            if among is None:
                rhythms = learn(
                    lines.client, lines.day, lines.amount, settings=config, groups=lines.category
                )
                found.append((rhythms, True))
            else:
                found.extend((r, True) for r in _by_category(lines, kept, config))
    return found, whole.currency


def _by_category(
    lines: PurchaseHistory, kept: dict[str | None, Prior], config: Any
) -> list[Rhythms]:
    """Each kept category's rhythms learned on its own lines with its own prior: the rhythms a
    grouped ``learn`` gives, for a few clients."""
    assert lines.category is not None
    out = []
    for label, prior in kept.items():
        mine = lines.category == label
        if label is None or not mine.any():
            continue
        rhythms = learn(
            lines.client[mine],
            lines.day[mine],
            lines.amount[mine],
            settings=config,
            priors=(prior,),
        )
        group = np.full(rhythms.client.size, label, dtype=np.str_)
        out.append(replace(rhythms, group=group))
    return out


def _priors(session: Session) -> dict[str | None, Prior]:
    snapshot = session.get(RhythmSnapshot, 1)
    if snapshot is None:
        return {}
    priors = [Prior(**item) for item in snapshot.priors.get("priors", [])]
    return {None if p.group is None else str(p.group): p for p in priors}


def keep_rhythms(
    session: Session,
    settings: Settings,
    *,
    today: date,
    now: datetime,
    refitted: bool = True,
    read_history: Callable[[], PurchaseHistory] | None = None,
) -> int:
    """Keep every client's rhythms for the At risk list after a refit, or when none are kept
    under these settings; else keep those of the clients who bought since. The rows written.
    ``read_history``: reads the whole purchase history (the refit's own read: read once)."""
    if not refitted and _usable(session.get(RhythmSnapshot, 1), settings):
        return keep_changed_rhythms(session, settings) or 0
    newest = _newest_order(session)
    found, currency = _learned(session, settings, read_history=read_history)
    session.execute(delete(RhythmRow))
    max_cycles = int(settings.cadence["max_cycles"])
    day = (today - EPOCH).days
    rows: list[dict[str, Any]] = []
    priors: list[dict[str, Any]] = []
    for rhythms, grouped in found:
        priors.extend(asdict(p) for p in rhythms.priors if grouped or p.group is None)
        rows.extend(_rows(rhythms, grouped, lapsed_by=(day, max_cycles)))
    for start in range(0, len(rows), BATCH):
        session.execute(insert(RHYTHM_ROWS), rows[start : start + BATCH])
    session.merge(
        RhythmSnapshot(
            id=1,
            as_of=today,
            made_at=now,
            newest_order=newest,
            settings_key=settings_key(settings),
            currency=currency,
            priors={"priors": [_plain(p) for p in priors]},
            lapsed_on=today,
            lapsed_cycles=max_cycles,
        )
    )
    return len(rows)


def keep_changed_rhythms(session: Session, settings: Settings) -> int | None:
    """Learn again, with the kept priors, the rhythms of the clients who bought since the rows
    were kept, and keep them: the rows the list would learn for them on each read, so a daily
    pass reads those clients' orders alone. The rows written (None: no usable kept rows; the
    next refit keeps every client's)."""
    snapshot = session.get(RhythmSnapshot, 1)
    if snapshot is None or not _usable(snapshot, settings):
        return None
    newest = _newest_order(session)
    changed = _changed_since(session, snapshot)
    if not changed:
        return 0
    found, _ = _learned(session, settings, among=changed)
    for start in range(0, len(changed), BATCH):
        session.execute(
            delete(RhythmRow).where(RhythmRow.client_id.in_(changed[start : start + BATCH]))
        )
    rows = [row for rhythms, grouped in found for row in _rows(rhythms, grouped, lapsed_by=None)]
    for start in range(0, len(rows), BATCH):
        session.execute(insert(RHYTHM_ROWS), rows[start : start + BATCH])
    snapshot.newest_order = max(snapshot.newest_order, newest)
    return len(rows)


def keep_lapsed(session: Session, settings: Settings, *, today: date) -> int:
    """Flag the kept rows that have lapsed by ``today`` (their ``open_due_day`` cleared), so
    the list on that day or later reads only the rows that may be on it: the due rows not
    flagged, found down their own index (a few hundred where every row ever due is tens of
    thousands). Run each day by the engine; a row lapsed stays lapsed until the client buys
    again, when their rows are kept anew. The rows flagged."""
    snapshot = session.get(RhythmSnapshot, 1)
    if snapshot is None:
        return 0
    max_cycles = int(settings.cadence["max_cycles"])
    if snapshot.lapsed_cycles != max_cycles:  # flagged under another setting: look again
        session.execute(
            update(RhythmRow)
            .where(RhythmRow.open_due_day.is_(None))
            .values(open_due_day=RhythmRow.due_by_day)
            .execution_options(synchronize_session=False)
        )
        snapshot.lapsed_on = None
    elif snapshot.lapsed_on is not None and today < snapshot.lapsed_on:
        return 0  # flagged for a later day already; the flags hold from then
    day = (today - EPOCH).days
    flagged = session.execute(
        update(RhythmRow)
        .where(RhythmRow.open_due_day < day, ~_listable(day, max_cycles))
        .values(open_due_day=None)
        .execution_options(synchronize_session=False)
    )
    snapshot.lapsed_on, snapshot.lapsed_cycles = today, max_cycles
    return int(getattr(flagged, "rowcount", 0) or 0)


def _listable(day: int, max_cycles: int) -> ColumnElement[bool]:
    """Not lapsed on ``day``: cycle = max(floor(elapsed / usual + 1e-9), 1) <= max_cycles, as
    domain.cadence counts (``_lapsed`` is its twin for rows about to be written)."""
    if max_cycles < 1:
        return false()
    return (day - RhythmRow.last_day) < (max_cycles + 1 - 1e-9) * RhythmRow.usual_interval


def _lapsed(day: int, max_cycles: int, last_day: int, usual: float) -> bool:
    """``not _listable`` for one row, in the same floating-point steps as the SQL."""
    return max_cycles < 1 or not (day - last_day) < (max_cycles + 1 - 1e-9) * usual


def _usable(snapshot: RhythmSnapshot | None, settings: Settings) -> bool:
    """Kept rows the list can read: kept under these settings, with priors to learn from."""
    return (
        snapshot is not None
        and snapshot.settings_key == settings_key(settings)
        and bool(snapshot.priors.get("priors"))  # kept before any purchase: nothing to go on
    )


def _newest_order(session: Session) -> int:
    return int(session.execute(select(func.max(Order.id))).scalar_one_or_none() or 0)


def _plain(prior: dict[str, Any]) -> dict[str, Any]:
    """A prior as JSON holds it (numpy scalars as Python numbers)."""
    return {k: v.item() if isinstance(v, np.generic) else v for k, v in prior.items()}


def _rows(
    rhythms: Rhythms, grouped: bool, *, lapsed_by: tuple[int, int] | None
) -> list[dict[str, Any]]:
    """The rows to keep; with ``lapsed_by`` (day, max_cycles), those lapsed then flagged."""
    epoch = np.datetime64(EPOCH, "D")
    last = (rhythms.last - epoch).astype(np.int64).tolist()
    expected = (rhythms.expected - epoch).astype(np.int64).tolist()
    due_by = (rhythms.due_by - epoch).astype(np.int64).tolist()
    usual = rhythms.usual_interval.tolist()
    mean = rhythms.mean_value.tolist()
    clients = rhythms.client.tolist()
    groups = rhythms.group.tolist() if grouped and rhythms.group is not None else None
    out = []
    for i in range(len(clients)):
        known = not np.isnan(mean[i])
        out.append(
            {
                "client_id": int(clients[i]),
                "category": OVERALL if groups is None else str(groups[i]),
                "last_day": last[i],
                "expected_day": expected[i],
                "due_by_day": due_by[i],
                "usual_interval": usual[i],
                "mean_value": mean[i] if known else None,
                "year_value": mean[i] * 365.25 / usual[i] if known else 0.0,
                "open_due_day": None
                if lapsed_by is not None and _lapsed(*lapsed_by, last[i], usual[i])
                else due_by[i],
            }
        )
    return out


def _changed_since(session: Session, snapshot: RhythmSnapshot) -> list[int]:
    """The clients who bought since the rhythms were kept: each is re-learned when read, and
    when they grow many the engine keeps every client's rhythms again, refit or not."""
    return list(
        session.execute(
            select(Order.client_id).where(Order.id > snapshot.newest_order).distinct()
        ).scalars()
    )


def at_risk_page(
    session: Session,
    settings: Settings,
    *,
    as_of: date,
    include_lapsed: bool = False,
    limit: int | None = None,
    offset: int = 0,
) -> AtRiskPage:
    """Rows ``offset`` to ``offset + limit`` of the At risk list on ``as_of`` (all when
    ``limit`` is None), in ``overdue_clients``' order, with the counts of the whole list."""
    max_cycles = int(settings.cadence["max_cycles"])
    snapshot = session.get(RhythmSnapshot, 1)
    usable = _usable(snapshot, settings)
    changed: list[int] = []
    if usable:
        assert snapshot is not None
        changed = _changed_since(session, snapshot)
    if snapshot is None or not usable or len(changed) > MAX_CHANGED:
        return _computed(
            session, settings, as_of=as_of, lapsed=include_lapsed, limit=limit, offset=offset
        )
    fresh = _relearned(
        session,
        settings,
        changed,
        as_of=as_of,
        lapsed=include_lapsed,
        max_cycles=max_cycles,
        currency=snapshot.currency,
    )
    day = (as_of - EPOCH).days
    flagged = (
        snapshot.lapsed_on is not None
        and snapshot.lapsed_on <= as_of
        and snapshot.lapsed_cycles == max_cycles
    )
    listed = _listed(
        session,
        day=day,
        lapsed=include_lapsed,
        max_cycles=max_cycles,
        changed=bool(changed),
        newest=snapshot.newest_order,
        flagged=flagged,
    )
    wanted = None if limit is None else offset + limit
    query = (
        select(RhythmRow, Client.external_id, Client.name)
        .join(Client, Client.id == RhythmRow.client_id)
        .where(listed)
        .order_by(
            RhythmRow.year_value.desc(),
            RhythmRow.expected_day,
            _client_ref(session),
            RhythmRow.category,
        )
    )
    if wanted is not None:
        query = query.limit(wanted)
    kept = [
        _overdue(
            row, external_id, name, as_of=as_of, max_cycles=max_cycles, currency=snapshot.currency
        )
        for row, external_id, name in session.execute(query).all()
    ]
    rows = sorted(kept + fresh, key=list_order) if fresh else kept
    count, total, clients = _counts(session, listed)
    fresh_overall = [r for r in fresh if r.category is None]
    known = [r.revenue_at_risk for r in fresh_overall if r.revenue_at_risk is not None]
    if known:
        total = (total or 0.0) + sum(known)
    return AtRiskPage(
        rows=rows[offset:wanted],
        count=count + len(fresh),
        total=total,
        clients=clients + len(fresh_overall),
        currency=snapshot.currency,
        kept_on=snapshot.as_of,
    )


def _listed(
    session: Session,
    *,
    day: int,
    lapsed: bool,
    max_cycles: int,
    changed: bool,
    newest: int,
    flagged: bool,
) -> ColumnElement[bool]:
    """The kept rows on the list on ``day``: overdue, a category only while the client's overall
    rhythm is not, not lapsed (unless asked), and not a client with newer orders. ``flagged``:
    the rows' lapsed flags hold on ``day``, so only the rows not flagged are read."""
    inner = aliased(RhythmRow)
    overall = select(inner.id).where(
        inner.client_id == RhythmRow.client_id,
        inner.category == OVERALL,
        inner.due_by_day < day,
    )
    due = RhythmRow.open_due_day if flagged and not lapsed else RhythmRow.due_by_day
    conditions: list[ColumnElement[bool]] = [
        due < day,
        (RhythmRow.category == OVERALL) | ~overall.exists(),
    ]
    if not lapsed:
        conditions.append(_listable(day, max_cycles))
    if changed:
        conditions.append(
            RhythmRow.client_id.not_in(select(Order.client_id).where(Order.id > newest))
        )
    return and_(*conditions)


def _client_ref(session: Session) -> ColumnElement[str]:
    """The client id as the list shows it, compared code point by code point as Python does."""
    ref = func.coalesce(Client.external_id, "#" + cast(Client.id, String))
    return collate(ref, "C") if session.get_bind().dialect.name == "postgresql" else ref


def _overdue(
    row: RhythmRow,
    external_id: str | None,
    name: str,
    *,
    as_of: date,
    max_cycles: int,
    currency: str,
) -> OverdueClient:
    return overdue_client(
        client=row.client_id,
        client_id=external_id or f"#{row.client_id}",
        name=name,
        category=None if row.category == OVERALL else row.category,
        last=EPOCH + timedelta(days=row.last_day),
        expected=EPOCH + timedelta(days=row.expected_day),
        due_by=EPOCH + timedelta(days=row.due_by_day),
        usual=row.usual_interval,
        mean_value=float("nan") if row.mean_value is None else row.mean_value,
        as_of=as_of,
        max_cycles=max_cycles,
        currency=currency,
    )


def _counts(session: Session, listed: ColumnElement[bool]) -> tuple[int, float | None, int]:
    """Rows on the list, and the sum and number of its overall rhythms, in one query."""
    overall = RhythmRow.category == OVERALL
    count, total, known, clients = session.execute(
        select(
            func.count(RhythmRow.id),
            func.sum(case((overall & RhythmRow.mean_value.is_not(None), RhythmRow.year_value))),
            func.count(case((overall, RhythmRow.mean_value))),
            func.count(case((overall, RhythmRow.id))),
        ).where(listed)
    ).one()
    return int(count), float(total) if known else None, int(clients)


def _relearned(
    session: Session,
    settings: Settings,
    changed: list[int],
    *,
    as_of: date,
    lapsed: bool,
    max_cycles: int,
    currency: str,
) -> list[OverdueClient]:
    """The listed rows of the clients with orders since the refit, learned again."""
    if not changed:
        return []
    found, _ = _learned(session, settings, among=changed)
    results: list[tuple[Overdue, bool]] = [
        (overdue(rhythms, as_of=np.datetime64(as_of)), grouped) for rhythms, grouped in found
    ]
    return overdue_rows(
        session,
        results,
        as_of=as_of,
        currency=currency,
        max_cycles=max_cycles,
        include_lapsed=lapsed,
    )


def _computed(
    session: Session,
    settings: Settings,
    *,
    as_of: date,
    lapsed: bool,
    limit: int | None,
    offset: int,
) -> AtRiskPage:
    """The list from the whole history, before the refit has kept any rhythms."""
    rows = overdue_clients(session, settings, as_of=as_of, include_lapsed=lapsed)
    overall = [r for r in rows if r.category is None]
    known = [r.revenue_at_risk for r in overall if r.revenue_at_risk is not None]
    currency = rows[0].currency if rows else figures_currency(session, settings)
    return AtRiskPage(
        rows=rows[offset : None if limit is None else offset + limit],
        count=len(rows),
        total=sum(known) if known else None,
        clients=len(overall),
        currency=currency,
        kept_on=None,
    )
