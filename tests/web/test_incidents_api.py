"""The incidents JSON API: assess (nothing stored), open, the steps, resolve with the owner's
authority, close; errors as JSON with their stable codes."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from goodwill.settings import Settings
from goodwill.store.models import Incident
from goodwill.store.staff import create_token, user_by_email
from goodwill.web import create_app
from tests.conftest import NOW
from tests.web.rentals import RAVI_WORDS, rental_business

RAVI = {
    "client": "R-1",
    "what": "the travel site gave a wrong pick-up address for the rental car",
    "message": RAVI_WORDS,
    "message_time": "2026-11-23T14:55:00+00:00",
    "partner": "TripDesk",
}


@pytest.fixture
def rental(store: sessionmaker[Session]) -> sessionmaker[Session]:
    with store.begin() as session:
        rental_business(session, now=NOW)
    return store


def bearer(store: sessionmaker[Session], email: str) -> dict[str, str]:
    with store.begin() as session:
        token = create_token(session, user_by_email(session, email), label="tests", now=NOW)
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def api(web_settings: Settings, rental: sessionmaker[Session]) -> TestClient:
    rentals = dataclasses.replace(web_settings, business_kind="hospitality")  # cars and rooms
    return TestClient(create_app(rentals, clock=lambda: NOW))


def test_assessing_stores_nothing_and_says_why(
    api: TestClient, rental: sessionmaker[Session]
) -> None:
    response = api.post(
        "/api/v1/incidents/assess", json=RAVI, headers=bearer(rental, "sam@example.com")
    )
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    assert found["tier"] == 3 and found["authority"] == "owner"
    assert any("flight departs in" in f for f in found["factors"])
    assert "find the client a car" in [o["name"] for o in found["options"]]
    assert any(o["cost"] == 0 for o in found["options"])
    with rental() as session:
        assert session.execute(select(Incident)).first() is None


def test_an_incident_from_open_to_closed_over_the_api(
    api: TestClient, rental: sessionmaker[Session]
) -> None:
    sam, owner = bearer(rental, "sam@example.com"), bearer(rental, "owner@example.com")
    made = api.post("/api/v1/incidents", json=RAVI | {"cause": "Wrong address"}, headers=sam)
    assert made.status_code == 201, made.text
    incident = made.json()
    number = incident["id"]
    assert (incident["tier"], incident["cause"], incident["opened_by"]) == (
        3,
        "wrong address",
        "sam@example.com",
    )
    assert incident["missing"] == ["listen", "restate", "own", "offer", "resolve", "follow_up"]
    for step in ("listen", "own", "offer"):
        assert (
            api.post(
                f"/api/v1/incidents/{number}/steps", json={"step": step}, headers=sam
            ).status_code
            == 200
        )
    api.post(
        f"/api/v1/incidents/{number}/steps",
        json={"step": "restate", "note": "You were sent to a wrong address and have no car."},
        headers=sam,
    )
    confirmed = api.post(f"/api/v1/incidents/{number}/confirm", headers=sam).json()
    assert confirmed["missing"] == ["resolve", "follow_up"]

    owners = [o["name"] for o in incident["options"] if o["authority"] == "owner"]
    if owners:
        refused = api.post(
            f"/api/v1/incidents/{number}/resolve",
            json={"outcome": "done", "option": owners[0]},
            headers=sam,
        )
        assert refused.status_code == 403 and refused.json()["code"] == "not_allowed"
    resolved = api.post(
        f"/api/v1/incidents/{number}/resolve",
        json={"outcome": "a car brought to the hotel", "option": "find the client a car"},
        headers=owner,
    ).json()
    assert resolved["status"] == "resolved" and resolved["chosen_option"] == "find the client a car"

    early = api.post(f"/api/v1/incidents/{number}/close", json={}, headers=sam)
    assert early.status_code == 409 and "follow_up" in early.json()["message"]
    closed = api.post(
        f"/api/v1/incidents/{number}/close", json={"reason": "the client flew home"}, headers=sam
    ).json()
    assert closed["status"] == "closed" and closed["close_reason"] == "the client flew home"
    listed = api.get("/api/v1/incidents?status=closed", headers=sam).json()
    assert [i["id"] for i in listed] == [number]


def test_errors_name_the_field(api: TestClient, rental: sessionmaker[Session]) -> None:
    sam = bearer(rental, "sam@example.com")
    unknown = api.post("/api/v1/incidents/assess", json=RAVI | {"client": "NOPE"}, headers=sam)
    assert unknown.status_code == 404 and "NOPE" in unknown.json()["message"]
    bad_time = api.post(
        "/api/v1/incidents/assess", json=RAVI | {"deadline": "soonish"}, headers=sam
    )
    assert bad_time.status_code == 422 and "deadline" in bad_time.json()["message"]
    assert api.get("/api/v1/incidents/999", headers=sam).status_code == 404
    assert api.get("/api/v1/incidents").status_code == 401
    assert api.post("/api/v1/incidents", json=RAVI, headers=sam).status_code == 422  # no cause
