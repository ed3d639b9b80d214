"""The month's postcards and notes on the dashboard: the page, the CSV, the sheet, marking sent,
and who may do which; on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from goodwill.domain.touch_batches import CSV_COLUMNS
from goodwill.settings import Settings
from goodwill.store.models import AuditEntry, FollowUp
from goodwill.web import create_app
from tests.conftest import NOW
from tests.web.conftest import csrf_from, log_in
from tests.web.postcards import DECEMBER, December, seed_december, write_playbook
from tests.web.sample import staff_user

PAGE = f"/touches/batches?month={DECEMBER}"
_ROW = re.compile(r'<tr data-followup="(\d+)"')


@pytest.fixture
def shop_settings(web_settings: Settings, tmp_path: Path) -> Settings:
    return dataclasses.replace(
        web_settings, playbook=write_playbook(tmp_path), business_name="Harbour Linen"
    )


@pytest.fixture
def december(store: sessionmaker[Session]) -> December:
    with store.begin() as session:
        made = seed_december(session, now=NOW)
        staff_user(session, email="mia@example.com", role="manager", name="Mia Manager", now=NOW)
        staff_user(session, email="sam@example.com", role="staff", name="Sam Staff", now=NOW)
    return made


@pytest.fixture
def web(shop_settings: Settings, december: December) -> Iterator[TestClient]:
    with TestClient(create_app(shop_settings, clock=lambda: NOW), follow_redirects=False) as http:
        yield http


def _table(html: str, table_id: str) -> list[int]:
    part = html.split(f'id="{table_id}"', 1)
    return [int(i) for i in _ROW.findall(part[1].split("</table>", 1)[0])] if len(part) > 1 else []


def test_the_page_lists_postcards_notes_and_those_without_an_address(
    web: TestClient, december: December
) -> None:
    log_in(web)
    page = web.get(PAGE)
    assert page.status_code == 200
    html = page.text
    assert "Postcards and notes, December 2026" in html
    assert _table(html, "batch-postcards") == [december.ines, december.margaret]
    assert _table(html, "batch-notes") == [december.nora]
    assert _table(html, "batch-missing") == [december.tom]
    assert "Dear Margaret," in html and "12 Harbour Lane<br>Flat 3" in html
    assert "Her son started university in Lund" in html
    assert "no street in the client&#39;s address" in html
    assert f'href="/touches/batches/{DECEMBER}.csv"' in html
    assert f'href="/touches/batches/{DECEMBER}/sheet"' in html
    assert 'type="month" name="month" value="2026-12"' in html
    assert 'href="/touches/batches?month=2026-11"' in html
    assert 'href="/touches/batches?month=2027-01"' in html
    assert "Mark this batch as sent" in html


def test_the_page_opens_on_this_month_and_filters_by_kind(
    web: TestClient, december: December
) -> None:
    log_in(web)
    assert "Postcards and notes, November 2026" in web.get("/touches/batches").text
    html = web.get(f"{PAGE}&kind=anniversary").text
    assert _table(html, "batch-postcards") == [december.ines]
    assert _table(html, "batch-notes") == [] and "batch-missing" not in html
    assert f'href="/touches/batches/{DECEMBER}.csv?kind=anniversary"' in html


def test_the_today_page_links_the_batch(web: TestClient, december: December) -> None:
    log_in(web)
    assert 'href="/touches/batches"' in web.get("/today").text


def test_the_csv_download_has_the_service_columns_and_the_postcards(
    web: TestClient, december: December
) -> None:
    log_in(web)
    response = web.get(f"/touches/batches/{DECEMBER}.csv?kind=birthday")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert 'filename="postcards-2026-12-birthday.csv"' in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [(r["name"], r["address_line2"], r["postcode"], r["country"]) for r in rows] == [
        ("Margaret Holloway", "Flat 3", "LS1 4AB", "GB")
    ]
    assert rows[0]["message"].startswith("Dear Margaret,\n\nHappy birthday!")


def test_the_sheet_has_one_card_per_note_with_its_stylesheet(
    web: TestClient, december: December
) -> None:
    log_in(web)
    response = web.get(f"/touches/batches/{DECEMBER}/sheet")
    assert response.status_code == 200
    html = response.text
    assert html.count('class="sheet-card"') == 1
    assert f'id="note-{december.nora}"' in html and "Nora Lindqvist" in html
    assert "Dear Nora," in html and "Sails a wooden boat" in html
    assert '<link rel="stylesheet" href="/static/touch-sheet.css">' in html
    assert "<style>" not in html  # the page's policy allows no inline style
    assert "@media print" in web.get("/static/touch-sheet.css").text


def test_a_month_that_is_not_one_is_refused_with_the_field(web: TestClient) -> None:
    log_in(web)
    page = web.get("/touches/batches?month=December")
    assert page.status_code == 422
    assert "is not a month" in page.text
    assert web.get("/touches/batches/2026-13.csv").status_code == 422


def test_marking_the_batch_sent_closes_what_the_page_showed_and_only_once(
    web: TestClient, store: sessionmaker[Session], december: December
) -> None:
    log_in(web)
    html = web.get(PAGE).text
    form = {
        "csrf_token": csrf_from(html),
        "kind": "",
        "ids": f"{december.margaret},{december.nora}",
    }
    done = web.post(f"/touches/batches/{DECEMBER}/sent", data=form)
    assert done.status_code == 303 and done.headers["location"] == PAGE
    after = web.get(PAGE).text
    assert "Marked as sent: 2 follow-ups closed." in after
    assert _table(after, "batch-postcards") == [december.ines]  # it was not shown: still open
    again = web.post(f"/touches/batches/{DECEMBER}/sent", data=form)
    assert again.status_code == 303
    assert "already marked as sent" in web.get(PAGE).text
    with store() as session:
        rows = {f.id: f for f in session.execute(select(FollowUp)).scalars()}
        who = session.execute(
            select(AuditEntry.actor_label).where(
                AuditEntry.action == "followup.done", AuditEntry.object_id == str(december.nora)
            )
        ).scalar_one()
    assert rows[december.margaret].outcome == "Sent with the postcard batch of December 2026"
    assert rows[december.nora].outcome == "Written by hand for the December 2026 batch"
    assert rows[december.ines].status == "open" and who == "owner@example.com"


def test_staff_see_the_batch_but_only_the_owner_or_a_manager_marks_it_sent(
    web: TestClient, december: December
) -> None:
    log_in(web, email="sam@example.com")
    html = web.get(PAGE).text
    assert _table(html, "batch-postcards") == [december.ines, december.margaret]
    assert "Mark this batch as sent" not in html
    form = {"csrf_token": csrf_from(html), "ids": str(december.margaret)}
    refused = web.post(f"/touches/batches/{DECEMBER}/sent", data=form)
    assert refused.status_code == 403
    assert "Only the owner or a manager may mark a batch as sent." in refused.text


def test_marking_sent_needs_the_forms_token(web: TestClient, december: December) -> None:
    log_in(web)
    refused = web.post(f"/touches/batches/{DECEMBER}/sent", data={"ids": str(december.nora)})
    assert refused.status_code == 403
