"""The recovery options on the settings page over HTTP: a shop's shipped options in plain words,
an option changed or added there offered on the next incident's assessment, a wrong value shown
beside its field with nothing saved, the way back to the shipped options, a catalog file that
wins, and staff kept out."""

from __future__ import annotations

import dataclasses
import html
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from goodwill.settings import Settings
from goodwill.store import page_settings
from goodwill.store.audit import entries
from goodwill.web import create_app
from tests.conftest import NOW
from tests.web.conftest import csrf_from, log_in
from tests.web.sample import staff_user

HTMX = {"HX-Request": "true"}
BEANS = {
    "name": "a tin of the roaster's own beans",
    "description": "Hand over a tin of this week's roast with the fixed grinder.",
    "cost": "12",
    "tiers": ["1", "2"],
    "fits": ["damaged"],
    "authority": "staff",
    "mentions": "grinder, hopper",
}


@pytest.fixture
def shop(web_settings: Settings) -> Settings:
    return dataclasses.replace(web_settings, business_kind="shop")


@pytest.fixture
def owner(shop: Settings, seeded: sessionmaker[Session]) -> TestClient:
    client = TestClient(create_app(shop, clock=lambda: NOW), follow_redirects=False)
    assert log_in(client).status_code == 303
    return client


def post(http: TestClient, action: str, **fields: Any) -> Any:
    token = csrf_from(http.get("/settings/recovery").text)
    return http.post(f"/settings/recovery/{action}", data={**fields, "csrf_token": token})


GRINDER = {
    "client": "C-0001",
    "what": "the grinder arrived with a cracked hopper",
    "cause": "damaged in transit",
}


def offered(http: TestClient) -> str:
    """The options the assessment offers for a grinder that arrived with a cracked hopper."""
    token = csrf_from(http.get("/incidents/new").text)
    response = http.post("/incidents/assess", data={"csrf_token": token, **GRINDER}, headers=HTMX)
    assert response.status_code == 200
    return html.unescape(response.text)


def stored(store: sessionmaker[Session]) -> dict[str, Any]:
    with store() as session:
        return page_settings.stored(session)


def test_the_owner_reads_the_shops_options_in_plain_words(owner: TestClient) -> None:
    assert 'href="/settings/recovery"' in owner.get("/settings").text
    page = owner.get("/settings/recovery")
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert "The options shipped for a shop." in text
    courier = re.search(r'data-option="courier a replacement today">(.*?)</li>', text, re.S)
    assert courier is not None
    assert "<dd>25" in courier.group(1) and "<dd>2, 3</dd>" in courier.group(1)
    assert "the client is stranded; late; damaged; the wrong thing" in courier.group(1)
    assert "anyone on the staff" in courier.group(1)
    assert "what the client paid (a refund)" in text  # refund and keep it
    assert "taxi" not in text and "Back to the shipped options" not in text


def test_an_option_added_on_the_page_is_offered_on_the_next_assessment(
    owner: TestClient, seeded: sessionmaker[Session]
) -> None:
    assert BEANS["name"] not in offered(owner)
    saved = post(owner, "option", original="", **BEANS)
    assert (saved.status_code, saved.headers["location"]) == (
        303,
        "/settings/recovery?saved=option",
    )
    assert BEANS["name"] in offered(owner)
    token = csrf_from(owner.get("/incidents/new").text)
    opened = owner.post("/incidents", data={"csrf_token": token, **GRINDER})
    assert opened.status_code == 303, opened.text
    assert BEANS["name"] in html.unescape(owner.get(opened.headers["location"]).text)
    page = html.unescape(owner.get("/settings/recovery?saved=option").text)
    assert "The next incident's assessment offers these options." in page
    assert "Your own options, saved here by owner@example.com on 2026-11-23" in page
    assert "Back to the shipped options for a shop" in page
    document = stored(seeded)["recovery_options"]
    assert set(document) == {"option"}  # the shop's words stay the shop's
    assert document["option"][-1] == {
        **BEANS,
        "tiers": [1, 2],
        "fits": ["damaged"],
        "mentions": ["grinder", "hopper"],
    }
    with seeded() as session:
        (change,) = entries(session, action="settings.change")
    assert change.object_id == "recovery_options"


def test_an_option_changed_on_the_page_is_offered_as_changed(owner: TestClient) -> None:
    lend = "lend a grinder or machine while theirs is repaired"
    assert lend in offered(owner)
    changed = {**BEANS, "name": "lend a grinder for the week", "cost": "0", "tiers": ["1", "2"]}
    assert post(owner, "option", original=lend, **changed).status_code == 303
    now = offered(owner)
    assert "lend a grinder for the week" in now and lend not in now
    page = html.unescape(owner.get("/settings/recovery").text)
    assert page.count('data-option="lend a grinder') == 1


def test_a_wrong_cost_shows_the_readers_words_beside_it_and_saves_nothing(
    owner: TestClient, seeded: sessionmaker[Session]
) -> None:
    courier = "courier a replacement today"
    wrong = post(owner, "option", original=courier, **{**BEANS, "name": courier, "cost": "-5"})
    assert wrong.status_code == 422
    page = html.unescape(wrong.text)
    error = re.search(r'<p class="field-error" id="(o\d+)-cost-error">([^<]+)</p>', page)
    assert error is not None and error.group(2) == "must be ≥ 0"
    assert f'id="{error.group(1)}-cost" name="cost" value="-5"' in page  # the answer stays
    assert "recovery_options" not in stored(seeded)

    no_fit = post(owner, "option", original="", **{**BEANS, "fits": []})
    assert no_fit.status_code == 422
    assert 'id="new-fits-error">must list situations among' in html.unescape(no_fit.text)
    assert "recovery_options" not in stored(seeded)


def test_removing_an_option_and_going_back_to_the_shipped_ones(
    owner: TestClient, seeded: sessionmaker[Session]
) -> None:
    assert post(owner, "remove", name="courier a replacement today").status_code == 303
    assert "courier a replacement today" not in owner.get("/settings/recovery").text
    assert "courier a replacement today" not in offered(owner)

    free_at_tier_1 = (
        "apologise and fix it",
        "send the right one again",
        "repair it at no cost",
        "order it in and ship it",
        "refer to a shop that has it in stock",
    )
    for name in free_at_tier_1:
        assert post(owner, "remove", name=name).status_code == 303
    refused = post(owner, "remove", name="follow up afterwards")  # the last free one at tier 1
    assert refused.status_code == 422
    assert "no free option for tier 1" in html.unescape(refused.text)
    assert "follow up afterwards" in owner.get("/settings/recovery").text

    back = post(owner, "reset")
    assert (back.status_code, back.headers["location"]) == (
        303,
        "/settings/recovery?saved=shipped",
    )
    assert "courier a replacement today" in offered(owner)
    assert "recovery_options" not in stored(seeded)


def test_a_catalog_file_is_shown_and_not_changed_on_the_page(
    shop: Settings, seeded: sessionmaker[Session], tmp_path: Path
) -> None:
    catalog = tmp_path / "catalog.toml"
    catalog.write_text(
        '[[option]]\nname = "say sorry in person"\ncost = "0"\ntiers = [1, 2, 3]\n',
        encoding="utf-8",
    )
    fixed = dataclasses.replace(shop, recovery={**shop.recovery, "catalog": catalog})
    http = TestClient(create_app(fixed, clock=lambda: NOW), follow_redirects=False)
    assert log_in(http).status_code == 303
    page = http.get("/settings/recovery").text
    assert str(catalog) in page and "say sorry in person" in page
    assert 'action="/settings/recovery/option"' not in page
    assert 'action="/settings/recovery/remove"' not in page
    refused = post(http, "option", original="", **BEANS)
    assert refused.status_code == 409
    assert "change them there" in refused.text
    assert "recovery_options" not in stored(seeded)


def test_a_catalog_file_that_cannot_be_read_is_named_on_the_page(
    shop: Settings, seeded: sessionmaker[Session], tmp_path: Path
) -> None:
    missing = tmp_path / "gone.toml"
    fixed = dataclasses.replace(shop, recovery={**shop.recovery, "catalog": missing})
    http = TestClient(create_app(fixed, clock=lambda: NOW), follow_redirects=False)
    assert log_in(http).status_code == 303
    page = http.get("/settings/recovery")
    assert page.status_code == 200
    assert f"{missing}: cannot read catalog file" in page.text
    assert 'action="/settings/recovery/option"' not in page.text


def test_staff_cannot_open_or_change_the_recovery_options(
    http: TestClient, seeded: sessionmaker[Session]
) -> None:
    with seeded.begin() as session:
        staff_user(session, email="sam@example.com", role="staff", name="Sam", now=NOW)
    assert log_in(http, email="sam@example.com").status_code == 303
    assert http.get("/settings/recovery").status_code == 403
    token = csrf_from(http.get("/today").text)
    for action in ("option", "remove", "reset"):
        answer = http.post(f"/settings/recovery/{action}", data={**BEANS, "csrf_token": token})
        assert answer.status_code == 403
    assert stored(seeded) == {}
