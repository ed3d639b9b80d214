"""Imports on the dashboard never hold the store hostage and never crash on bytes: a running
preview leaves the store free for a snooze, Cancel stops it at once, an import a stopped server
left "running" is marked failed as the app starts, any file gives a clear answer, the limits
are named, and no upload is left behind."""

from __future__ import annotations

import dataclasses
import os
import random
import socket
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from goodwill.actions.imports import import_file
from goodwill.domain.records import FileKind
from goodwill.settings import Settings
from goodwill.store.ingest import Ingest
from goodwill.store.models import Client, ImportRun, Order
from goodwill.web import create_app
from tests.conftest import NOW
from tests.factories import PURCHASE_HEADER, purchase_rows
from tests.web.conftest import csrf_from, log_in
from tests.web.test_imports_http import SHOPIFY, until
from tests.web.touchpoints import Made, make_followups

#: Generous bounds: a stop that takes longer than this did not happen at the next row.
STOPPED_WITHIN = 5.0


@pytest.fixture
def web_settings(settings: Settings, tmp_path: Path) -> Settings:
    return dataclasses.replace(
        settings, secret_key="test-signing-key", uploads=tmp_path / "uploads"
    )


def post_file(
    http: TestClient, content: bytes, *, name: str = "orders.csv", profile: str = ""
) -> tuple[int, str, str]:
    """Upload ``content``; (status, page text, redirect target)."""
    token = csrf_from(http.get("/imports").text)
    response = http.post(
        "/imports",
        data={"csrf_token": token, "profile": profile},
        files={"file": (name, content, "text/csv")},
    )
    return response.status_code, response.text, response.headers.get("location", "")


def big_purchases(rows: int) -> bytes:
    lines = [",".join(PURCHASE_HEADER)] + [",".join(r) for r in purchase_rows(rows)]
    return ("\n".join(lines) + "\n").encode()


def start_big_preview(http: TestClient, rows: int) -> str:
    status, text, target = post_file(http, big_purchases(rows), profile="kind:purchases")
    assert status == 303, text
    return target


def test_a_running_preview_leaves_the_store_free_for_a_snooze(
    logged_in: TestClient, seeded: sessionmaker[Session], web_settings: Settings
) -> None:
    made: Made = make_followups(seeded, web_settings, now=NOW)
    preview = start_big_preview(logged_in, 100_000)
    jobs = logged_in.app.state.import_jobs  # type: ignore[attr-defined]
    running = jobs.preview(preview.rsplit("/", 1)[1])
    csrf = csrf_from(logged_in.get("/today").text)
    snoozed = logged_in.post(
        f"/followups/{made.missed}/snooze",
        data={"pick": "2026-11-24T09:00", "csrf_token": csrf},
    )
    still_running = running.running
    logged_in.post(f"{preview}/cancel", data={"csrf_token": csrf})
    assert snoozed.status_code == 303, snoozed.text
    assert still_running, "the preview ended before the snooze; the test proves nothing"


def test_cancel_stops_a_running_preview_at_once_and_removes_the_upload(
    logged_in: TestClient, web_settings: Settings, seeded: sessionmaker[Session]
) -> None:
    preview = start_big_preview(logged_in, 100_000)
    jobs = logged_in.app.state.import_jobs  # type: ignore[attr-defined]
    running = jobs.preview(preview.rsplit("/", 1)[1])
    assert running.running
    csrf = csrf_from(logged_in.get("/imports").text)
    assert logged_in.post(f"{preview}/cancel", data={"csrf_token": csrf}).status_code == 303
    assert running.thread is not None
    running.thread.join(STOPPED_WITHIN)
    assert not running.thread.is_alive()
    assert running.summary is None and running.error == "Cancelled."
    assert list(web_settings.upload_dir.iterdir()) == []
    with seeded() as session:  # a preview keeps nothing
        assert session.execute(select(ImportRun)).first() is None
        assert session.execute(select(Client).where(Client.external_id == "C00001")).first() is None


def test_cancel_stops_a_running_import_and_running_it_again_completes_it_once(
    logged_in: TestClient,
    web_settings: Settings,
    seeded: sessionmaker[Session],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    content = big_purchases(30_000)
    with seeded() as session:
        before = session.scalar(select(func.count()).select_from(Order)) or 0
    preview = start_big_preview(logged_in, 30_000)
    until(logged_in, preview, 'data-state="running"', seconds=300)
    # Each chunk written waits until the cancel is sent: the import is still running when it
    # arrives, however fast the machine writes.
    cancel_sent = threading.Event()
    write_chunk = Ingest.purchases

    def held(self: Ingest, rows: Any) -> Any:
        written = write_chunk(self, rows)
        cancel_sent.wait(STOPPED_WITHIN * 6)
        return written

    monkeypatch.setattr(Ingest, "purchases", held)
    csrf = csrf_from(logged_in.get("/imports").text)
    confirmed = logged_in.post(f"{preview}/confirm", data={"csrf_token": csrf})
    assert confirmed.status_code == 303, confirmed.text
    run_page = confirmed.headers["location"]
    import_id = int(run_page.rsplit("/", 1)[1])
    jobs = logged_in.app.state.import_jobs  # type: ignore[attr-defined]
    running = next(p for p in jobs._previews.values() if p.import_id == import_id)
    assert 'id="cancel-running-import"' in logged_in.get(run_page).text
    assert logged_in.post(f"{run_page}/cancel", data={"csrf_token": csrf}).status_code == 303
    cancel_sent.set()
    assert running.real is not None
    running.real.join(STOPPED_WITHIN)
    assert not running.real.is_alive()
    with seeded() as session:
        run = session.get(ImportRun, import_id)
        assert run is not None and run.status == "failed"
        assert "cancelled at line" in run.summary["error"]
        kept = session.scalar(select(func.count()).select_from(Order)) or 0
    assert list(web_settings.upload_dir.iterdir()) == []
    again = tmp_path / "again.csv"
    again.write_bytes(content)
    done = import_file(seeded, web_settings, FileKind.PURCHASES, again, now=NOW)
    assert done.errors == [] and done.read == 30_000
    orders = {line.split(",", 1)[0] for line in content.decode().splitlines()[1:]}
    with seeded() as session:
        after = session.scalar(select(func.count()).select_from(Order)) or 0
    assert after - before == len(orders)
    assert kept - before < len(orders), "the import ended before the cancel; it proves nothing"


def dead_pid() -> int:
    """The pid of a process that has ended."""
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(child.stdout)


def test_imports_a_stopped_process_left_running_are_marked_failed_as_the_app_starts(
    seeded: sessionmaker[Session], web_settings: Settings
) -> None:
    here = socket.gethostname()
    owners = {
        "killed here": {"running_on": f"{here}:{dead_pid()}:a1b2c3d4"},
        "this pid's earlier life": {"running_on": f"{here}:{os.getpid()}:0000"},
        "silent elsewhere": {
            "running_on": "other-host:12:ffff",
            "alive_at": (NOW - timedelta(minutes=30)).isoformat(),
        },
        "busy elsewhere": {
            "running_on": "other-host:13:eeee",
            "alive_at": (NOW - timedelta(seconds=20)).isoformat(),
        },
    }
    with seeded.begin() as session:
        for name, summary in owners.items():
            session.add(
                ImportRun(
                    kind="purchases",
                    file_name=f"{name}.csv",
                    sha256="0" * 64,
                    started_at=NOW - timedelta(hours=1),
                    counts={},
                    status="running",
                    summary=summary,
                )
            )
    with TestClient(create_app(web_settings, clock=lambda: NOW), follow_redirects=False) as http:
        assert log_in(http).status_code == 303
        assert "failed" in http.get("/imports").text
    with seeded() as session:
        status = {
            r.file_name: (r.status, r.summary.get("error"))
            for r in session.execute(select(ImportRun)).scalars()
        }
    assert status["busy elsewhere.csv"] == ("running", None)
    for name in ("killed here", "this pid's earlier life", "silent elsewhere"):
        state, error = status[f"{name}.csv"]
        assert state == "failed" and "import the file again" in error


UNDEFINED = bytes([0x81, 0x8D, 0x8F, 0x90, 0x9D])


def test_bytes_cp1252_leaves_undefined_are_replaced_and_reported_on_the_preview(
    logged_in: TestClient, web_settings: Settings
) -> None:
    content = SHOPIFY.encode("cp1252").replace(b"Ada Lindqvist", b"Ada " + UNDEFINED + b"\xe9")
    status, text, target = post_file(logged_in, content)
    assert status == 303, text
    fragment = until(logged_in, target, 'data-state="running"')
    assert "5 bytes could not be read as cp1252 and were replaced" in fragment


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, "not a CSV file"),
        ("Name,Email\n".encode("utf-16"), "not a CSV file"),
        (b"\xff\xfe\x00\x00" + random.Random(13).randbytes(4096), "not a CSV file"),
        (UNDEFINED * 100 + b"\n", "no import profile fits"),
    ],
    ids=["png", "utf-16", "random", "undefined-bytes-only"],
)
def test_a_file_that_is_not_an_export_is_refused_clearly_and_not_kept(
    logged_in: TestClient, web_settings: Settings, content: bytes, words: str
) -> None:
    status, text, _ = post_file(logged_in, content, name="photo.csv")
    assert status == 422, text
    assert words in text and str(web_settings.upload_dir) not in text
    assert list(web_settings.upload_dir.iterdir()) == []


def test_the_upload_row_and_column_limits_are_named_and_nothing_is_kept(
    seeded: sessionmaker[Session], web_settings: Settings
) -> None:
    small = dataclasses.replace(
        web_settings, imports={"max_upload_mb": 1, "max_rows": 10, "max_columns": 500}
    )
    with TestClient(create_app(small, clock=lambda: NOW), follow_redirects=False) as http:
        assert log_in(http).status_code == 303
        status, text, _ = post_file(http, b"a," * (600 * 1024))
        assert status == 422 and "imports.max_upload_mb" in text and "1 MB" in text
        wide = ",".join(f"c{i}" for i in range(100_000)).encode() + b"\n"
        status, text, _ = post_file(http, wide)
        assert status == 422 and "imports.max_columns" in text and "100,000 columns" in text
        status, text, target = post_file(http, big_purchases(100), profile="kind:purchases")
        assert status == 303, text
        fragment = until(http, target, 'data-state="running"')
        assert "imports.max_rows" in fragment and "more than the 10 rows" in fragment
    assert list(web_settings.upload_dir.iterdir()) == []
