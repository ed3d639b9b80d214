"""A client's first day is a normal day: once the engine has fitted the models, the page, the
API and incidents of a client whose first purchase is today show what is known and say why the
value is not known yet (it used to be a 500 on an empty summary row)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from goodwill.settings import Settings
from goodwill.store.staff import create_token, user_by_email
from goodwill.web import create_app
from tests.conftest import NOW
from tests.web.conftest import log_in
from tests.web.rhythms import CURRENCY, seed_rhythms
from tests.web.sample import add_client, add_purchase

NEWCOMER = "C-0900"


@pytest.fixture
def newcomer(store: sessionmaker[Session], web_settings: Settings) -> Iterator[TestClient]:
    """The rhythm business after an engine pass, and a newcomer who bought this morning."""
    seed_rhythms(store, web_settings, now=NOW - timedelta(hours=2))
    with store.begin() as session:
        client = add_client(
            session, external_id=NEWCOMER, name="Nell Newcomer", now=NOW - timedelta(hours=1)
        )
        add_purchase(
            session,
            client,
            order_id="N-1",
            at=NOW - timedelta(hours=1),
            amount_minor=8_500,
            product="Espresso beans",
            currency=CURRENCY,
        )
    with TestClient(create_app(web_settings, clock=lambda: NOW), follow_redirects=False) as http:
        assert log_in(http).status_code == 303
        yield http


@pytest.fixture
def bearer(store: sessionmaker[Session], newcomer: TestClient) -> dict[str, str]:
    with store.begin() as session:
        token = create_token(
            session, user_by_email(session, "owner@example.com"), label="tests", now=NOW
        )
    return {"Authorization": f"Bearer {token}"}


def test_the_client_page_shows_the_first_purchase_and_when_value_appears(
    newcomer: TestClient,
) -> None:
    page = newcomer.get(f"/clients/{NEWCOMER}")
    assert page.status_code == 200, page.text
    panel = page.text.split('id="value"', 1)[1].split("</section>", 1)[0]
    assert "first purchase today: value appears tomorrow" in panel
    assert "85.00" in page.text  # the purchase itself is shown


def test_the_api_gives_the_value_with_the_reason_it_is_missing(
    newcomer: TestClient, bearer: dict[str, str]
) -> None:
    value = newcomer.get(f"/api/v1/clients/{NEWCOMER}/value", headers=bearer)
    assert value.status_code == 200, value.text
    body = value.json()
    assert body["value_missing"] == "first_day"
    assert body["p_alive"] is None and body["clv"] is None and body["currency"] == CURRENCY
    profile = newcomer.get(f"/api/v1/clients/{NEWCOMER}", headers=bearer)
    assert profile.status_code == 200, profile.text
    regular = newcomer.get("/api/v1/clients/R-0001/value", headers=bearer).json()
    assert regular["value_missing"] is None and regular["p_alive"] is not None


def test_an_incident_for_a_first_day_client_is_assessed_and_opened(
    newcomer: TestClient, bearer: dict[str, str]
) -> None:
    facts = {"client": NEWCOMER, "what": "the beans arrived crushed"}
    assessed = newcomer.post("/api/v1/incidents/assess", json=facts, headers=bearer)
    assert assessed.status_code == 200, assessed.text
    opened = newcomer.post("/api/v1/incidents", json=facts | {"cause": "packing"}, headers=bearer)
    assert opened.status_code == 201, opened.text
    page = newcomer.get(f"/incidents/{opened.json()['id']}")
    assert page.status_code == 200
