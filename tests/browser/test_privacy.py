"""The owner exports and erases a client on a phone, then reads it on the audit page."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from goodwill.settings import Settings
from tests.browser.conftest import expect, log_in, sample_seed, serve
from tests.conftest import NOW
from tests.privacy.people import NAME, person

#: The page's content (below the shared header) is no wider than the window.
FITS = "document.querySelector('main').scrollWidth <= window.innerWidth"


def _seed(store: sessionmaker[Session], settings: Settings) -> None:
    sample_seed(store, settings)
    with store.begin() as session:
        person(session, now=NOW)


@pytest.fixture(scope="module")
def privacy_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from serve(tmp_path_factory, _seed)


def test_the_owner_exports_and_erases_a_client_on_a_phone(
    browser: Any, privacy_server: str, tmp_path: Path
) -> None:
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        base_url=privacy_server,
        accept_downloads=True,
    )
    try:
        tab = context.new_page()
        log_in(tab, "/clients/C-A")
        expect(tab.locator("h1")).to_have_text(NAME)
        assert tab.evaluate(FITS), "the client page is wider than the phone"
        with tab.expect_download() as download:
            tab.click("text=Export everything held (zip)")
        saved = tmp_path / "export.zip"
        download.value.save_as(saved)
        assert "client.json" in zipfile.ZipFile(saved).namelist()
        tab.fill("input[name=reason]", "asked by email on 2026-11-20")
        tab.check("input[name=confirm]")
        tab.click(".erase-form button.danger")
        expect(tab.locator("h1")).to_contain_text("Erased client #")
        expect(tab.locator(".staff-changes")).to_contain_text("erased the client")
        tab.goto("/audit?action=client")
        expect(tab.locator(".audit-list")).to_contain_text("client.erased")
        expect(tab.locator(".audit-list")).to_contain_text("asked by email on 2026-11-20")
        assert tab.evaluate(FITS), "the audit page is wider than the phone"
    finally:
        context.close()
