"""The two stores a store benchmark runs on: SQLite files, and a throwaway PostgreSQL server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.pgserver import PostgresServer, PostgresUnavailable

UrlFor = Callable[[str], str]
"""Makes a fresh database named after its argument and returns its URL."""


@contextmanager
def stores(
    base: Path, pg_settings: dict[str, str] | None = None
) -> Iterator[list[tuple[str, UrlFor]]]:
    """("sqlite", …) always, ("postgresql", …) when a server could be started (said if not),
    with ``pg_settings`` on top of the throwaway server's own."""
    found: list[tuple[str, UrlFor]] = [("sqlite", lambda db: f"sqlite:///{base / db}.db")]
    (base / "pg").mkdir()
    server = PostgresServer(base / "pg", pg_settings)
    try:
        server.start()
    except PostgresUnavailable as exc:
        print(f"postgresql skipped: {exc}")
        yield found
        return
    try:
        yield [*found, ("postgresql", server.create_database)]
    finally:
        server.stop()
