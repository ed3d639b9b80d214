"""Without a business currency set, figures count in the currency most of the latest orders are
in: the answer a whole-table count gives while the business keeps to its currency, read from a
bounded window so a page never counts every order (SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from goodwill.settings import Settings
from goodwill.store import queries
from goodwill.store.queries import figures_currency, most_orders_currency
from tests.conftest import NOW
from tests.web.sample import add_client, add_purchase


def _orders(session: Session, currencies: str) -> None:
    client = add_client(session, external_id="C1", name="Ann Ames", now=NOW)
    for i, code in enumerate(currencies.split()):
        add_purchase(
            session,
            client,
            order_id=f"O{i}",
            at=NOW - timedelta(days=100 - i),
            amount_minor=1000,
            product="Beans",
            currency=code,
        )


def test_the_currency_most_orders_are_in_ties_broken_by_code(
    store: sessionmaker[Session], settings: Settings
) -> None:
    with store.begin() as session:
        assert most_orders_currency(session) is None
        _orders(session, "USD EUR GBP EUR USD")
    with store() as session:
        assert most_orders_currency(session) == "EUR"  # two each: EUR before USD
        unset = dataclasses.replace(settings, currency=None)
        assert figures_currency(session, unset) == "EUR"
        assert figures_currency(session, dataclasses.replace(settings, currency="JPY")) == "JPY"


def test_only_the_latest_orders_are_counted(
    store: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A business that moved from euros to pounds counts in pounds once its latest orders are."""
    with store.begin() as session:
        _orders(session, "EUR EUR EUR EUR EUR GBP GBP GBP")
    with store() as session:
        assert most_orders_currency(session) == "EUR"
        monkeypatch.setattr(queries, "CURRENCY_WINDOW", 3)
        assert most_orders_currency(session) == "GBP"
