"""Today and At risk over HTTP a page at a time: the rows each page shows, its pager, and a number
of statements per request that does not grow with the number of clients."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from goodwill.settings import Settings
from goodwill.store.at_risk import keep_rhythms
from goodwill.store.models import Client, FollowUp, Order, StaffUser
from goodwill.store.staff import create_token, user_by_email
from goodwill.web import create_app
from goodwill.web.pages import at_risk as at_risk_page
from goodwill.web.pages import today as today_page
from tests.conftest import NOW
from tests.web.conftest import log_in
from tests.web.sample import add_client, staff_user

TODAY = NOW.date()
_ROW = re.compile(r'<li class="followup[^"]*" id="followup-(\d+)"')
_RISK_ROW = re.compile(r'<tr data-client="([^"]+)"')


def _clients(store: sessionmaker[Session], n: int) -> None:
    """``n`` clients, each buying every 20 days four times, the last ``i`` days ago (so about
    half are overdue), each with one open follow-up of the owner's, due ``i`` hours ago."""
    with store.begin() as session:
        owner = staff_user(session, now=NOW)
        for i in range(n):
            client = add_client(session, external_id=f"K{i:04d}", name=f"Kim {i}", now=NOW)
            last = NOW - timedelta(days=1 + i % 60)
            session.add_all(
                Order(
                    external_id=f"K{i:04d}-{k}",
                    client_id=client.id,
                    occurred_at=last - timedelta(days=20 * k),
                    currency="USD",
                    amount_minor=1_000 + 10 * i,
                )
                for k in range(4)
            )
            session.add(_followup(client, owner, due=NOW - timedelta(hours=1 + i)))


def _followup(client: Client, owner: StaffUser, *, due: object) -> FollowUp:
    return FollowUp(
        key=f"tests:{client.external_id}",
        client_id=client.id,
        rule="call",
        reason="call",
        open_reason="call",
        title=f"Call {client.name}",
        channel="phone",
        personal_level="owner_call",
        template=None,
        assignee_id=owner.id,
        due_at=due,
        status="open",
        sequence=0,
        created_at=NOW,
        updated_at=NOW,
        performer="person",
    )


@contextmanager
def _counted() -> Iterator[list[str]]:
    """The SQL statements run while the block runs (every engine's)."""
    seen: list[str] = []

    def count(*args: object) -> None:
        seen.append(str(args[2]))

    event.listen(Engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", count)


@pytest.fixture
def owner_http(web_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(web_settings, clock=lambda: NOW), follow_redirects=False) as http:
        yield http


def _statements(store: sessionmaker[Session], settings: Settings, http: TestClient) -> list[int]:
    with store.begin() as session:
        keep_rhythms(session, settings, today=TODAY, now=NOW)
        token = create_token(
            session, user_by_email(session, "owner@example.com"), label="tests", now=NOW
        )
    assert log_in(http).status_code == 303
    auth = {"Authorization": f"Bearer {token}"}
    counts = []
    for path in ("/today", "/today?overdue=2", "/at-risk", "/at-risk?page=2", "/api/v1/at-risk"):
        http.get(path, headers=auth)  # the first request reads the settings, compiles templates
        runs = []
        for _ in range(2):  # the fewer of two: a login's housekeeping write is not the page's
            with _counted() as seen:
                assert http.get(path, headers=auth).status_code == 200
            runs.append(len(seen))
        counts.append(min(runs))
    return counts


def test_a_page_runs_as_many_statements_for_500_clients_as_for_50(
    store: sessionmaker[Session], settings: Settings, web_settings: Settings
) -> None:
    _clients(store, 50)
    with TestClient(create_app(web_settings, clock=lambda: NOW), follow_redirects=False) as http:
        small = _statements(store, settings, http)
    with store.begin() as session:
        for i in range(50, 500):
            client = add_client(session, external_id=f"K{i:04d}", name=f"Kim {i}", now=NOW)
            last = NOW - timedelta(days=1 + i % 60)
            session.add_all(
                Order(
                    external_id=f"K{i:04d}-{k}",
                    client_id=client.id,
                    occurred_at=last - timedelta(days=20 * k),
                    currency="USD",
                    amount_minor=1_000 + 10 * i,
                )
                for k in range(4)
            )
            owner = session.query(StaffUser).one()
            session.add(_followup(client, owner, due=NOW - timedelta(hours=1 + i)))
    with TestClient(create_app(web_settings, clock=lambda: NOW), follow_redirects=False) as http:
        large = _statements(store, settings, http)
    assert large == small
    assert max(small) < 40


def test_today_shows_a_page_of_each_group_and_counts_them_all(
    store: sessionmaker[Session], owner_http: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    _clients(store, 7)
    monkeypatch.setattr(today_page, "PAGE_ROWS", 3)
    assert log_in(owner_http).status_code == 303
    with store() as session:
        by_due = [
            str(f.id) for f in session.query(FollowUp).order_by(FollowUp.due_at, FollowUp.id).all()
        ]
    shown = []
    for page in (1, 2, 3):
        html = owner_http.get(f"/today?overdue={page}").text
        assert '<span class="count" id="count-overdue">7</span>' in html
        assert f"{page * 3 - 2}–{min(page * 3, 7)} of 7" in html
        assert ('href="/today?overdue=' + str(page + 1)) in html or page == 3
        assert ('rel="prev"' in html) is (page > 1)
        shown.append(_ROW.findall(html))
    assert [len(rows) for rows in shown] == [3, 3, 1]
    assert [f for rows in shown for f in rows] == by_due


def test_a_long_today_group_is_counted_only_so_far_past_its_page(
    store: sessionmaker[Session], owner_http: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hundreds of thousands of overdue follow-ups take the database longer to count than the
    page: each group counts in steps past its rows shown ("4+"), exact near its end."""
    _clients(store, 7)
    monkeypatch.setattr(today_page, "PAGE_ROWS", 2)
    monkeypatch.setattr(today_page, "COUNTED", 4)
    assert log_in(owner_http).status_code == 303
    first = owner_http.get("/today").text
    assert '<span class="count" id="count-overdue">4+</span>' in first
    assert "1–2 of 4+" in first and 'href="/today?overdue=2"' in first
    assert len(_ROW.findall(first)) == 2
    third = owner_http.get("/today?overdue=3").text  # rows 5-6: counted to 8, all 7 found
    assert '<span class="count" id="count-overdue">7</span>' in third
    assert "5–6 of 7" in third and 'href="/today?overdue=4"' in third
    last = owner_http.get("/today?overdue=4").text
    assert "7–7 of 7" in last and 'href="/today?overdue=5"' not in last


def test_a_short_today_list_has_no_pager(
    store: sessionmaker[Session], owner_http: TestClient
) -> None:
    _clients(store, 7)
    assert log_in(owner_http).status_code == 303
    html = owner_http.get("/today").text
    assert len(_ROW.findall(html)) == 7 and 'class="pager"' not in html


def test_at_risk_pages_join_up_to_the_whole_list(
    store: sessionmaker[Session],
    settings: Settings,
    owner_http: TestClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _clients(store, 40)
    with store.begin() as session:
        keep_rhythms(session, settings, today=TODAY, now=NOW)
    monkeypatch.setattr(at_risk_page, "PAGE_ROWS", 4)
    assert log_in(owner_http).status_code == 303
    whole = [
        row["client_id"] for row in csv.DictReader(io.StringIO(owner_http.get("/at-risk.csv").text))
    ]
    assert len(whole) > 8
    pages, page = [], 1
    while True:
        html = owner_http.get(f"/at-risk?page={page}").text
        pages.append(_RISK_ROW.findall(html))
        assert ('<svg class="chart"' in html) is (page == 1)
        assert f"of {len(whole)} · page {page}" in html
        if 'rel="next"' not in html:
            break
        assert f'href="/at-risk?page={page + 1}"' in html
        page += 1
    assert [len(p) for p in pages[:-1]] == [4] * (len(pages) - 1)
    assert [ref for p in pages for ref in p] == whole
