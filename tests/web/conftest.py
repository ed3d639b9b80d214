"""Fixtures for the HTTP tests: a seeded store, the app over it with a fixed clock, a browser-like
client (cookies kept, redirects not followed) and a logged-in one; and, once per module, the
rhythm business after an engine pass (tests/web/rhythms.py) for the value and at-risk tests."""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy.orm import Session, sessionmaker

from goodwill.settings import Settings, load_settings
from goodwill.store.database import open_store
from goodwill.store.staff import create_token, user_by_email
from goodwill.web import create_app
from tests.conftest import NOW, unavailable
from tests.web.rhythms import seed_rhythms
from tests.web.sample import PASSWORD, sample_business, staff_user

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    """The CSRF token a page's form carries."""
    match = _CSRF.search(html)
    assert match, "the page has no CSRF field"
    return match.group(1)


def log_in(
    http: TestClient, email: str = "owner@example.com", password: str = PASSWORD, next: str = ""
) -> Response:
    token = csrf_from(http.get("/login").text)
    form = {"email": email, "password": password, "next": next, "csrf_token": token}
    response: Response = http.post("/login", data=form)
    return response


@pytest.fixture
def web_settings(settings: Settings) -> Settings:
    """The shared settings with a fixed signing key, so no key file is written for PostgreSQL."""
    return dataclasses.replace(settings, secret_key="test-signing-key")


@pytest.fixture
def seeded(store: sessionmaker[Session]) -> sessionmaker[Session]:
    with store.begin() as session:
        staff_user(session, now=NOW)
        sample_business(session, now=NOW)
    return store


@pytest.fixture
def http(web_settings: Settings, seeded: sessionmaker[Session]) -> Iterator[TestClient]:
    with TestClient(create_app(web_settings, clock=lambda: NOW), follow_redirects=False) as client:
        yield client


@pytest.fixture
def logged_in(http: TestClient) -> TestClient:
    response = log_in(http)
    assert response.status_code == 303
    return http


@pytest.fixture
def token(seeded: sessionmaker[Session]) -> str:
    with seeded.begin() as session:
        return create_token(
            session, user_by_email(session, "owner@example.com"), label="tests", now=NOW
        )


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def rhythm_settings(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    """Settings over a database holding the rhythm business after one engine pass at NOW.

    The module-scoped twin of ``settings`` (SQLite and PostgreSQL): the history is seeded and
    the models fitted once per test module, for tests that only read.
    """
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('rhythms') / 'goodwill.db'}"
    else:
        server = request.getfixturevalue("postgres_server")
        if isinstance(server, str):
            unavailable(f"PostgreSQL: {server}")
        url = server.create_database(f"r_{uuid.uuid4().hex[:12]}")
    settings = dataclasses.replace(
        load_settings(database_url=url, environ={}), secret_key="test-signing-key"
    )
    store = open_store(url)
    seed_rhythms(store, settings, now=NOW)
    store.kw["bind"].dispose()
    return settings


@pytest.fixture(scope="module")
def rhythm_http(rhythm_settings: Settings) -> Iterator[TestClient]:
    """The owner, logged in, on the app over the rhythm business (NOW on the clock)."""
    app = create_app(rhythm_settings, clock=lambda: NOW)
    with TestClient(app, follow_redirects=False) as client:
        assert log_in(client).status_code == 303
        yield client


@pytest.fixture(scope="module")
def rhythm_token(rhythm_settings: Settings) -> str:
    store = open_store(rhythm_settings.database_url)
    with store.begin() as session:
        token = create_token(
            session, user_by_email(session, "owner@example.com"), label="tests", now=NOW
        )
    store.kw["bind"].dispose()
    return token
