"""The insights series remembered in this process and, on a large store, kept in it; shown
from the last answer while the next is worked out.

The page is asked for the same weeks many times a day while the data changes a few times an
hour; one small statement (:func:`~goodwill.store.insights.data_version`) tells whether a
remembered answer still holds. On a busy store it often does not (a pass of the engine, a reply),
and at hundreds of thousands of clients the answer takes a second or more to work out. So when
it no longer holds, the store is large and working it out took ``slow_seconds`` or more, a
caller that accepts it (the page, not the CSV export) gets the last answer at once, marked with
when it was worked out, while a thread works out the new one with a session of its own; the next
request shows it. Such answers are also kept in the store (store/insights_answers.py), one per
view, so a restarted process, or the first request of a new day, starts from the last one too;
and the engine works out the page's first view after its first pass of each day
(:func:`work_out_ahead`), so the day's first visitor is shown today's figures at once. A small
store or one that answers quicker than that is always answered fresh and keeps nothing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from goodwill.settings import Settings
from goodwill.store.insights import (
    DEFAULT_WEEKS,
    Filters,
    Insights,
    data_version,
    newest_order_id,
    weekly_insights,
)
from goodwill.store.insights_answers import (
    Answer,
    Ask,
    keep_answer,
    kept_answer,
    version_text,
    view_of,
)

log = logging.getLogger(__name__)

#: An answer that took this long to work out is shown again while the next is worked out...
SLOW_SECONDS = 0.5
#: ...on a store of at least this many orders (by the newest order's id): a small store is
#: always answered as its data stands, however busy the machine that times it.
LARGE_STORE = 100_000
_CACHE_SIZE = 64

_CACHE: OrderedDict[tuple[str, str], Answer] = OrderedDict()
_LOCK = threading.Lock()
_WORKING: dict[tuple[str, ...], threading.Thread] = {}


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
    last answer of the same view (its ``figured_at`` set), even one for an earlier day, when
    working it out took at least this long on a store of ``large_store`` orders or more, and
    work out the next one in the background; None: always as the data stands."""
    ask = Ask(as_of, weeks, since, until, filters or Filters())
    view = view_of(settings, ask)
    engine = session.get_bind().engine
    key = (str(engine.url), view)
    current = data_version(session)
    version = version_text(current)
    with _LOCK:
        kept = _CACHE.get(key)
        if kept is not None:
            _CACHE.move_to_end(key)
    if kept is None:
        kept = kept_answer(session, view)
        if kept is not None:
            _remember(key, kept)
    if kept is not None and kept.ask == ask and kept.version == version:
        return kept.insights
    if (
        kept is not None
        and slow_seconds is not None
        and kept.took >= slow_seconds
        and kept.orders >= large_store
    ):
        _work_out_later(engine, settings, ask, key, now, (slow_seconds, large_store))
        return replace(kept.insights, figured_at=kept.figured_at)
    fresh = _work_out(session, settings, ask, current, now)
    _remember(key, fresh)
    if _worth_keeping(fresh, slow_seconds, large_store):
        _keep_later(engine, key, fresh)
    return fresh.insights


def first_day(until: date) -> date:
    """The first day the page shows when no start is chosen: ``DEFAULT_WEEKS`` weeks to
    ``until``."""
    return until - timedelta(weeks=DEFAULT_WEEKS - 1)


def page_view(today: date) -> Ask:
    """What the insights page asks for when opened with nothing chosen: the weeks up to
    today, every client."""
    return Ask(today, DEFAULT_WEEKS, first_day(today), today, Filters())


def work_out_ahead(
    store: sessionmaker[Session],
    settings: Settings,
    *,
    today: date,
    now: datetime,
    large_store: int | None = None,
) -> bool:
    """Work out the page's first view of the day and keep it, on a large store: the day's
    first visitor, in this process or another, is shown today's figures at once rather than
    waiting seconds for them or being shown yesterday's. Once a day: later changes are shown
    as the page always shows them (the last figures while the next are worked out), so a
    worker passing every minute on a busy store does not work them out every minute. Returns
    whether it was worked out (not on a small store, nor when today's is kept)."""
    ask = page_view(today)
    view = view_of(settings, ask)
    with store() as session:
        current = data_version(session)
        if newest_order_id(current) < (LARGE_STORE if large_store is None else large_store):
            return False
        kept = kept_answer(session, view)
        if kept is not None and kept.ask == ask:
            return False
        answer = _work_out(session, settings, ask, current, now)
        engine = session.get_bind().engine
    _remember((str(engine.url), view), answer)
    _keep(engine, view, answer)
    return True


def forget_remembered() -> None:
    """Forget every answer remembered in this process, as a restart does (tests)."""
    with _LOCK:
        _CACHE.clear()


def wait_for_work(timeout: float = 30.0) -> None:
    """Wait until nothing is being worked out or kept in the background (tests, shutdown)."""
    with _LOCK:
        threads = list(_WORKING.values())
    for thread in threads:
        thread.join(timeout)


def _work_out(
    session: Session, settings: Settings, ask: Ask, version: tuple[Any, ...], now: datetime | None
) -> Answer:
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
    return Answer(
        ask, result, version_text(version), took, now or datetime.now(UTC), newest_order_id(version)
    )


def _worth_keeping(answer: Answer, slow_seconds: float | None, large_store: int) -> bool:
    """Only answers slow to work out on a large store are kept in it: a small store keeps
    nothing and is always answered as its data stands."""
    slow = SLOW_SECONDS if slow_seconds is None else slow_seconds
    return answer.took >= slow and answer.orders >= large_store


def _remember(key: tuple[str, str], found: Answer) -> None:
    with _LOCK:
        _CACHE[key] = found
        _CACHE.move_to_end(key)
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)


def _keep(engine: Engine, view: str, answer: Answer) -> None:
    """Write ``answer`` as its view's newest, in a transaction of its own."""
    with Session(engine) as session, session.begin():
        keep_answer(session, view, answer)


def _in_background(name: tuple[str, ...], work: Any) -> None:
    """Run ``work`` in a thread of its own, one per name at a time; a failure is logged and
    leaves what was there (the next request tries again)."""

    def run() -> None:
        try:
            work()
        except Exception:
            log.exception("the insights could not be worked out or kept")
        finally:
            with _LOCK:
                _WORKING.pop(name, None)

    with _LOCK:
        if name in _WORKING:
            return
        thread = threading.Thread(target=run, name="insights", daemon=True)
        _WORKING[name] = thread
    thread.start()


def _keep_later(engine: Engine, key: tuple[str, str], answer: Answer) -> None:
    """Keep an answer worked out while a request waited, after the request has it."""
    _in_background(("keep", *key), lambda: _keep(engine, key[1], answer))


def _work_out_later(
    engine: Engine,
    settings: Settings,
    ask: Ask,
    key: tuple[str, str],
    now: datetime | None,
    limits: tuple[float | None, int],
) -> None:
    """One thread per view at a time, with its own session: the request that started it has
    already gone back with the last answer."""

    def work() -> None:
        with Session(engine) as session:
            answer = _work_out(session, settings, ask, data_version(session), now)
        _remember(key, answer)
        if _worth_keeping(answer, *limits):
            _keep(engine, key[1], answer)

    _in_background(("work", *key), work)


__all__ = [
    "LARGE_STORE",
    "SLOW_SECONDS",
    "cached_insights",
    "first_day",
    "forget_remembered",
    "page_view",
    "wait_for_work",
    "work_out_ahead",
]
