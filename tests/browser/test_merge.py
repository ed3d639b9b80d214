"""The owner opens a likely duplicate, reads both records side by side and merges them, at
desktop width and on a phone."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from goodwill.settings import Settings
from goodwill.store.models import Client
from tests.browser.conftest import expect, log_in, sample_seed, serve
from tests.conftest import NOW
from tests.privacy.people import person

#: The page's content (below the shared header) is no wider than the window.
FITS = "document.querySelector('main').scrollWidth <= window.innerWidth"
PAIRS = {"A": ("B", "Zoltana Quibbleworth", "1011 AB"), "C": ("D", "Pieter Jansen", "2000 XY")}


def _seed(store: sessionmaker[Session], settings: Settings) -> None:
    sample_seed(store, settings)
    with store.begin() as session:
        for keep, (other, name, postcode) in PAIRS.items():
            for key in (keep, other):
                cid = person(session, now=NOW, key=key, name=name, email=f"{key}@example.org")
                client = session.get(Client, cid)
                assert client is not None
                client.postcode = postcode


@pytest.fixture(scope="module")
def merge_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from serve(tmp_path_factory, _seed)


def _merge(tab: Any, keep: str) -> None:
    other, name, _ = PAIRS[keep]
    log_in(tab, "/clients/duplicates")
    card = tab.locator(f".duplicate-pair:has(a[href='/clients/C-{keep}'])")
    expect(card).to_contain_text("similar names")
    assert tab.evaluate(FITS), "the duplicates page is wider than the window"
    card.locator("text=Merge…").click()
    expect(tab.locator("h1")).to_have_text("Merge two records")
    expect(tab.locator(".merge-side[data-side=keep]")).to_contain_text(f"C-{keep}")
    expect(tab.locator(".merge-side[data-side=other]")).to_contain_text(f"{other}@example.org")
    expect(tab.locator("#merge-moves")).to_contain_text("1 orders")
    assert tab.evaluate(FITS), "the merge preview is wider than the window"
    box = tab.locator("#merge-confirm").bounding_box()
    assert box is not None and box["height"] >= 44
    tab.click("#merge-confirm")
    expect(tab.locator("h1")).to_contain_text(name)
    expect(tab.locator(".flash")).to_contain_text(f"Merged {name} (C-{other}) into this record")
    tab.goto("/clients/duplicates")
    expect(tab.locator(f".duplicate-pair:has(a[href='/clients/C-{keep}'])")).to_have_count(0)


def test_a_merge_at_desktop_width(browser: Any, merge_server: str) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=merge_server)
    try:
        _merge(context.new_page(), "A")
    finally:
        context.close()


def test_a_merge_on_a_phone(browser: Any, merge_server: str) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, base_url=merge_server)
    try:
        _merge(context.new_page(), "C")
    finally:
        context.close()
