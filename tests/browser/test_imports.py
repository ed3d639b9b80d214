"""The import page in headless Chromium: upload, preview, confirm, progress, reload, undo.

The file is a Shopify orders export of a few thousand orders (several chunks), so the import takes
long enough for the progress bar to be seen; the page is reloaded on the way and still shows the
import, which keeps going on the server. Uploads go to the module's temporary directory.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from typing import Any

import pytest

from goodwill.settings import load_settings
from goodwill.store.database import open_store
from goodwill.web import create_app
from tests.browser.conftest import expect, log_in, repository_root, sample_seed
from tests.conftest import NOW
from tests.web.live import serving

pytestmark = pytest.mark.browser

ORDERS = 6000
CLIENTS = 400
BAD_LINE = 5
HEADER = (
    "Name,Email,Financial Status,Paid at,Currency,Subtotal,Total,Refunded Amount,Created at,"
    "Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,Billing Name,Vendor,"
    "Cancelled at,Source\n"
)
PRODUCTS = (("Walnut desk lamp", "120.00", "Lumen"), ("Beeswax candle", "22.75", "Hive"))


def shopify_export() -> bytes:
    """``ORDERS`` one-line orders by ``CLIENTS`` clients; line ``BAD_LINE`` has no amount."""
    lines = [HEADER]
    for n in range(ORDERS):
        product, price, vendor = PRODUCTS[n % len(PRODUCTS)]
        client = n % CLIENTS
        day = f"2025-{1 + n % 12:02d}-{1 + n % 28:02d} 10:{n % 60:02d}:00 +0100"
        total = "lots" if len(lines) + 1 == BAD_LINE else price
        lines.append(
            f"#{10000 + n},client{client}@example.org,paid,{day},EUR,{price},{total},0.00,{day},"
            f"1,{product},{price},SKU-{n % 7},Client {client:03d},{vendor},,web\n"
        )
    return "".join(lines).encode()


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app over the sample business, keeping uploads in a temporary directory."""
    folder = tmp_path_factory.mktemp("live-imports")
    url = f"sqlite:///{folder / 'goodwill.db'}"
    settings = dataclasses.replace(
        load_settings(database_url=url, environ={}), uploads=folder / "uploads"
    )
    sample_seed(open_store(url), settings)
    with serving(create_app(settings, clock=lambda: NOW)) as base:
        yield base


def test_the_owner_imports_a_shopify_export_watches_it_land_and_undoes_it(page: Any) -> None:
    log_in(page, "/imports")
    expect(page.locator(".nav a[aria-current=page]")).to_have_text("Import")
    page.set_input_files(
        "#import-file",
        files=[{"name": "orders_export.csv", "mimeType": "text/csv", "buffer": shopify_export()}],
    )
    page.get_by_role("button", name="Upload and preview").click()
    page.wait_for_url("**/imports/preview/**")

    preview = page.locator("#import-preview")
    expect(preview).to_have_attribute("data-state", "ready", timeout=60_000)
    assert "Shopify orders export" in page.inner_text("#import-reading")
    assert "detected because" in page.inner_text("#import-reading")
    expect(preview.locator('.figure[data-entity="clients"] .figure-value')).to_have_text(
        str(CLIENTS)
    )
    expect(preview.locator('.figure[data-entity="orders"] .figure-value')).to_have_text(
        str(ORDERS - 1)
    )
    error = page.locator(f'#errors-table tr[data-line="{BAD_LINE}"]')
    expect(error).to_have_count(1)
    assert "lots" in error.inner_text()
    assert "Client 000" in page.inner_text(".import-sample")

    page.wait_for_load_state("networkidle")
    target = repository_root() / "docs" / "screenshot-import.png"
    page.screenshot(path=str(target), full_page=True)
    assert target.stat().st_size > 10_000

    page.click("#confirm-import")
    page.wait_for_url(re.compile(r"/imports/\d+$"))
    run_url = page.url
    assert "orders_export.csv" in page.inner_text("h1")
    run = page.locator("#import-run")
    if run.get_attribute("data-status") == "running":
        expect(run.locator("progress")).to_be_visible()
    page.reload()  # the import goes on in the server; the page finds it again
    expect(run).to_have_attribute("data-status", "done", timeout=120_000)
    expect(run.locator('.figure[data-entity="clients"] .figure-value')).to_have_text(str(CLIENTS))
    expect(page.locator(f'#errors-table tr[data-line="{BAD_LINE}"]')).to_have_count(1)

    page.goto("/imports")
    row = page.locator("#imports-table tbody tr").first
    assert "orders_export.csv" in row.inner_text()
    expect(row).to_have_attribute("data-status", "done")
    row.get_by_role("button", name="Undo").click()
    page.wait_for_url(run_url)
    expect(page.locator(".flash")).to_contain_text(f"removed {CLIENTS} clients")
    expect(page.locator("#import-run")).to_have_attribute("data-status", "undone")
    page.goto("/clients?q=client000%40example.org")
    assert "No clients match" in page.inner_text("#summary")
