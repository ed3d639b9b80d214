"""The insights series remembered in this process, and on a large store shown from the last
answer while the next is worked out.

The page is asked for the same weeks many times a day while the data changes a few times an
hour; one small statement (:func:`~goodwill.store.insights.data_version`) tells whether a
remembered answer still holds. On a busy store it often does not (a pass of the engine, a reply),
and at hundreds of thousands of clients the answer takes a second or more to work out. So when
it no longer holds, the store is large and working it out took ``slow_seconds`` or more, a
caller that accepts it
(the page, not the CSV export) gets the last answer at once, marked with when it was worked out,
while a thread works out the new one with a session of its own; the next request shows it. A
store that answers quicker than that is always answered fresh.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from goodwill.settings import Settings
from goodwill.store.insights import (
    DEFAULT_WEEKS,
    Filters,
    Insights,
    data_version,
    newest_order_id,
    weekly_insights,
)

log = logging.getLogger(__name__)

#: An answer that took this long to work out is shown again while the next is worked out...
SLOW_SECONDS = 0.5
#: ...on a store of at least this many orders (by the newest order's id): a small store is
#: always answered as its data stands, however busy the machine that times it.
LARGE_STORE = 100_000
_CACHE_SIZE = 64


@dataclass(frozen=True)
class _Remembered:
    insights: Insights
    version: tuple[Any, ...]
    took: float  # seconds to work it out
    figured_at: datetime
    orders: int  # the newest order's id then: how large the store was


@dataclass(frozen=True)
class _Ask:
    """What a request asks for, besides the store and the settings."""

    as_of: date
    weeks: int
    since: date | None
    until: date | None
    filters: Filters


_CACHE: OrderedDict[tuple[Any, ...], _Remembered] = OrderedDict()
_LOCK = threading.Lock()
_WORKING: dict[tuple[Any, ...], threading.Thread] = {}


def cached_insights(
    session: Session,
    settings: Settings,
    *,
    as_of: date,
    weeks: int = DEFAULT_WEEKS,
    since: date | None = None,
    until: date | None = None,
    filters: Filters | None = None,
    now: datetime | None = None,
    slow_seconds: float | None = None,
    large_store: int = LARGE_STORE,
) -> Insights:
    """:func:`weekly_insights`, remembered until the data changes. ``slow_seconds``: accept the
    last answer (its ``figured_at`` set) when working it out took at least this long on a store
    of ``large_store`` orders or more, and work out the next one in the background; None:
    always fresh."""
    ask = _Ask(as_of, weeks, since, until, filters or Filters())
    key = _key(session, settings, ask)
    version = data_version(session)
    with _LOCK:
        kept = _CACHE.get(key)
        if kept is not None:
            _CACHE.move_to_end(key)
    if kept is not None and kept.version == version:
        return kept.insights
    if (
        kept is not None
        and slow_seconds is not None
        and kept.took >= slow_seconds
        and kept.orders >= large_store
    ):
        _work_out_later(session.get_bind().engine, settings, ask, key, now)
        return replace(kept.insights, figured_at=kept.figured_at)
    fresh = _work_out(session, settings, ask, version, now)
    _remember(key, fresh)
    return fresh.insights


def wait_for_work(timeout: float = 30.0) -> None:
    """Wait until no answer is being worked out in the background (tests, shutdown)."""
    with _LOCK:
        threads = list(_WORKING.values())
    for thread in threads:
        thread.join(timeout)


def _key(session: Session, settings: Settings, ask: _Ask) -> tuple[Any, ...]:
    return (
        str(session.get_bind().engine.url),
        settings.timezone,
        settings.currency,
        tuple(sorted(settings.tiers.items())),
        tuple(sorted(settings.cadence.items())),
        ask,
    )


def _work_out(
    session: Session,
    settings: Settings,
    ask: _Ask,
    version: tuple[Any, ...],
    now: datetime | None,
) -> _Remembered:
    start = time.perf_counter()
    result = weekly_insights(
        session,
        settings,
        as_of=ask.as_of,
        weeks=ask.weeks,
        since=ask.since,
        until=ask.until,
        filters=ask.filters,
    )
    took = time.perf_counter() - start
    orders = newest_order_id(version)
    return _Remembered(result, version, took, now or datetime.now(UTC), orders)


def _remember(key: tuple[Any, ...], found: _Remembered) -> None:
    with _LOCK:
        _CACHE[key] = found
        _CACHE.move_to_end(key)
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)


def _work_out_later(
    engine: Engine, settings: Settings, ask: _Ask, key: tuple[Any, ...], now: datetime | None
) -> None:
    """One thread per answer at a time, with its own session: the request that started it has
    already gone back with the last answer."""

    def work() -> None:
        try:
            with Session(engine) as session:
                version = data_version(session)
                _remember(key, _work_out(session, settings, ask, version, now))
        except Exception:  # a failed refresh leaves the last answer; the next request tries again
            log.exception("the insights could not be worked out again")
        finally:
            with _LOCK:
                _WORKING.pop(key, None)

    with _LOCK:
        if key in _WORKING:
            return
        thread = threading.Thread(target=work, name="insights", daemon=True)
        _WORKING[key] = thread
    thread.start()


__all__ = ["LARGE_STORE", "SLOW_SECONDS", "cached_insights", "wait_for_work"]
