"""On a large store the last insights answer of each view is kept in the store: a restarted
process, and the first request of a new day, are shown it while the next is worked out."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from goodwill.settings import Settings
from goodwill.store import insights_cache
from goodwill.store.insights import Filters, Insights, weekly_insights
from goodwill.store.insights_answers import Ask, kept_answer, view_of
from goodwill.store.insights_cache import (
    LARGE_STORE,
    cached_insights,
    forget_remembered,
    page_view,
    wait_for_work,
    work_out_ahead,
)
from goodwill.store.models import InsightsAnswer
from tests.store.insights_data import AS_OF, ZONE, buy_again, seed, utc

ASKED = utc(2026, 11, 25, 9)
LATER = utc(2026, 11, 25, 10)
NEXT_DAY = utc(2026, 11, 26, 8)


def _ask(
    store: sessionmaker[Session],
    settings: Settings,
    *,
    now: datetime,
    as_of: date = AS_OF,
    slow_seconds: float | None = 0.0,
    large_store: int = 0,
    filters: Filters | None = None,
) -> Insights:
    """The page's way of asking (the last answer will do) on a store counted as large."""
    with store() as session:
        return cached_insights(
            session,
            settings,
            as_of=as_of,
            weeks=4,
            filters=filters,
            now=now,
            slow_seconds=slow_seconds,
            large_store=large_store,
        )


@pytest.fixture
def amsterdam(store: sessionmaker[Session], settings: Settings) -> Settings:
    with store.begin() as session:
        seed(session)
    return dataclasses.replace(settings, timezone=ZONE)


def kept_views(session: Session) -> list[str]:
    """Every view with a kept answer."""
    return list(session.scalars(select(InsightsAnswer.view).order_by(InsightsAnswer.view)))


def _refuse_to_work_out(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> object:
        raise AssertionError("worked out again")

    monkeypatch.setattr(insights_cache, "weekly_insights", refuse)


def test_a_restarted_process_answers_from_the_kept_answer(
    store: sessionmaker[Session], amsterdam: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _ask(store, amsterdam, now=ASKED)
    wait_for_work()
    with store() as session:
        assert len(kept_views(session)) == 1
    forget_remembered()
    with monkeypatch.context() as patch:
        _refuse_to_work_out(patch)
        again = _ask(store, amsterdam, now=LATER)
    # Nothing changed: the kept answer is the data as it stands, equal in every part.
    assert again == first and again.figured_at is None


def test_after_a_restart_and_a_change_the_kept_answer_is_shown_while_the_next_is_worked_out(
    store: sessionmaker[Session], amsterdam: Settings
) -> None:
    first = _ask(store, amsterdam, now=ASKED)
    wait_for_work()
    with store.begin() as session:
        buy_again(session)
    forget_remembered()
    shown = _ask(store, amsterdam, now=LATER)
    assert shown.figured_at == ASKED
    assert shown.series == first.series
    wait_for_work()
    forget_remembered()  # the newer answer was kept too, not only remembered
    fresh = _ask(store, amsterdam, now=LATER)
    assert fresh.figured_at is None
    assert fresh.series["purchases"] != first.series["purchases"]
    assert fresh.series == _ask(store, amsterdam, now=LATER, slow_seconds=None).series


def test_the_first_view_of_a_new_day_shows_the_last_answer_of_the_same_view(
    store: sessionmaker[Session], amsterdam: Settings
) -> None:
    yesterday = _ask(store, amsterdam, now=ASKED)
    wait_for_work()
    forget_remembered()
    shown = _ask(store, amsterdam, now=NEXT_DAY, as_of=AS_OF + timedelta(days=1))
    assert shown.figured_at == ASKED
    assert shown.as_of == AS_OF and shown.series == yesterday.series
    wait_for_work()
    today = _ask(store, amsterdam, now=NEXT_DAY, as_of=AS_OF + timedelta(days=1))
    assert today.figured_at is None and today.as_of == AS_OF + timedelta(days=1)
    # A caller that waits (the CSV) never gets another day's answer.
    forget_remembered()
    with store.begin() as session:
        session.execute(update(InsightsAnswer).values(asked="2026-11-20 - - 4"))
    waited = _ask(
        store, amsterdam, now=NEXT_DAY, as_of=AS_OF + timedelta(days=1), slow_seconds=None
    )
    assert waited.figured_at is None and waited.as_of == AS_OF + timedelta(days=1)


def test_other_filters_are_another_view(store: sessionmaker[Session], amsterdam: Settings) -> None:
    everyone = _ask(store, amsterdam, now=ASKED)
    gold = _ask(store, amsterdam, now=ASKED, filters=Filters(tier="gold"))
    wait_for_work()
    with store() as session:
        assert len(kept_views(session)) == 2
    with store.begin() as session:
        buy_again(session)
    forget_remembered()
    assert _ask(store, amsterdam, now=LATER, filters=Filters(tier="gold")).series == gold.series
    assert _ask(store, amsterdam, now=LATER).series == everyone.series


def test_a_small_store_keeps_nothing(store: sessionmaker[Session], amsterdam: Settings) -> None:
    _ask(store, amsterdam, now=ASKED, large_store=LARGE_STORE)
    _ask(store, amsterdam, now=ASKED, slow_seconds=None)  # the CSV: quicker than half a second
    wait_for_work()
    with store() as session:
        assert kept_views(session) == []


def test_an_unreadable_kept_answer_is_worked_out_again(
    store: sessionmaker[Session], amsterdam: Settings
) -> None:
    first = _ask(store, amsterdam, now=ASKED)
    wait_for_work()
    with store.begin() as session:
        session.execute(update(InsightsAnswer).values(answer="{not json"))
    forget_remembered()
    with store() as session:
        assert kept_answer(session, kept_views(session)[0]) is None
    again = _ask(store, amsterdam, now=LATER)
    assert again.figured_at is None and again.series == first.series


def test_the_weeks_up_to_today_are_one_view_whatever_the_day(settings: Settings) -> None:
    def ask(as_of: date, since: date | None, until: date | None, tier: str | None = None) -> Ask:
        return Ask(as_of, 26, since, until, Filters(tier=tier))

    day, next_day = date(2026, 11, 25), date(2026, 11, 26)
    up_to = view_of(settings, ask(day, day - timedelta(weeks=25), day))
    assert up_to == view_of(settings, ask(next_day, next_day - timedelta(weeks=25), next_day))
    assert up_to != view_of(settings, ask(day, day - timedelta(weeks=12), day))
    assert up_to != view_of(settings, ask(day, day - timedelta(weeks=25), day, "gold"))
    fixed = view_of(settings, ask(day, date(2026, 1, 5), date(2026, 3, 1)))
    assert fixed == view_of(settings, ask(next_day, date(2026, 1, 5), date(2026, 3, 1)))
    assert fixed != view_of(settings, ask(day, date(2026, 1, 5), date(2026, 3, 2)))
    other_zone = dataclasses.replace(settings, timezone="America/New_York")
    assert up_to != view_of(other_zone, ask(day, day - timedelta(weeks=25), day))


def test_the_engine_works_the_first_view_out_ahead_once_a_day_on_a_large_store_only(
    store: sessionmaker[Session], amsterdam: Settings
) -> None:
    assert not work_out_ahead(store, amsterdam, today=AS_OF, now=ASKED)  # a small store
    with store() as session:
        assert kept_views(session) == []
    assert work_out_ahead(store, amsterdam, today=AS_OF, now=ASKED, large_store=0)
    with store.begin() as session:
        buy_again(session)
    # Later the same day the page shows changes itself (the last figures, then the next).
    assert not work_out_ahead(store, amsterdam, today=AS_OF, now=LATER, large_store=0)
    next_day = AS_OF + timedelta(days=1)
    assert work_out_ahead(store, amsterdam, today=next_day, now=NEXT_DAY, large_store=0)
    with store() as session:
        (view,) = kept_views(session)  # one view: the weeks up to today, whatever the day
        kept = kept_answer(session, view)
        assert kept is not None and kept.figured_at == NEXT_DAY
        assert kept.ask == page_view(next_day) and kept.insights.filters == Filters()
        fresh = weekly_insights(
            session, amsterdam, as_of=next_day, since=page_view(next_day).since, until=next_day
        )
    assert kept.insights.series == fresh.series
