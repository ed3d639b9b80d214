"""Shared fixtures: a fresh database per test, on SQLite and on a real PostgreSQL server.

The PostgreSQL server is started once per test run from Debian's binaries, in a temporary data
directory on a free loopback port, and stopped at the end. Where it cannot be had, PostgreSQL
tests fail under CI=true and skip with the reason elsewhere.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from goodwill.settings import Settings, load_settings
from goodwill.store.database import open_store
from tests.pgserver import PostgresServer, PostgresUnavailable

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def pytest_configure(config: pytest.Config) -> None:
    # Tests, and the commands they start, never read the user's own configuration or database.
    os.environ["GOODWILL_CONFIG"] = str(Path(__file__).parent / "data" / "goodwill.toml")
    os.environ.pop("GOODWILL_DATABASE_URL", None)


def unavailable(reason: str) -> None:
    """Fail under CI (the service must be there), skip with the reason elsewhere."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"required service unavailable under CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer | str]:
    server = PostgresServer(tmp_path_factory.mktemp("pg"))
    try:
        server.start()
    except PostgresUnavailable as exc:
        yield str(exc)
        return
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer | str) -> str:
    if isinstance(postgres_server, str):
        unavailable(f"PostgreSQL: {postgres_server}")
        raise AssertionError("unreachable")
    return postgres_server.create_database(f"t_{uuid.uuid4().hex[:12]}")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'goodwill.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """A fresh, empty database URL; store tests using it run on both SQLite and PostgreSQL."""
    name = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return str(request.getfixturevalue(name))


@pytest.fixture
def settings(db_url: str) -> Settings:
    return load_settings(database_url=db_url, environ={})


@pytest.fixture
def store(settings: Settings) -> sessionmaker[Session]:
    return open_store(settings.database_url)
