"""Headers and files around personal data: no caching, no device access, no server banner,
files only their owner reads, and links never built from a Host header that came from outside."""

from __future__ import annotations

import dataclasses
import io
import os
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from goodwill.settings import Settings, load_settings
from goodwill.store.database import open_store
from goodwill.web import create_app
from goodwill.web.import_jobs import ImportJobs
from tests.conftest import NOW
from tests.web.conftest import csrf_from, log_in
from tests.web.sample import staff_user

GOODWILL = str(Path(sys.executable).parent / "goodwill")


def test_personal_data_is_never_cached_and_pages_ask_for_no_devices(
    logged_in: TestClient, token: str
) -> None:
    api = {"Authorization": f"Bearer {token}"}
    for path, headers in (
        ("/today", {}),
        ("/clients", {}),
        ("/at-risk.csv", {}),
        ("/api/v1/clients", api),
        ("/api/v1/followups", api),
    ):
        response = logged_in.get(path, headers=headers)
        assert response.status_code == 200, path
        assert response.headers["cache-control"] == "no-store", path
        policy = response.headers["permissions-policy"]
        assert "camera=()" in policy and "microphone=()" in policy and "geolocation=()" in policy
    static = logged_in.get("/static/goodwill.css")
    assert static.status_code == 200 and static.headers.get("cache-control") != "no-store"


def test_the_database_and_uploads_are_readable_by_their_owner_only(
    tmp_path: Path,
) -> None:
    old = os.umask(0o022)
    try:
        folder = tmp_path / "data" / "goodwill"
        store = open_store(f"sqlite:///{folder / 'goodwill.db'}")
        with store.begin() as session:
            staff_user(session, now=NOW)
        settings = dataclasses.replace(
            load_settings(database_url=f"sqlite:///{folder / 'goodwill.db'}", environ={}),
            uploads=tmp_path / "uploads",
        )
        saved = ImportJobs(store, settings).save(io.BytesIO(b"a,b\n1,2\n"), file_name="c.csv")
        store.kw["bind"].dispose()
    finally:
        os.umask(old)
    for path in (folder, folder.parent, saved.parent, settings.upload_dir):
        assert stat.S_IMODE(path.stat().st_mode) == 0o700, path
    for path in (folder / "goodwill.db", saved):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    wal = folder / "goodwill.db-wal"
    assert not wal.exists() or stat.S_IMODE(wal.stat().st_mode) == 0o600


def test_links_are_built_from_public_url_never_from_a_foreign_host(
    settings: Settings, seeded: sessionmaker[Session]
) -> None:
    bare = dataclasses.replace(settings, secret_key="test-signing-key", public_url=None)
    for base, shown in (
        ("http://evil.example", None),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000/calendar/"),
        ("http://localhost", "http://localhost/calendar/"),
    ):
        with TestClient(create_app(bare, clock=lambda: NOW), base_url=base) as http:
            log_in(http)
            page = _new_link_page(http)
            if shown is None:
                assert "evil.example" not in page and 'id="feed-url-missing"' in page
                assert "public_url" in page
            else:
                assert f'value="{shown}' in page
    public = dataclasses.replace(bare, public_url="https://care.shop.example")
    # https: the session cookie is Secure once public_url is https.
    with TestClient(create_app(public, clock=lambda: NOW), base_url="https://evil.example") as http:
        log_in(http)
        page = _new_link_page(http)
        assert 'value="https://care.shop.example/calendar/' in page and "evil.example" not in page


def _new_link_page(http: TestClient) -> str:
    """The Today page right after making a calendar link (the one time it shows the link)."""
    csrf = csrf_from(http.get("/today").text)
    made = http.post("/calendar/new-link", data={"csrf_token": csrf}, follow_redirects=False)
    assert made.status_code == 303
    return http.get("/today").text


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_goodwill_serve_names_no_server_software(tmp_path: Path) -> None:
    port = _free_port()
    db = f"sqlite:///{tmp_path / 'goodwill.db'}"
    server = subprocess.Popen(
        [GOODWILL, "--db", db, "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                assert time.monotonic() < deadline, "goodwill serve did not answer within 60 s"
                time.sleep(0.2)
        assert response.status_code == 200
        assert "server" not in response.headers
        assert response.headers["cache-control"] == "no-store"
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_the_calendar_link_command_prints_the_public_url_or_where_serve_listens(
    tmp_path: Path,
) -> None:
    db = f"sqlite:///{tmp_path / 'goodwill.db'}"
    env = {**os.environ, "GOODWILL_NEW_PASSWORD": "correct horse battery"}
    add = [GOODWILL, "--db", db, "user", "add", "--email", "ann@example.com", "--name", "Ann"]
    assert subprocess.run(add, env=env, capture_output=True, check=False).returncode == 0
    link = subprocess.run(
        [GOODWILL, "--db", db, "user", "calendar-link", "ann@example.com"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert link.returncode == 0, link.stderr
    assert link.stdout.startswith("http://127.0.0.1:8000/calendar/")
    assert "works only on this computer" in link.stderr  # no public_url: says what to set
    assert "set public_url" in link.stderr
    config = tmp_path / "goodwill.toml"
    config.write_text('public_url = "https://care.shop.example/"\n', "utf-8")
    public = subprocess.run(
        [GOODWILL, "--db", db, "--config", str(config), "user", "calendar-link", "ann@example.com"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert public.stdout.startswith("https://care.shop.example/calendar/"), public.stderr
    assert "public_url" not in public.stderr
