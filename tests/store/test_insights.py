"""Weekly series against numbers worked out by hand, on SQLite and on PostgreSQL alike."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest
from sqlalchemy import text, update
from sqlalchemy.orm import Session, sessionmaker

from goodwill.errors import InvalidInput
from goodwill.settings import Settings
from goodwill.store.client_figures import keep_figures, mark_stale
from goodwill.store.figures_models import ClientFigures
from goodwill.store.insights import (
    SERIES_KEYS,
    Filters,
    weekly_insights,
)
from goodwill.store.insights_cache import cached_insights
from goodwill.store.models import Client, Order
from goodwill.store.week_grid import week_grid
from tests.store.insights_data import AS_OF, EXPECTED, FIRST, ZONE, seed, utc


@pytest.fixture
def amsterdam(settings: Settings) -> Settings:
    return dataclasses.replace(settings, timezone=ZONE)


def test_every_series_matches_the_hand_worked_numbers(
    store: sessionmaker[Session], amsterdam: Settings
) -> None:
    with store.begin() as session:
        seed(session)
    with store() as session:
        result = weekly_insights(session, amsterdam, as_of=AS_OF, weeks=4)
    assert result.weeks == (
        date(2026, 11, 2),
        date(2026, 11, 9),
        date(2026, 11, 16),
        date(2026, 11, 23),
    )
    assert set(result.series) == set(SERIES_KEYS)
    for key, expected in EXPECTED.items():
        assert list(result.series[key]) == expected, key
    assert result.present == {
        "followups": True,
        "payments": True,
        "conversations": True,
        "incidents": True,
        "purchases": True,
    }
    assert result.as_dict()["weeks"][0] == "2026-11-02"


def test_a_partner_filter_keeps_only_that_channels_purchases_and_clients(
    store: sessionmaker[Session], amsterdam: Settings
) -> None:
    with store.begin() as session:
        seed(session)
    with store() as session:
        result = weekly_insights(
            session, amsterdam, as_of=AS_OF, weeks=4, filters=Filters(partner="CityTrips")
        )
    assert list(result.series["purchases"]) == [1, 0, 1, 0]
    assert list(result.series["revenue"]) == [10.0, 0, 20.0, 0]
    assert list(result.series["active_clients"]) == [1, 1, 1, 1]
    assert list(result.series["followups_created"]) == [0, 0, 0, 0]  # they were B's


def test_a_tier_filter_keeps_the_clients_whose_lifetime_spend_is_in_it(
    store: sessionmaker[Session], amsterdam: Settings
) -> None:
    with store.begin() as session:
        seed(session)
    with store() as session:
        gold = weekly_insights(session, amsterdam, as_of=AS_OF, weeks=4, filters=Filters("gold"))
        bronze = weekly_insights(
            session, amsterdam, as_of=AS_OF, weeks=4, filters=Filters("bronze")
        )
        with pytest.raises(InvalidInput):
            weekly_insights(session, amsterdam, as_of=AS_OF, weeks=4, filters=Filters("platinum"))
    assert list(gold.series["purchases"]) == [0, 1, 0, 0]  # B: 12,000 EUR
    assert list(gold.series["late_payments"]) == [1, 0, 1, 0]
    assert list(bronze.series["purchases"]) == [1, 0, 1, 0]
    assert list(bronze.series["revenue_at_risk"]) == EXPECTED["revenue_at_risk"]


def test_weeks_start_on_monday_midnight_in_the_business_zone_across_dst(
    store: sessionmaker[Session], amsterdam: Settings
) -> None:
    """Summer time ends on 25 October 2026: Monday 26 Oct starts at 23:00 UTC the day before,
    while Monday 19 Oct started at 22:00 UTC."""
    with store.begin() as session:
        client = Client(
            name="X", name_key="x", created_at=utc(2026, 1, 1), updated_at=utc(2026, 1, 1)
        )
        session.add(client)
        session.flush()
        for k, at in enumerate(
            (
                utc(2026, 10, 18, 21, 59),  # Sunday 23:59 CEST: the week of 12 Oct
                utc(2026, 10, 18, 22, 0),  # Monday 00:00 CEST: the week of 19 Oct
                utc(2026, 10, 25, 22, 59),  # Sunday 23:59 CET: still the week of 19 Oct
                utc(2026, 10, 25, 23, 0),  # Monday 00:00 CET: the week of 26 Oct
            )
        ):
            session.add(
                Order(
                    external_id=f"D{k}",
                    client_id=client.id,
                    occurred_at=at,
                    currency="EUR",
                    amount_minor=100,
                )
            )
    with store() as session:
        result = weekly_insights(
            session, amsterdam, as_of=date(2026, 11, 1), since=date(2026, 10, 12)
        )
    assert result.weeks == (date(2026, 10, 12), date(2026, 10, 19), date(2026, 10, 26))
    assert list(result.series["purchases"]) == [1, 2, 1]
    assert list(result.series["new_clients"]) == [1, 0, 0]


def test_the_grid_knows_the_offsets_in_force(amsterdam: Settings) -> None:
    grid = week_grid(amsterdam.zone, first=FIRST, last=date(2027, 4, 5), as_of=date(2027, 4, 7))
    assert [at for at, _ in grid.shifts] == [int(utc(2027, 3, 28, 1).timestamp())]
    assert grid.first_offset == 3600 and grid.shifts[0][1] == 7200


def test_an_empty_store_gives_zero_and_empty_series(
    store: sessionmaker[Session], amsterdam: Settings
) -> None:
    with store() as session:
        result = weekly_insights(session, amsterdam, as_of=AS_OF, weeks=3)
    assert list(result.series["purchases"]) == [0, 0, 0]
    assert list(result.series["first_response_median_h"]) == [None, None, None]
    assert not any(result.present.values())


def test_the_cached_answer_changes_when_the_data_does(
    store: sessionmaker[Session], amsterdam: Settings
) -> None:
    with store.begin() as session:
        ids = seed(session)
    with store() as session:
        before = cached_insights(session, amsterdam, as_of=AS_OF, weeks=4)
        assert cached_insights(session, amsterdam, as_of=AS_OF, weeks=4) is before
    with store.begin() as session:
        session.add(_c_buys_on_the_24th(ids, "late", 500))
    with store() as session:
        after = cached_insights(session, amsterdam, as_of=AS_OF, weeks=4)
    assert list(after.series["purchases"]) == [1, 1, 1, 1]


def _c_buys_on_the_24th(ids: dict[str, int], external_id: str, cents: int) -> Order:
    return Order(
        external_id=external_id,
        client_id=ids["C"],
        occurred_at=utc(2026, 11, 24, 12),
        currency="EUR",
        amount_minor=cents,
    )


@pytest.mark.postgres
def test_the_percentiles_are_postgresql_percentile_cont(
    postgres_url: str, settings: Settings
) -> None:
    from goodwill.store.database import open_store

    pg = dataclasses.replace(settings, database_url=postgres_url, timezone=ZONE)
    store = open_store(postgres_url)
    with store.begin() as session:
        seed(session)
    with store() as session:
        result = weekly_insights(session, pg, as_of=AS_OF, weeks=4)
        median, p90 = session.execute(
            text(
                "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY s), "
                "percentile_cont(0.9) WITHIN GROUP (ORDER BY s) FROM (SELECT "
                "EXTRACT(EPOCH FROM first_response_at - created_at) / 3600 AS s "
                "FROM conversations) t"
            )
        ).one()
    assert result.series["first_response_median_h"][1] == round(float(median), 2)
    assert result.series["first_response_p90_h"][1] == round(float(p90), 2)


def test_the_clients_series_read_the_kept_figures_and_agree_with_every_order(
    store: sessionmaker[Session], amsterdam: Settings
) -> None:
    """After the engine kept each client's figures, the clients' series come from them (and
    from the orders of clients who bought since), with the same numbers as from every order."""
    with store.begin() as session:
        ids = seed(session)
    now = utc(2026, 11, 25, 12)
    assert keep_figures(store, amsterdam, today=AS_OF, now=now) > 0
    clients_keys = ("active_clients", "new_clients", "clients_lost", "revenue_at_risk")
    with store() as session:
        kept = weekly_insights(session, amsterdam, as_of=AS_OF, weeks=4)
    for key, expected in EXPECTED.items():
        assert list(kept.series[key]) == expected, key
    # C buys again: their row is stale and their orders count instead, as the whole history does.
    with store.begin() as session:
        session.add(_c_buys_on_the_24th(ids, "again", 3000))
        mark_stale(session, [ids["C"]])
    with store() as session:
        mixed = weekly_insights(session, amsterdam, as_of=AS_OF, weeks=4)
    with store.begin() as session:  # every row stale: every client's orders count
        session.execute(update(ClientFigures).values(stale=True))
    with store() as session:
        whole = weekly_insights(session, amsterdam, as_of=AS_OF, weeks=4)
    assert {k: mixed.series[k] for k in clients_keys} == {k: whole.series[k] for k in clients_keys}
    assert mixed.series["revenue_at_risk"] != kept.series["revenue_at_risk"]  # C is on time now
    # The rows are what is read: a kept row that said otherwise would show.
    assert keep_figures(store, amsterdam, today=AS_OF, now=now) > 0
    with store.begin() as session:
        session.execute(
            update(ClientFigures)
            .where(ClientFigures.client_id == ids["A"])
            .values(first_at=utc(2026, 11, 10, 12))
        )
    with store() as session:
        told = weekly_insights(session, amsterdam, as_of=AS_OF, weeks=4)
    assert list(told.series["new_clients"]) == [0, 1, 0, 0]
