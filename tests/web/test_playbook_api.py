"""The playbook over JSON: the rules and the template check, the week's sends, a rule's message
for a client, and the owner's switch (others are refused)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from goodwill.engine.configuration import default_playbook_text
from goodwill.settings import Settings
from goodwill.store.models import FollowUp
from goodwill.store.staff import create_token
from goodwill.web import create_app
from tests.conftest import NOW
from tests.web.sample import staff_user
from tests.web.sending import FIRST, can_send
from tests.web.touchpoints import make_followups


@pytest.fixture
def web_settings(settings: Settings) -> Settings:
    return can_send(settings)


@pytest.fixture
def first_order(seeded: sessionmaker[Session], web_settings: Settings) -> int:
    return make_followups(seeded, web_settings, now=NOW).first


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def manager_token(seeded: sessionmaker[Session]) -> str:
    with seeded.begin() as session:
        user = staff_user(
            session, email="mia@example.com", role="manager", name="Mia Manager", now=NOW
        )
        return create_token(session, user, label="tests", now=NOW)


def _app(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, clock=lambda: NOW), follow_redirects=False) as http:
        yield http


def test_the_rules_come_with_words_and_the_template_check(http: TestClient, token: str) -> None:
    body = http.get("/api/v1/playbook", headers=_bearer(token)).json()
    assert body["source"] == "default playbook"
    assert body["check"] == {"valid": True, "message": None, "rule": None, "template": None}
    rules = {rule["name"]: rule for rule in body["rules"]}
    first = rules[FIRST]
    assert first["on"] == "purchase.first"
    assert first["when"] == "A client's first purchase"
    assert first["who"] == "The client's owner"
    assert first["by_when"] == "Within 2 business days"
    assert first["how"] == "Email, personal message"
    assert (first["can_automate"], first["automated"], first["enabled"]) == (True, False, True)
    assert rules["birthday-card"]["conditions"] == ["bronze clients"]
    assert rules["new-lead-call"]["can_automate"] is False


def test_a_missing_template_fails_the_check_by_name(
    web_settings: Settings, seeded: sessionmaker[Session], token: str, tmp_path: Path
) -> None:
    book = tmp_path / "playbook.toml"
    book.write_text(
        default_playbook_text().replace('template = "anniversary"', 'template = "jubilee"', 1),
        encoding="utf-8",
    )
    for http in _app(dataclasses.replace(web_settings, playbook=book)):
        body = http.get("/api/v1/playbook", headers=_bearer(token)).json()
        assert body["source"] == str(book)
        assert body["check"]["valid"] is False
        assert (body["check"]["rule"], body["check"]["template"]) == ("anniversary", "jubilee")
        assert "there is no template 'jubilee'" in body["check"]["message"]
        refused = http.post(
            "/api/v1/playbook/rules/anniversary/automation",
            json={"on": True},
            headers=_bearer(token),
        )
        assert refused.status_code == 422
        assert "is not switched on" in refused.json()["message"]


def test_the_week_lists_what_a_rule_would_send_before_and_after_switching_on(
    http: TestClient, token: str, first_order: int, seeded: sessionmaker[Session]
) -> None:
    sends = http.get("/api/v1/playbook/sends", headers=_bearer(token)).json()
    mine = [s for s in sends if s["followup_id"] == first_order]
    assert len(mine) == 1
    assert mine[0]["rule"] == FIRST and mine[0]["automated"] is False
    assert mine[0]["verdict"] == "send" and mine[0]["subject"]
    assert mine[0]["to"]
    switched = http.post(
        f"/api/v1/playbook/rules/{FIRST}/automation", json={"on": True}, headers=_bearer(token)
    )
    assert switched.status_code == 200
    assert switched.json() == {"rule": FIRST, "automated": True, "moved": 1, "changed": True}
    again = http.post(
        f"/api/v1/playbook/rules/{FIRST}/automation", json={"on": True}, headers=_bearer(token)
    ).json()
    assert (again["moved"], again["changed"]) == (0, False)
    with seeded() as session:
        followup = session.get(FollowUp, first_order)
        assert followup is not None and followup.performer == "machine"
    only = http.get("/api/v1/playbook/sends", params={"rule": FIRST}, headers=_bearer(token)).json()
    assert [(s["followup_id"], s["automated"]) for s in only] == [(first_order, True)]
    rules = http.get("/api/v1/playbook", headers=_bearer(token)).json()["rules"]
    assert next(r for r in rules if r["name"] == FIRST)["automated"] is True
    none = http.get(
        "/api/v1/playbook/sends", params={"rule": "birthday-card"}, headers=_bearer(token)
    )
    assert none.json() == []
    for days in (0, 32):
        bad = http.get("/api/v1/playbook/sends", params={"days": days}, headers=_bearer(token))
        assert bad.status_code == 422


def test_without_an_address_to_send_from_the_week_says_so(
    settings: Settings, seeded: sessionmaker[Session], token: str
) -> None:
    plain = dataclasses.replace(settings, secret_key="test-signing-key")
    for http in _app(plain):
        answer = http.get("/api/v1/playbook/sends", headers=_bearer(token))
        assert answer.status_code == 503
        assert answer.json()["code"] == "config"
        assert "mail.from_address" in answer.json()["message"]


def test_a_rule_is_previewed_for_one_client(http: TestClient, token: str, first_order: int) -> None:
    answer = http.get(
        f"/api/v1/playbook/rules/{FIRST}/preview",
        params={"client": "C-0005"},
        headers=_bearer(token),
    )
    assert answer.status_code == 200
    body = answer.json()
    assert body["rule"] == FIRST and body["client"] == "C-0005"
    assert body["subject"] and body["body"]
    assert body["client_name"].split()[0] in body["body"]
    untouched = http.get(
        "/api/v1/playbook/rules/lead-asks-for-information/preview",
        params={"client": "C-0001"},
        headers=_bearer(token),
    )
    assert untouched.status_code == 404
    nobody = http.get(
        "/api/v1/playbook/rules/no-such-rule/preview",
        params={"client": "C-0005"},
        headers=_bearer(token),
    )
    assert nobody.status_code == 404 and nobody.json()["rule"] == "no-such-rule"


def test_only_the_owner_switches_and_a_call_cannot_be_automated(
    http: TestClient, token: str, manager_token: str
) -> None:
    assert http.get("/api/v1/playbook", headers=_bearer(manager_token)).status_code == 200
    refused = http.post(
        f"/api/v1/playbook/rules/{FIRST}/automation",
        json={"on": True},
        headers=_bearer(manager_token),
    )
    assert refused.status_code == 403
    assert refused.json()["message"] == "Only the owner may switch automated sending on or off."
    call = http.post(
        "/api/v1/playbook/rules/new-lead-call/automation",
        json={"on": True},
        headers=_bearer(token),
    )
    assert call.status_code == 422
    assert "cannot be automated" in call.json()["message"]
    unknown = http.post(
        "/api/v1/playbook/rules/no-such-rule/automation",
        json={"on": False},
        headers=_bearer(token),
    )
    assert unknown.status_code == 404
