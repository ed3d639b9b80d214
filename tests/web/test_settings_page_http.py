"""The owner's settings page over HTTP: each section saved into the store, checked as the file
is, audited, in force on the next request; values the file sets are shown and kept."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from goodwill.settings import Settings, load_settings
from goodwill.store import page_settings
from goodwill.store.audit import entries
from goodwill.web import create_app
from tests.conftest import NOW
from tests.web.conftest import csrf_from, log_in
from tests.web.sample import staff_user


def _save(http: TestClient, slug: str, **answers: str) -> tuple[int, str, str]:
    token = csrf_from(http.get("/settings").text)
    response = http.post(f"/settings/section/{slug}", data={**answers, "csrf_token": token})
    return response.status_code, response.headers.get("location", ""), response.text


def _in_force(http: TestClient) -> Settings:
    settings = http.app.state.goodwill.settings  # type: ignore[attr-defined]
    assert isinstance(settings, Settings)
    return settings


def test_the_owner_sees_every_section_with_where_each_value_comes_from(
    logged_in: TestClient,
) -> None:
    page = logged_in.get("/settings")
    assert page.status_code == 200
    for title in ("Your business", "Opening hours and holidays", "Clients", "Weekly digest"):
        assert title in page.text
    assert page.text.count('data-source="default"') > 10
    assert "Saved here" not in page.text and "Set in the settings file" not in page.text
    assert 'href="/settings/mail"' in page.text and 'href="/users"' in page.text
    assert 'href="/settings"' in page.text  # in the menu


def test_a_saved_section_is_in_force_on_the_next_request_and_audited(
    logged_in: TestClient, seeded: sessionmaker[Session]
) -> None:
    status, location, _ = _save(
        logged_in,
        "business",
        business_name="Kade Koffie",
        business_kind="cafe",
        timezone="Europe/Amsterdam",
        currency="eur",
        date_order="dmy",
        public_url="",
    )
    assert (status, location) == (303, "/settings?saved=business#business")
    form = logged_in.get("/incidents/new").text  # the café's own examples, at once
    assert "birthday cake was made with nuts" in form
    settings = _in_force(logged_in)
    assert (settings.timezone, settings.currency, settings.business_kind) == (
        "Europe/Amsterdam",
        "EUR",
        "cafe",
    )
    page = logged_in.get(location)
    assert "Saved. In force now." in page.text
    assert "Saved here by owner@example.com on 2026-11-23" in page.text
    with seeded() as session:
        changed = {e.object_id: e.after for e in entries(session, action="settings.change")}
    assert changed["currency"] == {"value": "EUR"}
    assert set(changed) == {"business_name", "business_kind", "timezone", "currency"}


def test_a_field_emptied_again_goes_back_to_the_default(
    logged_in: TestClient, seeded: sessionmaker[Session]
) -> None:
    _save(logged_in, "clients", former_after_days="400", tiers="gold 8000\nsilver 2000")
    assert _in_force(logged_in).former_after_days == 400
    assert dict(_in_force(logged_in).tiers) == {"gold": 8000, "silver": 2000}
    _save(logged_in, "clients", former_after_days="", tiers="gold 8000\nsilver 2000")
    assert _in_force(logged_in).former_after_days == 730
    with seeded() as session:
        assert "former_after_days" not in page_settings.stored(session)


@pytest.mark.parametrize(
    ("slug", "answers", "field", "words"),
    [
        ("clients", {"cadence__level": "1.5"}, "cadence__level", "from 0.5 to below 1"),
        ("clients", {"tiers": "gold lots"}, "tiers", "line 1: write a name and an amount"),
        ("clients", {"former_after_days": "two"}, "former_after_days", "not a whole number"),
        ("digest", {"digest__hour": "24"}, "digest__hour", "0 to 23"),
        ("hours", {"calendar__hours__mon": "9 to 5"}, "calendar__hours__mon", "9 to 5"),
        ("business", {"currency": "euro"}, "currency", "three-letter code"),
    ],
)
def test_a_wrong_answer_is_named_beside_its_field_and_nothing_is_saved(
    logged_in: TestClient,
    seeded: sessionmaker[Session],
    slug: str,
    answers: dict[str, str],
    field: str,
    words: str,
) -> None:
    status, _, text = _save(logged_in, slug, **answers)
    assert status == 422
    error = text[text.index(f'id="{field}-error"') :]
    assert words in error[: error.index("</p>")]
    assert "Nothing in this section was saved" in text
    with seeded() as session:
        assert page_settings.stored(session) == {}
        assert entries(session, action="settings.change") == []


def test_the_digest_is_switched_on_from_the_page(logged_in: TestClient) -> None:
    _save(logged_in, "digest", digest__enabled="yes", digest__weekday="friday", digest__hour="7")
    assert dict(_in_force(logged_in).digest) == {
        "enabled": True,
        "weekday": "friday",
        "hour": 7,
        "to": [],
    }
    _save(logged_in, "digest", digest__weekday="friday", digest__hour="7")  # box unticked
    assert _in_force(logged_in).digest["enabled"] is False


@pytest.fixture
def from_a_file(
    tmp_path: Path, web_settings: Settings, seeded: sessionmaker[Session]
) -> Iterator[TestClient]:
    file = tmp_path / "goodwill.toml"
    file.write_text('currency = "EUR"\n\n[digest]\nhour = 6\n', encoding="utf-8")
    settings = load_settings(config_path=file, database_url=web_settings.database_url, environ={})
    settings = settings.__class__(**{**settings.__dict__, "secret_key": "test-signing-key"})
    with TestClient(create_app(settings, clock=lambda: NOW), follow_redirects=False) as http:
        assert log_in(http).status_code == 303
        yield http


def test_what_the_file_sets_is_shown_fixed_and_the_file_still_wins(
    from_a_file: TestClient,
) -> None:
    page = from_a_file.get("/settings").text
    currency = page[page.index('id="currency"') :]
    assert "disabled" in currency[: currency.index(">")]
    assert "Set in the settings file." in currency[: currency.index("</div>")]
    assert "goodwill.toml" in page
    status, _, _ = _save(from_a_file, "business", currency="GBP", timezone="Europe/London")
    assert status == 303
    settings = _in_force(from_a_file)
    assert (settings.currency, settings.timezone) == ("EUR", "Europe/London")
    _save(from_a_file, "digest", digest__hour="9", digest__weekday="tuesday")
    assert (settings := _in_force(from_a_file)).digest["hour"] == 6
    assert settings.digest["weekday"] == "tuesday"


def test_staff_cannot_open_or_change_the_settings(
    http: TestClient, seeded: sessionmaker[Session]
) -> None:
    with seeded.begin() as session:
        staff_user(session, email="sam@example.com", role="staff", name="Sam", now=NOW)
    assert log_in(http, email="sam@example.com").status_code == 303
    assert http.get("/settings").status_code == 403
    token = csrf_from(http.get("/today").text)
    answer = http.post("/settings/section/business", data={"currency": "GBP", "csrf_token": token})
    assert answer.status_code == 403
    assert 'href="/settings"' not in http.get("/today").text
    with seeded() as session:
        assert page_settings.stored(session) == {}
