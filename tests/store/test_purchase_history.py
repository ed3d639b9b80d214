"""The purchase history the models read: each order's local day worked out for all orders at
once from the zone's offsets, equal to converting each instant on its own, on both stores."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session, sessionmaker

from goodwill.settings import Settings
from goodwill.store.history import local_days, purchase_history
from goodwill.store.models import Order
from tests.web.sample import add_client

ZONES = (
    "Europe/Amsterdam",
    "America/St_Johns",  # a half-hour offset
    "Australia/Lord_Howe",  # a half-hour change of offset
    "Pacific/Apia",  # skipped 30 December 2011 when it crossed the date line
    "Asia/Kathmandu",
    "UTC",
)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _one_by_one(seconds: list[int], zone: ZoneInfo) -> list[date]:
    return [(EPOCH + timedelta(seconds=s)).astimezone(zone).date() for s in seconds]


@hypothesis_settings(max_examples=200, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    seconds=st.lists(
        st.integers(min_value=946_684_800, max_value=1_893_456_000), min_size=1, max_size=40
    ),
)
def test_local_days_equal_each_instant_converted_alone(zone: str, seconds: list[int]) -> None:
    days = local_days(np.array(seconds, dtype=np.int64), ZoneInfo(zone))
    assert days.astype(date).tolist() == _one_by_one(seconds, ZoneInfo(zone))


def test_local_days_at_the_edges_of_a_change_and_of_the_day() -> None:
    zone = ZoneInfo("Europe/Amsterdam")
    change = int(datetime(2026, 3, 29, 1, 0, tzinfo=UTC).timestamp())  # 02:00 becomes 03:00
    midnight = int(datetime(2026, 10, 24, 22, 0, tzinfo=UTC).timestamp())  # local midnight
    seconds = [change - 1, change, midnight - 1, midnight, midnight + 1]
    days = local_days(np.array(seconds, dtype=np.int64), zone).astype(date).tolist()
    assert days == _one_by_one(seconds, zone)
    assert days[2:] == [date(2026, 10, 24), date(2026, 10, 25), date(2026, 10, 25)]
    assert local_days(np.array([], dtype=np.int64), zone).shape == (0,)


def test_the_history_reads_days_amounts_and_currencies_as_stored(
    store: sessionmaker[Session], settings: Settings
) -> None:
    settings = dataclasses.replace(settings, timezone="America/St_Johns", currency="EUR")
    instants = [
        datetime(2026, 3, 8, 3, 29, 59, tzinfo=UTC),  # 23:59:59 on the 7th, local (-03:30)
        datetime(2026, 3, 8, 3, 30, 0, 250_000, tzinfo=UTC),  # just past local midnight
        datetime(2026, 11, 1, 2, 15, tzinfo=UTC),  # 23:45 on 31 October (-02:30)
    ]
    with store.begin() as session:
        client = add_client(session, external_id="C1", name="Ada", now=instants[0])
        for n, (at, minor, currency) in enumerate(
            zip(instants, (1250, 999, 500), ("EUR", "EUR", "USD"), strict=True)
        ):
            session.add(
                Order(
                    client_id=client.id,
                    external_id=f"O{n}",
                    occurred_at=at,
                    amount_minor=minor,
                    currency=currency,
                )
            )
    with store() as session:
        history = purchase_history(session, settings)
    order = np.argsort(history.day, kind="stable")
    assert history.day[order].astype(date).tolist() == [
        date(2026, 3, 7),
        date(2026, 3, 8),
        date(2026, 10, 31),
    ]
    assert history.amount[order][:2].tolist() == [12.5, 9.99]
    assert np.isnan(history.amount[order][2])
    assert history.client.tolist() == [client.id] * 3
    assert history.currency == "EUR"
