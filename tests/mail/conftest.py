"""Fixtures for the mail tests: an SMTP server that records what it is given; one Dovecot per
test run, a mailbox of its own per test."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import unavailable
from tests.mail.dovecot import Dovecot
from tests.mail.recorder import Recorder, recording_server


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot | str]:
    # Not under pytest's base temporary directory: another test run on the machine may set it
    # back to 0700 at any moment, and Dovecot's unprivileged user then loses its configuration.
    base = Path(tempfile.mkdtemp(prefix="goodwill-dovecot-"))
    server = Dovecot(base)
    try:
        server.start()
    except (RuntimeError, OSError) as exc:
        server.stop()
        yield str(exc)
        return
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def imap(dovecot: Dovecot | str) -> Dovecot:
    if isinstance(dovecot, str):
        unavailable(f"Dovecot: {dovecot}")
        raise AssertionError("unreachable")
    return dovecot


@pytest.fixture
def user() -> str:
    """A mailbox of its own per test: Dovecot creates it at the first login."""
    return f"u{uuid.uuid4().hex[:10]}"


@pytest.fixture
def smtp_server() -> Iterator[tuple[Recorder, int]]:
    with recording_server() as server:
        yield server
