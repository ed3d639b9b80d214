"""The client list by name reads the page's clients first and their figures alone: the same rows,
figures and total as the list aggregated over every client (SQLite and PostgreSQL)."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from goodwill.settings import Settings
from goodwill.store.models import Client
from goodwill.store.queries import _figures_query, _overview, figures_currency, list_clients
from tests.conftest import NOW
from tests.web.rhythms import more_stopped, rhythm_business

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
