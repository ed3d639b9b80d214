"""The real app served by uvicorn on a free loopback port, over a SQLite file of sample data."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from goodwill.settings import load_settings
from goodwill.store.database import open_store
from goodwill.web import create_app
from tests.conftest import NOW
from tests.web.sample import sample_business, staff_user

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def expect(target: Any) -> Any:
    """Playwright's auto-waiting assertions (polling without eval, so the CSP stays on)."""
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


def _unavailable(reason: str) -> None:
    """Fail under CI (the browser must be there), skip with the reason elsewhere."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"browser tests need {reason}")
    pytest.skip(f"browser tests need {reason}")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package (pip install playwright)")
        raise AssertionError("unreachable") from None
    if shutil.which(CHROMIUM) is None:
        _unavailable(f"Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of the app, served in a background thread until the module's tests end."""
    url = f"sqlite:///{tmp_path_factory.mktemp('live') / 'goodwill.db'}"
    settings = load_settings(database_url=url, environ={})
    with open_store(url).begin() as session:
        staff_user(session, now=NOW)
        sample_business(session, now=NOW)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, clock=lambda: NOW), log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the web server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def repository_root() -> Path:
    return Path(__file__).resolve().parents[2]
