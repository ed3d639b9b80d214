"""The listening page over HTTP: each theme's share for new and long-term clients with quotes,
the day filter, a mistyped day kept with its message (422), and each question's answer rate."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from goodwill.actions.feedback import add_answer, answer_link, ask, question
from goodwill.settings import Settings
from goodwill.store.models import Client
from goodwill.web import create_app
from tests.conftest import NOW
from tests.web.conftest import log_in
from tests.web.sample import LONG_CLIENT, add_purchase


@pytest.fixture
def linked(web_settings: Settings) -> Settings:
    return dataclasses.replace(
        web_settings,
        mail={"from_address": "care@shop.example"},
        public_url="https://care.shop.example",
    )


@pytest.fixture
def answered(linked: Settings, seeded: sessionmaker[Session]) -> sessionmaker[Session]:
    """A long-standing client answers a link (on time) and told staff earlier (the people); a
    client of three months told staff about the people; one more link waits for an answer."""
    with seeded.begin() as session:
        long = session.execute(select(Client).where(Client.external_id == LONG_CLIENT)).scalar_one()
        new = Client(
            name="Priya Shah",
            name_key="priya shah",
            email="priya@example.com",
            client_since=(NOW - timedelta(days=90)).date(),
            created_at=NOW,
            updated_at=NOW,
        )
        session.add(new)
        session.flush()
        miss_us = question(linked, "miss-us")
        first = ask(
            session, linked, long, miss_us, key="a", created_by="test", now=NOW - timedelta(days=12)
        )
        ask(session, linked, new, miss_us, key="b", created_by="test", now=NOW - timedelta(days=11))
        assert first is not None
        token = first.link.rsplit("/", 1)[1]
        answer_link(
            session,
            linked,
            token,
            "You are always on time, never late.",
            now=NOW - timedelta(days=10),
        )
        told_staff(session, linked, long, "Lovely staff, they know my name.", days_ago=40)
        told_staff(session, linked, new, "The staff remember my name.", days_ago=2)
    return seeded


def told_staff(
    session: Session, settings: Settings, client: Client, text: str, *, days_ago: int
) -> None:
    """What ``client`` said on a call ``days_ago`` days before NOW, to "what would you miss"."""
    add_answer(
        session,
        settings,
        client,
        question_text="miss-us",
        answer=text,
        answered_at=NOW - timedelta(days=days_ago),
        channel="call",
        recorded_by="staff",
        now=NOW,
    )


@pytest.fixture
def site(linked: Settings, answered: sessionmaker[Session]) -> Iterator[TestClient]:
    with TestClient(
        create_app(linked, clock=lambda: NOW),
        base_url="https://testserver",
        follow_redirects=False,
    ) as client:
        assert log_in(client).status_code == 303
        yield client


def row(html: str, attribute: str, key: str) -> str:
    match = re.search(rf'<tr {attribute}="{re.escape(key)}">(.*?)</tr>', html, re.S)
    assert match, f"no row {key}"
    return match.group(1)


def shares(html: str, theme: str) -> list[str]:
    return re.findall(r'class="share-value">([^<]+)<', row(html, "data-theme", theme))


def test_each_theme_shows_its_share_for_new_and_long_term_clients_with_quotes(
    site: TestClient,
) -> None:
    page = site.get("/listening")
    assert page.status_code == 200
    assert "People and relationship" in page.text
    assert shares(page.text, "people") == ["100%", "50%"]
    assert shares(page.text, "timeliness") == ["0%", "50%"]
    assert "You are always on time, never late." in row(page.text, "data-theme", "timeliness")
    assert "The staff remember my name." in row(page.text, "data-theme", "people")
    assert 'href="/listening" aria-current="page"' in page.text


def test_the_day_filter_counts_only_answers_up_to_that_day(site: TestClient) -> None:
    day = (NOW - timedelta(days=20)).date().isoformat()
    page = site.get("/listening", params={"until": day})
    assert page.status_code == 200
    assert f"answers up to {day}" in page.text
    assert shares(page.text, "people") == ["0%", "100%"]
    assert 'data-theme="timeliness"' not in page.text  # nobody spoke of it yet
    assert "0 answers from new clients, 1 from long-term clients." in page.text


def test_a_mistyped_day_shows_the_page_again_with_the_message_and_the_typed_value(
    site: TestClient,
) -> None:
    page = site.get("/listening", params={"until": "2026-13-45"})
    assert page.status_code == 422
    assert 'id="until-error"' in page.text and "Not a date" in page.text
    assert 'value="2026-13-45"' in page.text
    assert 'aria-invalid="true"' in page.text


def test_each_question_shows_how_often_it_was_asked_and_answered(site: TestClient) -> None:
    page = site.get("/listening")
    rate = row(page.text, "data-question", "miss-us")
    assert "asked 2, answered 1 (50%)" in rate
    assert '<td data-label="Heard by staff">2</td>' in rate
    early = site.get("/listening", params={"until": (NOW - timedelta(days=12)).date().isoformat()})
    assert "asked 1, answered 0 (0%)" in row(early.text, "data-question", "miss-us")


def test_before_any_answer_the_page_says_where_answers_come_from(logged_in: TestClient) -> None:
    page = logged_in.get("/listening")
    assert page.status_code == 200
    assert "No answers from new or long-term clients yet." in page.text
    assert "No questions asked yet." in page.text
    assert "<table" not in page.text


def test_the_tier_filter_keeps_to_the_clients_of_one_tier(
    site: TestClient, answered: sessionmaker[Session]
) -> None:
    with answered.begin() as session:
        new = session.execute(
            select(Client).where(Client.email == "priya@example.com")
        ).scalar_one()
        add_purchase(
            session,
            new,
            order_id="P-1",
            at=NOW - timedelta(days=80),
            amount_minor=4500,
            product="Pour-over kettle",
        )
    tiers = site.get("/listening").text
    assert '<option value="gold">gold</option>' in tiers
    assert '<option value="bronze">bronze</option>' in tiers
    gold = site.get("/listening", params={"tier": "gold"})
    assert gold.status_code == 200
    assert "gold clients only" in gold.text and '<option value="gold" selected>' in gold.text
    assert shares(gold.text, "people") == ["0%", "50%"]  # the new client is not gold
    assert "0 answers from new clients, 2 from long-term clients." in gold.text
    assert "The staff remember my name." not in gold.text
    assert "asked 1, answered 1 (100%)" in row(gold.text, "data-question", "miss-us")
    bronze = site.get("/listening", params={"tier": "bronze"})
    assert shares(bronze.text, "people") == ["100%", "0%"]
    assert "The staff remember my name." in row(bronze.text, "data-theme", "people")
    assert 'data-theme="timeliness"' not in bronze.text  # only the long-term client spoke of it
    silver = site.get("/listening", params={"tier": "silver"})
    assert "No answers from new or long-term silver clients yet." in silver.text
    unknown = site.get("/listening", params={"tier": "platinum"})
    assert unknown.status_code == 422 and 'id="tier-error"' in unknown.text
