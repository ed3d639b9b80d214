"""The import page over HTTP: upload, preview (a dry run), confirm, watch it land, undo.

The imports run in the app's background threads, as in production; the tests poll the pages the
way htmx does until the run is over. Uploads go to a temporary directory of each test.
"""

from __future__ import annotations

import dataclasses
import re
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from goodwill.settings import Settings
from goodwill.store.models import Client, ImportRun
from tests.conftest import NOW
from tests.web.conftest import csrf_from, log_in
from tests.web.sample import staff_user

HTMX = {"HX-Request": "true"}
EMAILS = ("ada@example.org", "ben@example.org", "cleo@example.org")
HEADER = (
    "Name,Email,Financial Status,Paid at,Currency,Subtotal,Total,Refunded Amount,Created at,"
    "Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,Billing Name,Vendor,"
    "Cancelled at,Source\n"
)
SHOPIFY = HEADER + (
    "#1001,ada@example.org,paid,2026-03-02 10:15:00 +0100,EUR,120.00,120.00,0.00,"
    "2026-03-02 10:14:00 +0100,1,Walnut desk lamp,120.00,LAMP-1,Ada Lindqvist,Lumen,,web\n"
    "#1002,ben@example.org,paid,2026-03-05 16:02:00 +0100,EUR,45.50,45.50,0.00,"
    "2026-03-05 16:01:00 +0100,2,Beeswax candle,22.75,CANDLE-2,Ben Okafor,Hive,,pos\n"
    "#1003,cleo@example.org,paid,2026-04-11 09:30:00 +0200,EUR,80.00,80.00,0.00,"
    "2026-04-11 09:29:00 +0200,1,Linen throw,80.00,THROW-1,Cleo Marchetti,Loom,,web\n"
)
_LOCATION = re.compile(r"^/imports/preview/([\w-]+)$")


@pytest.fixture
def web_settings(settings: Settings, tmp_path: Path) -> Settings:
    """The shared settings with a fixed signing key and uploads kept in the test's directory."""
    return dataclasses.replace(
        settings, secret_key="test-signing-key", uploads=tmp_path / "uploads"
    )


def upload(
    http: TestClient, content: str, *, name: str = "orders.csv", profile: str = ""
) -> Response:
    token = csrf_from(http.get("/imports").text)
    files = {"file": (name, content.encode(), "text/csv")}
    response: Response = http.post(
        "/imports", data={"csrf_token": token, "profile": profile}, files=files
    )
    return response


def until(http: TestClient, path: str, marker: str, *, seconds: float = 30) -> str:
    """Poll ``path`` as htmx does until the fragment no longer carries ``marker`` (it is over)."""
    deadline = time.monotonic() + seconds
    while True:
        response = http.get(path, headers=HTMX)
        assert response.status_code == 200, response.text
        if marker not in response.text:
            return response.text
        assert time.monotonic() < deadline, f"{path} still shows {marker!r}"
        time.sleep(0.05)


def previewed(http: TestClient, content: str, **options: str) -> tuple[str, str]:
    """Upload ``content``, wait for its dry run; the preview's address and fragment."""
    response = upload(http, content, **options)
    assert response.status_code == 303, response.text
    path = response.headers["location"]
    assert _LOCATION.match(path), path
    return path, until(http, path, 'data-state="running"')


def clients_with(store: sessionmaker[Session], emails: tuple[str, ...]) -> int:
    with store.begin() as session:
        return session.scalar(select(func.count()).where(Client.email.in_(emails))) or 0


def import_runs(store: sessionmaker[Session]) -> int:
    with store.begin() as session:
        return session.scalar(select(func.count()).select_from(ImportRun)) or 0


def test_the_owner_previews_confirms_and_undoes_a_shopify_export(
    logged_in: TestClient, seeded: sessionmaker[Session], web_settings: Settings
) -> None:
    page = logged_in.get("/imports")
    assert page.status_code == 200
    assert 'href="/imports" aria-current="page">Import<' in page.text
    assert 'enctype="multipart/form-data"' in page.text
    assert "Shopify orders export" in page.text  # the profile select
    assert "Nothing imported yet" in page.text

    path, fragment = previewed(logged_in, SHOPIFY)
    assert 'data-state="ready"' in fragment
    assert "Shopify orders export" in fragment and "detected because" in fragment
    assert re.search(r'data-entity="clients">.*?figure-value">3<', fragment, re.DOTALL)
    assert "Ada Lindqvist" in fragment  # the first rows of each kind
    assert 'id="confirm-import"' in fragment
    whole = logged_in.get(path)  # a reload shows the same preview
    assert whole.status_code == 200 and "Preview: orders.csv" in whole.text
    assert clients_with(seeded, EMAILS) == 0, "a dry run writes nothing"
    assert import_runs(seeded) == 0

    token = csrf_from(whole.text)
    confirmed = logged_in.post(f"{path}/confirm", data={"csrf_token": token})
    assert confirmed.status_code == 303
    run = confirmed.headers["location"]
    import_id = int(run.rsplit("/", 1)[1])
    done = until(logged_in, run, "hx-trigger")
    assert 'data-status="done"' in done
    assert 'id="undo-import"' in done
    assert clients_with(seeded, EMAILS) == 3
    assert logged_in.get(path).headers["location"] == run  # the preview now leads to the run

    history = logged_in.get("/imports").text
    row = history.split(f'data-import="{import_id}"', 1)[1].split("</tr>", 1)[0]
    assert 'data-status="done"' in row
    assert "orders.csv" in row and "owner@example.com" in row and "shopify" in row
    assert f'action="/imports/{import_id}/undo"' in row

    undone = logged_in.post(f"{run}/undo", data={"csrf_token": token})
    assert undone.status_code == 303 and undone.headers["location"] == run
    after = logged_in.get(run).text
    assert "Undone: removed 3 clients" in after
    assert 'data-status="undone"' in after and 'id="undo-import"' not in after
    assert clients_with(seeded, EMAILS) == 0
    assert list((web_settings.upload_dir).iterdir()) == [], "the upload is removed once imported"


def test_a_bad_row_shows_its_line_and_column_and_the_good_rows_still_count(
    logged_in: TestClient,
) -> None:
    broken = SHOPIFY.replace("45.50,45.50", "45.50,lots")
    _, fragment = previewed(logged_in, broken)
    errors = fragment.split('id="errors-table"', 1)[1].split("</table>", 1)[0]
    assert 'data-line="3"' in errors
    assert "lots" in errors
    assert re.search(r'data-entity="clients">.*?figure-value">2<', fragment, re.DOTALL)


def test_a_file_no_profile_fits_is_refused_at_upload_and_not_kept(
    logged_in: TestClient, web_settings: Settings
) -> None:
    response = upload(logged_in, "colour,size\nred,9\n", name="stock.csv")
    assert response.status_code == 422
    assert 'id="upload-error"' in response.text
    assert "stock.csv" in response.text
    assert str(web_settings.upload_dir) not in response.text
    assert list(web_settings.upload_dir.iterdir()) == []


def test_a_chosen_profile_is_used_without_detection(logged_in: TestClient) -> None:
    _, fragment = previewed(logged_in, SHOPIFY, profile="shopify")
    assert "Shopify orders export</strong> (chosen)" in fragment
    assert upload(logged_in, SHOPIFY, profile="nonesuch").status_code == 422


def test_cancelling_a_preview_forgets_it_and_its_file(
    logged_in: TestClient, web_settings: Settings, seeded: sessionmaker[Session]
) -> None:
    path, fragment = previewed(logged_in, SHOPIFY)
    token = csrf_from(fragment)
    cancelled = logged_in.post(f"{path}/cancel", data={"csrf_token": token})
    assert cancelled.status_code == 303 and cancelled.headers["location"] == "/imports"
    assert "Cancelled: orders.csv was not imported." in logged_in.get("/imports").text
    assert logged_in.get(path).status_code == 404
    assert list(web_settings.upload_dir.iterdir()) == []
    assert clients_with(seeded, EMAILS) == 0


def test_staff_may_look_but_only_the_owner_uploads_confirms_and_undoes(
    http: TestClient, seeded: sessionmaker[Session]
) -> None:
    with seeded.begin() as session:
        staff_user(session, email="sam@example.com", role="staff", name="Sam Staff", now=NOW)
    log_in(http, email="sam@example.com")
    page = http.get("/imports")
    assert page.status_code == 200
    assert 'enctype="multipart/form-data"' not in page.text
    assert "Only the owner or a manager may import files" in page.text
    assert upload(http, SHOPIFY).status_code == 403
    token = csrf_from(page.text)
    assert http.post("/imports/1/undo", data={"csrf_token": token}).status_code == 403
    confirm = http.post("/imports/preview/abc/confirm", data={"csrf_token": token})
    assert confirm.status_code == 403
    assert clients_with(seeded, EMAILS) == 0


def test_uploading_needs_the_csrf_token_and_a_file(logged_in: TestClient) -> None:
    files = {"file": ("orders.csv", SHOPIFY.encode(), "text/csv")}
    assert logged_in.post("/imports", files=files).status_code == 403
    token = csrf_from(logged_in.get("/imports").text)
    empty = logged_in.post("/imports", data={"csrf_token": token, "profile": ""})
    assert empty.status_code == 422 and "choose a file to import" in empty.text


def test_unknown_previews_and_imports_are_not_found(logged_in: TestClient) -> None:
    assert logged_in.get("/imports/preview/nonesuch").status_code == 404
    assert logged_in.get("/imports/999").status_code == 404


def test_the_import_page_needs_a_login(http: TestClient) -> None:
    response = http.get("/imports")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/imports"


def test_a_preview_says_how_amounts_are_read_when_the_file_names_no_currency(
    logged_in: TestClient,
) -> None:
    bare = SHOPIFY.replace("Currency,", "").replace(",EUR,", ",")
    _, fragment = previewed(logged_in, bare)
    assert 'data-state="ready"' in fragment
    note = fragment.split('id="import-currency"', 1)[1].split("</p>", 1)[0]
    assert "No currency column: amounts are read as USD" in note  # the sample's orders are USD
    _, named = previewed(logged_in, SHOPIFY)
    assert 'id="import-currency"' not in named
