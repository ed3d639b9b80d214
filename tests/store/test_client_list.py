"""The client list reads the page's clients first and their figures alone: by name, or by the
figures the engine keeps (fresh ones, and every other client's own orders), it shows the same
rows, figures and total as the list aggregated over every client (SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from goodwill.settings import Settings
from goodwill.store.client_figures import keep_figures
from goodwill.store.client_sort import kept_page
from goodwill.store.figures_models import ClientFigures
from goodwill.store.models import Client
from goodwill.store.queries import (
    Sort,
    _figures_query,
    _overview,
    figures_currency,
    list_clients,
)
from tests.conftest import NOW
from tests.store.plans import plan_of, recorded
from tests.web.rhythms import more_stopped, rhythm_business
from tests.web.sample import add_purchase

TODAY = NOW.date()


def test_pages_by_name_equal_the_list_aggregated_over_every_client(
    store: sessionmaker[Session], settings: Settings
) -> None:
    with store.begin() as session:
        rhythm_business(session, now=NOW)
        more_stopped(session, now=NOW)
    with store() as session:
        currency = figures_currency(session, settings)
        everyone = session.execute(
            _figures_query(session, currency, TODAY)
            .where(Client.archived_at.is_(None))
            .order_by(Client.name_key, Client.id)
        ).all()
        want = [_overview(row, settings, currency, TODAY) for row in everyone]
        pages = [
            list_clients(session, settings, today=TODAY, offset=at, limit=4)
            for at in range(0, len(want) + 4, 4)
        ]
        found, totals = [o for rows, _ in pages for o in rows], {t for _, t in pages}
        searched, count = list_clients(session, settings, today=TODAY, search=want[1].name)
    assert len(want) >= 10 and any(o.figures.purchase_count for o in want)
    assert found == want and totals == {len(want)}
    assert want[1] in searched and count == len(searched)


def _whole(session: Session, settings: Settings, sort: Sort) -> list[Any]:
    """The list as grouping every client's orders orders it."""
    currency = figures_currency(session, settings)
    query = _figures_query(session, currency, TODAY).where(Client.archived_at.is_(None))
    c = query.selected_columns
    by = {
        "since": func.coalesce(Client.client_since, func.date(c.first_purchase)).asc().nulls_last(),
        "last_purchase": c.last_purchase.desc().nulls_last(),
        "spend": c.spend.desc(),
    }[sort]
    rows = session.execute(query.order_by(by, Client.id)).all()
    return [_overview(row, settings, currency, TODAY) for row in rows]


def _paged(session: Session, settings: Settings, sort: Sort) -> list[Any]:
    total = session.scalar(select(func.count(Client.id))) or 0
    return [
        o
        for at in range(0, total + 5, 5)
        for o in list_clients(session, settings, today=TODAY, sort=sort, offset=at, limit=5)[0]
    ]


@pytest.mark.parametrize("sort", ["since", "last_purchase", "spend"])
def test_pages_by_figures_equal_the_list_aggregated_over_every_client(
    store: sessionmaker[Session], settings: Settings, sort: Sort
) -> None:
    with store.begin() as session:
        rhythm_business(session, now=NOW)
        more_stopped(session, now=NOW)
    with store() as session:  # none kept yet: every client from their orders
        assert _paged(session, settings, sort) == _whole(session, settings, sort)
    keep_figures(store, settings, today=TODAY, now=NOW)
    with store() as session:
        assert session.scalar(select(func.count()).where(ClientFigures.stale.is_(False))) > 10
        kept = _paged(session, settings, sort)
        assert kept == _whole(session, settings, sort)
    with store.begin() as session:  # bought since the engine ran: those rows stale
        last = session.scalars(select(Client).order_by(Client.id.desc())).first()
        assert last is not None
        add_purchase(
            session, last, order_id="big", at=NOW - timedelta(hours=2), amount_minor=10**9,
            product="Beans", currency=figures_currency(session, settings),
        )  # fmt: skip
        add_purchase(
            session, last, order_id="other", at=NOW - timedelta(hours=1), amount_minor=10**10,
            product="Beans", currency="XTS",
        )  # fmt: skip
    with store() as session:
        moved = _paged(session, settings, sort)
        assert moved == _whole(session, settings, sort) and moved != kept
        other = dataclasses.replace(settings, currency="XTS")  # no kept row in this currency
        assert _paged(session, other, sort) == _whole(session, other, sort)


@pytest.mark.parametrize("sort", ["last_purchase", "spend"])
def test_the_first_pages_are_read_down_the_kept_rows(
    store: sessionmaker[Session], settings: Settings, sort: Sort
) -> None:
    """Once kept, the top of the list comes from the kept rows' index (and a stale client's own
    orders); where the page reaches clients with no spend or no purchase the whole list
    answers."""
    shown = [Client.archived_at.is_(None)]
    with store.begin() as session:
        rhythm_business(session, now=NOW)
        more_stopped(session, now=NOW)
    with store() as session:
        currency = figures_currency(session, settings)
        where = {"zone": settings.timezone, "currency": currency}
        assert kept_page(session, sort, shown, **where, offset=0, limit=3) is None  # none kept
    keep_figures(store, settings, today=TODAY, now=NOW)
    with store.begin() as session:  # the newest client buys big: their row goes stale
        last = session.scalars(select(Client).order_by(Client.id.desc())).first()
        assert last is not None
        add_purchase(
            session, last, order_id="big", at=NOW - timedelta(hours=2), amount_minor=10**9,
            product="Beans", currency=currency,
        )  # fmt: skip
    with store() as session:
        whole = [o.id for o in _whole(session, settings, sort)]
        top = kept_page(session, sort, shown, **where, offset=0, limit=3)
        second = kept_page(session, sort, shown, **where, offset=3, limit=3)
        assert top == whole[:3] and top[0] == last.id
        assert second == whole[3:6]
        keyed = sum(
            1
            for o in _whole(session, settings, sort)
            if (o.figures.total_spend_minor > 0 if sort == "spend" else o.figures.last_purchase)
        )
        assert keyed < len(whole)  # some clients have no spend or no purchase: listed by id
        assert kept_page(session, sort, shown, **where, offset=keyed - 1, limit=2) is None
        assert kept_page(session, "name", shown, **where, offset=0, limit=3) is None
        other = {"zone": settings.timezone, "currency": "XTS"}  # not kept in that currency
        assert kept_page(session, sort, shown, **other, offset=0, limit=3) is None


@pytest.mark.postgres
def test_the_spend_page_reads_the_kept_index(postgres_url: str, settings: Settings) -> None:
    """With sequential scans priced out the kept rows are still read, and through the index
    in the list's order (no sort of every row)."""
    from sqlalchemy import text

    from goodwill.store.database import open_store

    pg = dataclasses.replace(settings, database_url=postgres_url)
    store = open_store(postgres_url)
    with store.begin() as session:
        rhythm_business(session, now=NOW)
    keep_figures(store, pg, today=TODAY, now=NOW)
    with store() as session:
        currency = figures_currency(session, pg)
        with recorded(session) as seen:
            found = kept_page(
                session, "spend", [Client.archived_at.is_(None)],
                zone=pg.timezone, currency=currency, offset=0, limit=3,
            )  # fmt: skip
        assert found is not None
        statement, parameters = next(s for s in seen if "client_figures.spend_minor DESC" in s[0])
        session.execute(text("SET LOCAL enable_sort = off"))
        plan = plan_of(session, statement, parameters)
    assert "ix_client_figures_spend" in plan, plan


def test_the_count_of_the_list_reads_the_listed_index(
    store: sessionmaker[Session], settings: Settings
) -> None:
    """Everyone not archived is counted from ``ix_clients_listed``, not from every row."""
    with store.begin() as session:
        rhythm_business(session, now=NOW)
    with store() as session:
        with recorded(session) as seen:
            list_clients(session, settings, today=TODAY)
        plan = plan_of(session, *next(s for s in seen if "count(clients.id)" in s[0]))
    assert "ix_clients_listed" in plan, plan
