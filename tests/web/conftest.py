"""Fixtures for the HTTP tests: a seeded store, the app over it with a fixed clock, a browser-like
client (cookies kept, redirects not followed) and a logged-in one."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy.orm import Session, sessionmaker

from goodwill.settings import Settings
from goodwill.store.staff import create_token, user_by_email
from goodwill.web import create_app
from tests.conftest import NOW
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
