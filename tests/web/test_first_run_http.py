"""The first run over HTTP: a new database sends the login form to /setup, where the owner's
account is made from the machine goodwill runs on or with the one-time setup code, once only;
then the business's first settings come back as lines for the settings file."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from goodwill.engine.configuration import calendar_for
from goodwill.settings import Settings, load_settings
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


def _business(http: TestClient, **fields: str) -> tuple[int, str]:
    page = http.get("/setup/business")
    form = {
        "business_name": "Kade Koffie",
        "timezone": "Europe/Amsterdam",
        "currency": "eur",
        "country": "nl",
        **fields,
        "csrf_token": csrf_from(page.text),
    }
    response = http.post("/setup/business", data=form)
    return response.status_code, response.text


def test_the_business_page_gives_lines_that_goodwill_reads_back(
    here: TestClient, tmp_path: Path
) -> None:
    _set_up(here)
    page = here.get("/setup/business")
    assert 'data-propose="browser"' in page.text  # the browser proposes its zone over UTC
    assert "/static/timezone.js" in page.text
    status, text = _business(here, business_name='Kade "Koffie" & Co')
    assert status == 200 and "Put these lines in your settings file" in text
    assert "goodwill.toml" in text and "restart" in text
    start = text.index('<pre class="setup-toml">') + len('<pre class="setup-toml">')
    lines = text[start : text.index("</pre>", start)]
    for escaped, plain in (("&#34;", '"'), ("&quot;", '"'), ("&amp;", "&"), ("&#39;", "'")):
        lines = lines.replace(escaped, plain)
    file = tmp_path / "goodwill.toml"
    file.write_text(lines, encoding="utf-8")
    assert tomllib.loads(lines)["calendar"]["country"] == "NL"
    settings = load_settings(config_path=file, database_url="sqlite://", environ={})
    assert (settings.business_name, settings.timezone, settings.currency) == (
        'Kade "Koffie" & Co',
        "Europe/Amsterdam",
        "EUR",
    )
    calendar = calendar_for(settings)  # the country's table keeps the shop open on weekdays
    assert calendar.is_open(NOW.replace(hour=10))  # a Monday, 11:00 in Amsterdam
    assert calendar.is_holiday(date(2026, 12, 25))


def test_the_business_page_says_what_is_wrong_with_each_answer(here: TestClient) -> None:
    _set_up(here)
    status, text = _business(
        here, business_name=" ", timezone="Europe/Amsterdm", currency="euro", country="XX"
    )
    assert status == 422
    assert "Write the business&#39;s name as clients know it." in text
    assert "Europe/Amsterdm is not a time zone" in text
    assert "three-letter code" in text
    assert "XX is not a country code goodwill knows holidays for" in text
    assert "Put these lines" not in text


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
