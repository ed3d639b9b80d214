"""The first run over HTTP: a new database sends the login form to /setup, where the owner's
account is made from the machine goodwill runs on or with the one-time setup code, once only;
then the business is said once and saved, as the settings page saves."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from goodwill.engine.configuration import calendar_for
from goodwill.settings import Settings
from goodwill.store.audit import entries
from goodwill.store.first_run import new_setup_code, spend_setup_code
from goodwill.store.models import StaffUser
from goodwill.web import create_app
from tests.conftest import NOW
from tests.web.conftest import csrf_from
from tests.web.sample import PASSWORD as SAMPLE_PASSWORD
from tests.web.sample import staff_user

PASSWORD = "a quiet harbour at dawn"
OWNER = {"name": "Anna de Vries", "email": "Anna@Kade.example", "password": PASSWORD}


def _browser(settings: Settings, *, local: bool, **extra: object) -> TestClient:
    """A browser on this machine (loopback peer, loopback host) or elsewhere."""
    app = create_app(settings, clock=lambda: NOW)
    if local:
        return TestClient(
            app,
            base_url="http://127.0.0.1:8000",
            client=("127.0.0.1", 51000),
            follow_redirects=False,
            **extra,  # type: ignore[arg-type]
        )
    return TestClient(app, base_url="https://care.kade.example", follow_redirects=False)


@pytest.fixture
def here(web_settings: Settings, store: sessionmaker[Session]) -> Iterator[TestClient]:
    with _browser(web_settings, local=True) as http:
        yield http


@pytest.fixture
def elsewhere(web_settings: Settings, store: sessionmaker[Session]) -> Iterator[TestClient]:
    with _browser(web_settings, local=False) as http:
        yield http


def _set_up(http: TestClient, **fields: str) -> tuple[int, str, str]:
    page = http.get("/setup")
    if page.status_code == 303:  # already set up: the login form's token goes as well
        page = http.get("/login")
    form = {**OWNER, **fields, "csrf_token": csrf_from(page.text)}
    response = http.post("/setup", data=form)
    return response.status_code, response.headers.get("location", ""), response.text


def _owners(store: sessionmaker[Session]) -> list[StaffUser]:
    with store() as session:
        return list(session.execute(select(StaffUser)).scalars())


def test_a_new_database_sends_the_login_form_to_setup_which_says_why(here: TestClient) -> None:
    response = here.get("/login")
    assert response.status_code == 303 and response.headers["location"] == "/setup"
    page = here.get("/setup")
    assert page.status_code == 200
    assert "No one has an account yet. Create the owner's account" in page.text
    assert 'name="code"' not in page.text  # on this machine no code is asked for


def test_the_owner_made_on_this_machine_is_logged_in_and_audited_as_setup(
    here: TestClient, store: sessionmaker[Session]
) -> None:
    status, location, _ = _set_up(here)
    assert (status, location) == (303, "/setup/business")
    business = here.get("/setup/business")
    assert business.status_code == 200 and "Your business" in business.text
    assert here.get("/today").status_code == 200  # a session, like /login gives
    [owner] = _owners(store)
    assert (owner.email, owner.name, owner.role, owner.active) == (
        "anna@kade.example",
        "Anna de Vries",
        "owner",
        True,
    )
    with store() as session:
        [created] = entries(session, action="user.created")
        [login] = entries(session, action="login")
    assert (created.actor_kind, created.actor, created.address) == (
        "anonymous",
        "setup",
        "127.0.0.1",
    )
    assert created.after == {"email": "anna@kade.example", "role": "owner"}
    assert created.detail == "from this machine"
    assert login.actor_user_id == owner.id


def test_a_browser_elsewhere_is_refused_without_a_code_and_told_how_to_get_one(
    elsewhere: TestClient, store: sessionmaker[Session]
) -> None:
    page = elsewhere.get("/setup")
    assert page.status_code == 403
    assert "the setup code that goodwill serve prints" in page.text
    assert 'name="code"' in page.text
    status, _, text = _set_up(elsewhere)
    assert status == 403 and "setup code" in text
    status, _, text = _set_up(elsewhere, code="0000-0000-0000-0000")
    assert status == 403 and "unknown, used or more than 24 hours old" in text
    assert _owners(store) == []


@pytest.mark.parametrize(
    ("headers", "base_url"),
    [
        ({"X-Forwarded-For": "203.0.113.9"}, "http://127.0.0.1:8000"),
        ({"Forwarded": "for=203.0.113.9"}, "http://127.0.0.1:8000"),
        ({}, "https://care.kade.example"),  # a proxy that forwards no header but the Host
    ],
)
def test_a_reverse_proxy_on_this_machine_does_not_make_its_visitors_local(
    web_settings: Settings,
    store: sessionmaker[Session],
    headers: dict[str, str],
    base_url: str,
) -> None:
    app = create_app(web_settings, clock=lambda: NOW)
    with TestClient(
        app, base_url=base_url, client=("127.0.0.1", 51000), headers=headers, follow_redirects=False
    ) as http:
        assert http.get("/setup").status_code == 403
        assert _set_up(http)[0] == 403
    assert _owners(store) == []


def test_the_setup_code_lets_a_browser_elsewhere_make_the_owner_once(
    web_settings: Settings, store: sessionmaker[Session]
) -> None:
    with store.begin() as session:
        code = new_setup_code(session, now=NOW)
    with _browser(web_settings, local=False) as first:
        # A refused password does not spend the code.
        status, _, text = _set_up(first, code=code, password="password123")
        assert status == 422 and "one of the most common ones" in text
        typed = code.lower().replace("-", " ")  # as someone might copy it by hand
        status, location, _ = _set_up(first, code=typed)
        assert (status, location) == (303, "/setup/business")
    with store() as session:
        [created] = entries(session, action="user.created")
    assert created.detail == "with the setup code"
    with _browser(web_settings, local=False) as second:
        assert second.get("/setup").headers["location"] == "/login"
        assert _set_up(second, code=code, email="mallory@example.com")[0] == 404
    assert [u.email for u in _owners(store)] == ["anna@kade.example"]


def test_a_setup_code_works_once_for_a_day_and_a_new_one_replaces_it(
    store: sessionmaker[Session],
) -> None:
    with store.begin() as session:
        old = new_setup_code(session, now=NOW)
        code = new_setup_code(session, now=NOW)
    assert len(code) == 19 and code.count("-") == 3
    with store.begin() as session:
        assert not spend_setup_code(session, old, now=NOW)
        assert not spend_setup_code(session, code, now=NOW + timedelta(hours=24))
        assert spend_setup_code(session, code, now=NOW + timedelta(hours=23))
        assert not spend_setup_code(session, code, now=NOW + timedelta(hours=23))


def test_once_an_owner_exists_setup_is_gone_even_from_this_machine(
    here: TestClient, store: sessionmaker[Session]
) -> None:
    with store.begin() as session:
        staff_user(session, now=NOW)
    assert here.get("/setup").headers["location"] == "/login"
    assert here.get("/login").status_code == 200
    status, _, text = _set_up(here)
    assert status == 404 and "already set up" in text
    assert [u.email for u in _owners(store)] == ["owner@example.com"]


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("short one", "a password needs at least 10 characters"),
        ("iloveyou12", "that password is one of the most common ones"),
        ("1234567890", "a straight run of digits or keyboard letters"),
    ],
)
def test_the_owner_s_password_follows_the_rules_of_every_account(
    here: TestClient, store: sessionmaker[Session], password: str, why: str
) -> None:
    status, _, text = _set_up(here, password=password)
    assert status == 422 and why in text
    assert 'value="Anna de Vries"' in text  # what was typed stays
    assert _owners(store) == []


def _business(http: TestClient, **fields: str) -> tuple[int, str, str]:
    page = http.get("/setup/business")
    form = {
        "business_name": "Kade Koffie",
        "business_kind": "shop",
        "timezone": "Europe/Amsterdam",
        "currency": "eur",
        "calendar__country": "nl",
        "calendar__hours__mon": "08:00-18:00",
        "calendar__hours__sat": "10:00-16:00",
        **fields,
        "csrf_token": csrf_from(page.text),
    }
    response = http.post("/setup/business", data=form)
    return response.status_code, response.headers.get("location", ""), response.text


def test_the_business_page_saves_what_goodwill_then_runs_on(
    here: TestClient, store: sessionmaker[Session]
) -> None:
    _set_up(here)
    page = here.get("/setup/business")
    assert "data-propose-zone" in page.text  # the browser proposes its zone over UTC
    assert "/static/timezone.js" in page.text
    assert 'value="09:00-17:00"' in page.text  # the hours in force, to start from
    status, location, _ = _business(here, business_name='Kade "Koffie" & Co', business_kind="cafe")
    assert (status, location) == (303, "/settings/mail?first=1")
    settings = here.app.state.goodwill.settings  # type: ignore[attr-defined]
    assert (settings.business_name, settings.timezone, settings.currency) == (
        'Kade "Koffie" & Co',
        "Europe/Amsterdam",
        "EUR",
    )
    assert settings.business_kind == "cafe"
    calendar = calendar_for(settings)
    assert calendar.is_open(NOW.replace(hour=7, minute=30))  # a Monday, 08:30 in Amsterdam
    assert calendar.is_open(datetime(2026, 3, 7, 10, tzinfo=UTC))  # a Saturday, 11:00
    assert not calendar.is_open(datetime(2026, 3, 8, 10, tzinfo=UTC))  # Sunday: left empty
    assert calendar.is_holiday(date(2026, 12, 25))
    with store() as session:
        changes = entries(session, action="settings.change")
    assert {entry.object_id for entry in changes} == {
        "business_name",
        "business_kind",
        "timezone",
        "currency",
        "calendar",
    }
    assert all(entry.actor == "anna@kade.example" for entry in changes)


def test_the_business_page_says_what_is_wrong_with_each_answer(
    here: TestClient, store: sessionmaker[Session]
) -> None:
    _set_up(here)
    status, _, text = _business(
        here,
        business_name=" ",
        timezone="Europe/Amsterdm",
        currency="euro",
        calendar__country="XX",
        calendar__hours__tue="9 till 5",
    )
    assert status == 422
    assert "Write the business&#39;s name as clients know it." in text
    assert "&#39;Europe/Amsterdm&#39; is not an IANA zone" in text
    assert "three-letter code" in text
    assert 'value="9 till 5"' in text  # what was typed stays
    with store() as session:
        assert entries(session, action="settings.change") == []
    status, _, text = _business(here, calendar__country="XX")
    assert status == 422 and "XX" in text and "country" in text


def test_staff_cannot_open_the_business_setup(
    web_settings: Settings, store: sessionmaker[Session]
) -> None:
    with store.begin() as session:
        staff_user(session, email="sam@example.com", role="staff", name="Sam", now=NOW)
    with _browser(web_settings, local=True) as http:
        token = csrf_from(http.get("/login").text)
        form = {"email": "sam@example.com", "password": SAMPLE_PASSWORD, "csrf_token": token}
        assert http.post("/login", data=form).status_code == 303
        assert http.get("/setup/business").status_code == 403
