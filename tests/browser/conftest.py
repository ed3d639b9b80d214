"""The real app served by uvicorn on a free loopback port, over a SQLite file of sample data."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from goodwill.settings import Settings, load_settings
from goodwill.store.database import open_store
from goodwill.web import create_app
from tests.conftest import NOW
from tests.web.live import serving
from tests.web.sample import PASSWORD, sample_business, staff_user

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


def sample_seed(store: sessionmaker[Session], settings: Settings) -> None:
    """The owner and the sample business."""
    with store.begin() as session:
        staff_user(session, now=NOW)
        sample_business(session, now=NOW)


def serve(
    tmp_path_factory: pytest.TempPathFactory,
    seed: Callable[[sessionmaker[Session], Settings], None],
    *,
    adjust: Callable[[Settings], Settings] | None = None,
) -> Iterator[str]:
    """Seed a fresh SQLite file, serve the app over it on a free port; yield its base URL.

    ``adjust`` changes the settings (a response-target file, a mail address) before both."""
    url = f"sqlite:///{tmp_path_factory.mktemp('live') / 'goodwill.db'}"
    settings = load_settings(database_url=url, environ={})
    if adjust is not None:
        settings = adjust(settings)
    seed(open_store(url), settings)
    with serving(create_app(settings, clock=lambda: NOW)) as base:
        yield base


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of the app over the sample business, until the module's tests end."""
    yield from serve(tmp_path_factory, sample_seed)


@pytest.fixture
def page(browser: Any, live_server: str) -> Iterator[Any]:
    """A fresh 1280x800 browser context (no cookies) whose console errors fail the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=live_server)
    tab = context.new_page()
    errors: list[str] = []
    tab.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.console_errors = errors  # a test expecting an error status takes its line out
    try:
        yield tab
        assert errors == [], f"browser console errors: {errors}"
    finally:
        context.close()


def log_in(page: Any, path: str = "/clients") -> None:
    """Open ``path``, be sent to the login form, log in as the owner and land on ``path``."""
    page.goto(path)
    assert "/login" in page.url
    page.fill("#email", "owner@example.com")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"**{path}")


def repository_root() -> Path:
    return Path(__file__).resolve().parents[2]
