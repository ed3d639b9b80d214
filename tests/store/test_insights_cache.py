"""On a store slow to answer, the insights page shows the last answer while the next is worked
out in the background (with a session of its own); a quick store, and the CSV export, are always
answered as the data stands."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from goodwill.settings import Settings
from goodwill.store import insights_cache
from goodwill.store.insights import Insights
from goodwill.store.insights_cache import LARGE_STORE, cached_insights, wait_for_work
from goodwill.store.models import Client, Order
from tests.store.insights_data import AS_OF, ZONE, buy_again, seed, utc

ASKED = utc(2026, 11, 25, 9)
LATER = utc(2026, 11, 25, 10)


def _ask(
    store: sessionmaker[Session],
    settings: Settings,
    *,
    now: datetime,
    slow_seconds: float | None = None,
    large_store: int = 0,
) -> Insights:
    with store() as session:
        return cached_insights(
            session,
            settings,
            as_of=AS_OF,
            weeks=4,
            now=now,
            slow_seconds=slow_seconds,
            large_store=large_store,
        )


def test_a_slow_answer_is_shown_again_while_the_next_is_worked_out(
    store: sessionmaker[Session], settings: Settings
) -> None:
    amsterdam = dataclasses.replace(settings, timezone=ZONE)
    with store.begin() as session:
        seed(session)
    first = _ask(store, amsterdam, now=ASKED, slow_seconds=0.0)
    assert first.figured_at is None
    before = list(first.series["purchases"])
    with store.begin() as session:
        buy_again(session)
    shown = _ask(store, amsterdam, now=LATER, slow_seconds=0.0)
    assert shown.figured_at == ASKED
    assert list(shown.series["purchases"]) == before
    wait_for_work()
    fresh = _ask(store, amsterdam, now=LATER, slow_seconds=0.0)
    assert fresh.figured_at is None
    assert list(fresh.series["purchases"]) != before
    # The answer a caller that waits gets is the same, worked out from the data as it stands.
    standing = _ask(store, amsterdam, now=LATER)
    assert standing.series == fresh.series


def test_a_quick_answer_a_small_store_and_a_caller_that_waits_see_a_change_at_once(
    store: sessionmaker[Session], settings: Settings
) -> None:
    amsterdam = dataclasses.replace(settings, timezone=ZONE)
    with store.begin() as session:
        seed(session)
    before = _ask(store, amsterdam, now=ASKED, slow_seconds=0.0, large_store=LARGE_STORE)
    with store.begin() as session:
        buy_again(session)
    # Far fewer orders than a large store: fresh, however long the answer took on this machine.
    small = _ask(store, amsterdam, now=LATER, slow_seconds=0.0, large_store=LARGE_STORE)
    with store.begin() as session:
        first = session.scalars(select(Client.id).order_by(Client.id)).first()
        at = LATER - timedelta(hours=1)
        session.add(
            Order(external_id="later", client_id=first, occurred_at=at, currency="EUR",
                  amount_minor=100)
        )  # fmt: skip
    quick = _ask(store, amsterdam, now=LATER, slow_seconds=60.0)  # took far less than a minute
    waited = _ask(store, amsterdam, now=LATER)
    assert quick.series["purchases"] != small.series["purchases"]
    for after in (small, quick, waited):
        assert after.figured_at is None
        assert after.series["purchases"] != before.series["purchases"]


def test_a_refresh_that_fails_leaves_the_last_answer(
    store: sessionmaker[Session], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    amsterdam = dataclasses.replace(settings, timezone=ZONE)
    with store.begin() as session:
        seed(session)
    first = _ask(store, amsterdam, now=ASKED, slow_seconds=0.0)
    with store.begin() as session:
        buy_again(session)

    def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(insights_cache, "weekly_insights", broken)
    again = _ask(store, amsterdam, now=LATER, slow_seconds=0.0)
    wait_for_work()
    still = _ask(store, amsterdam, now=LATER, slow_seconds=0.0)
    for shown in (again, still):
        assert shown.figured_at == ASKED
        assert shown.series == first.series
