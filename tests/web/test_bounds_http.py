"""Every request is bounded, against a real `goodwill serve`: bodies over the limit get 413 before
anything reads them (authentication, the CSRF check, the multipart parser), ids too large for the
database get 404 or 422, a full server sheds load with 503 while /healthz answers, a request that
runs too long gets 504, and `--workers 2` serves from two processes (SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses
import http.client
import json
import sqlite3
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from goodwill.errors import ConfigError
from goodwill.settings import Settings, load_settings
from goodwill.store.database import open_store
from goodwill.store.staff import create_token, user_by_email
from goodwill.web import create_app
from tests.conftest import NOW
from tests.web.sample import PASSWORD, sample_business, staff_user
from tests.web.served import children, cmdline, holder_of, raw_request, served, status_of

HUGE = "99999999999999999999999"
BOUNDS = """
secret_key = "test-signing-key"
uploads = "uploads"

[server]
max_body_bytes = 65536
max_upload_bytes = 262144
request_timeout = 2
max_concurrent = 2

[mail]
max_message_bytes = 131072
"""
SHOPIFY_HEADER = (
    b"Name,Email,Financial Status,Paid at,Currency,Subtotal,Total,Refunded Amount,Created at,"
    b"Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,Billing Name,Vendor,"
    b"Cancelled at,Source\n"
)
EVENT = {"type": "lead.created", "email": "new@example.com", "occurred_at": NOW.isoformat()}


@dataclasses.dataclass(frozen=True)
class Server:
    base: str
    database: Path
    token: str
    cookie: str
    csrf: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def page_headers(self) -> dict[str, str]:
        return {"Cookie": self.cookie, "X-CSRF-Token": self.csrf}


def _seed(url: str) -> str:
    """A staff user, the sample business and an API token; the token."""
    store = open_store(url)
    with store.begin() as session:
        staff_user(session, now=NOW)
        sample_business(session, now=NOW)
        token = create_token(
            session, user_by_email(session, "owner@example.com"), label="tests", now=NOW
        )
    store.kw["bind"].dispose()
    return token


def _log_in(base: str) -> tuple[str, str]:
    """The session cookie and CSRF token of the owner, logged in over HTTP."""
    with httpx.Client(base_url=base, follow_redirects=False, timeout=30) as browser:
        page = browser.get("/login").text
        token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        form = {"email": "owner@example.com", "password": PASSWORD, "csrf_token": token}
        assert browser.post("/login", data=form).status_code == 303
        today = browser.get("/today").text
        csrf = today.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        # Both cookies: the server-side session's id and the signed one holding the CSRF token.
        cookies = "; ".join(
            f"{name}={browser.cookies[name]}" for name in ("goodwill_sid", "goodwill_session")
        )
        return cookies, csrf


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("bounds")
    database = folder / "goodwill.db"
    url = f"sqlite:///{database}"
    token = _seed(url)
    config = folder / "goodwill.toml"
    config.write_text(BOUNDS, encoding="utf-8")
    with served(url, config) as (base, _process):
        cookie, csrf = _log_in(base)
        yield Server(base=base, database=database, token=token, cookie=cookie, csrf=csrf)


def test_a_declared_body_over_the_limit_is_refused_with_413_before_authentication(
    server: Server,
) -> None:
    head = (
        "POST /api/v1/messages HTTP/1.1\r\nHost: goodwill\r\nContent-Type: message/rfc822\r\n"
        "Content-Length: 300000000"
    )
    answer = raw_request(server.base, head)  # not one byte of the body is sent
    assert status_of(answer) == 413
    body = json.loads(answer.partition(b"\r\n\r\n")[2])
    assert body["code"] == "too_large"
    assert body["limit"] == 131072
    assert "128 KiB" in body["message"]


def test_a_chunked_body_is_refused_with_413_once_it_passes_the_limit(server: Server) -> None:
    head = (
        "POST /api/v1/events HTTP/1.1\r\nHost: goodwill\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked"
    )
    chunk = b"x" * 16384
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(6))  # 96 KiB, no end
    answer = raw_request(server.base, head, body)
    assert status_of(answer) == 413
    assert b"64 KiB" in answer


def test_a_chunked_body_under_the_limit_reaches_authentication(server: Server) -> None:
    head = (
        "POST /api/v1/events HTTP/1.1\r\nHost: goodwill\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked"
    )
    payload = json.dumps(EVENT).encode()
    answer = raw_request(server.base, head, b"%x\r\n%s\r\n0\r\n\r\n" % (len(payload), payload))
    assert status_of(answer) == 401


def test_the_import_upload_alone_takes_the_larger_upload_limit(server: Server) -> None:
    head = "POST {path} HTTP/1.1\r\nHost: goodwill\r\nContent-Length: {length}\r\n"
    head += "Content-Type: multipart/form-data; boundary=b"  # and no session: refused unread
    assert status_of(raw_request(server.base, head.format(path="/imports", length=300_000))) == 413
    smaller = raw_request(server.base, head.format(path="/imports", length=200_000))
    assert status_of(smaller) == 403  # within the upload limit; the CSRF check refuses it
    other = raw_request(server.base, head.format(path="/followups/1/complete", length=200_000))
    assert status_of(other) == 413


def _multipart(parts: list[tuple[str, bytes]]) -> bytes:
    out = b""
    for name, value in parts:
        filename = '; filename="clients.csv"' if name == "file" else ""
        out += (
            f'--b\r\nContent-Disposition: form-data; name="{name}"{filename}\r\n\r\n'.encode()
            + value
            + b"\r\n"
        )
    return out


def _upload_head(server: Server, *, length: int, cookie: bool = True) -> str:
    head = "POST /imports HTTP/1.1\r\nHost: goodwill\r\n"
    head += "Content-Type: multipart/form-data; boundary=b\r\n"
    if cookie:
        head += f"Cookie: {server.cookie}\r\n"
    return head + f"Content-Length: {length}"


def test_csrf_refuses_an_upload_with_a_wrong_token_without_reading_the_file(
    server: Server,
) -> None:
    start = _multipart([("csrf_token", b"forged"), ("file", b"client_id,name\r\n" * 100)])
    # The client declares 200,000 bytes but sends only the start; the answer comes anyway.
    answer = raw_request(server.base, _upload_head(server, length=200_000), start)
    assert status_of(answer) == 403
    assert b"did not come from goodwill" in answer


def test_csrf_refuses_an_upload_without_a_token_after_reading_only_its_start(
    server: Server,
) -> None:
    start = _multipart([("file", b"client_id,name\r\n" * 6000)])  # about 96 KiB, no token
    answer = raw_request(server.base, _upload_head(server, length=250_000), start)
    assert status_of(answer) == 403


def test_csrf_refuses_an_upload_without_a_session_before_reading_anything(
    server: Server,
) -> None:
    answer = raw_request(server.base, _upload_head(server, length=250_000, cookie=False))
    assert status_of(answer) == 403


def test_an_upload_with_its_token_reaches_the_import_page_whole(server: Server) -> None:
    rows = SHOPIFY_HEADER + b"".join(
        b"#%d,ada@example.org,paid,2026-03-02 10:15:00 +0100,EUR,120.00,120.00,0.00,"
        b"2026-03-02 10:14:00 +0100,1,Walnut desk lamp,120.00,LAMP-1,Ada Lindqvist,Lumen,,web\n"
        % (1000 + n)
        for n in range(800)
    )  # about 150 KB: past the part the CSRF check looks at, within the upload limit
    body = _multipart([("csrf_token", server.csrf.encode()), ("file", rows)]) + b"--b--\r\n"
    answer = raw_request(server.base, _upload_head(server, length=len(body)), body)
    assert status_of(answer) == 303, answer.split(b'id="upload-error">')[-1][:300]
    assert b"location: /imports/preview/" in answer.lower()


API_HUGE = [
    ("GET", f"/api/v1/followups/{HUGE}", 422),
    ("POST", f"/api/v1/followups/{HUGE}/complete", 422),
    ("GET", f"/api/v1/incidents/{HUGE}", 422),
    ("POST", f"/api/v1/incidents/{HUGE}/confirm", 422),
    ("GET", f"/api/v1/conversations/{HUGE}", 422),
    ("GET", f"/api/v1/clients/%23{HUGE}", 404),
    ("GET", f"/api/v1/clients/%23{HUGE}/timeline", 404),
    ("GET", f"/api/v1/clients?offset={HUGE}", 422),
    ("GET", f"/api/v1/clients?limit={HUGE}", 422),
    ("GET", f"/api/v1/followups/{'9' * 5000}", 422),
]


@pytest.mark.parametrize(("method", "path", "status"), API_HUGE)
def test_huge_ids_in_the_api_give_404_or_422(
    server: Server, method: str, path: str, status: int
) -> None:
    body = {"outcome": "called"} if method == "POST" else None
    answer = httpx.request(method, server.base + path, json=body, headers=server.auth, timeout=30)
    assert answer.status_code == status, answer.text
    assert answer.json()["code"] == ("not_found" if status == 404 else "invalid")


PAGES_HUGE = [
    ("GET", f"/inbox/{HUGE}", 404),
    ("POST", f"/inbox/{HUGE}/check", 404),
    ("GET", f"/incidents/{HUGE}", 404),
    ("GET", f"/imports/{HUGE}", 404),
    ("GET", f"/inbox/attachments/{HUGE}", 404),
    ("GET", f"/inbox/unreadable/{HUGE}.eml", 404),
    ("GET", f"/clients/%23{HUGE}", 404),
    ("POST", f"/followups/{HUGE}/complete", 404),
    ("GET", f"/inbox/{'9' * 5000}", 404),
    ("GET", f"/incidents/new?conversation={HUGE}", 422),
]


@pytest.mark.parametrize(("method", "path", "status"), PAGES_HUGE)
def test_huge_ids_in_pages_give_404_or_422(
    server: Server, method: str, path: str, status: int
) -> None:
    form = {"text": "Hello", "outcome": "called"} if method == "POST" else None
    answer = httpx.request(
        method, server.base + path, data=form, headers=server.page_headers(), timeout=30
    )
    assert answer.status_code == status, answer.text[:500]


def test_a_full_server_sheds_load_with_503_and_a_slow_request_gets_504_while_healthz_answers(
    server: Server,
) -> None:
    clients = f"{server.base}/api/v1/clients"
    lock = sqlite3.connect(server.database, timeout=5, isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")  # every write now waits for this test
    try:
        with ThreadPoolExecutor(4) as pool:

            def write() -> Future[httpx.Response]:
                url = f"{server.base}/api/v1/events"
                return pool.submit(httpx.post, url, json=EVENT, headers=server.auth, timeout=60)

            stuck = [write(), write()]
            deadline = time.monotonic() + 30
            while (probe := httpx.get(clients, headers=server.auth, timeout=30)).status_code == 200:
                assert time.monotonic() < deadline, "the server never filled up"
                # A write that came while a probe was in progress was shed: send it again.
                stuck = [
                    write() if f.done() and f.result().status_code == 503 else f for f in stuck
                ]
                time.sleep(0.05)
            assert probe.status_code == 503
            assert probe.headers["Retry-After"] == "1"
            assert probe.json()["code"] == "busy"
            assert httpx.get(f"{server.base}/healthz", timeout=30).status_code == 200
            answers = [future.result() for future in stuck]
        # A write sent again may itself have met a full server (503): what matters is that
        # nothing waits past the timeout and the one that got in answers 504.
        codes = [a.status_code for a in answers]
        assert set(codes) <= {503, 504} and 504 in codes, codes
        assert answers[codes.index(504)].json()["code"] == "timeout"
        # The timed-out views still wait for the lock in their threads: still full.
        assert httpx.get(clients, headers=server.auth, timeout=30).status_code == 503
    finally:
        lock.rollback()
        lock.close()
    deadline = time.monotonic() + 60
    while httpx.get(clients, headers=server.auth, timeout=30).status_code != 200:
        assert time.monotonic() < deadline, "the server did not recover"
        time.sleep(0.1)


@pytest.fixture
def bounded_http(
    settings: Settings, seeded: sessionmaker[Session]
) -> Iterator[tuple[TestClient, str]]:
    bounded = dataclasses.replace(settings, secret_key="test-signing-key")
    with seeded.begin() as session:
        token = create_token(
            session, user_by_email(session, "owner@example.com"), label="tests", now=NOW
        )
    with TestClient(create_app(bounded, clock=lambda: NOW)) as client:
        yield client, token


def test_a_reply_text_over_its_length_gets_422_and_a_huge_one_413(
    bounded_http: tuple[TestClient, str],
) -> None:
    client, token = bounded_http
    auth = {"Authorization": f"Bearer {token}"}
    long = client.post("/api/v1/conversations/1/reply", json={"text": "a" * 100_001}, headers=auth)
    assert long.status_code == 422
    assert long.json()["errors"][0]["field"] == "text"
    huge = client.post(
        "/api/v1/conversations/1/reply", json={"text": "a" * 20_000_000}, headers=auth
    )
    assert huge.status_code == 413
    assert huge.json() == {
        "code": "too_large",
        "message": "the request body is larger than the limit of 1 MiB",
        "limit": 1048576,
    }


def test_the_openapi_schema_states_field_lengths(bounded_http: tuple[TestClient, str]) -> None:
    schemas = bounded_http[0].get("/openapi.json").json()["components"]["schemas"]
    assert schemas["ReplyIn"]["properties"]["text"]["maxLength"] == 100_000
    assert schemas["IncidentIn"]["properties"]["client"]["maxLength"] == 320
    assert schemas["EventIn"]["properties"]["payload"]["maxProperties"] == 200


def test_server_bounds_are_read_from_the_configuration(tmp_path: Path) -> None:
    config = tmp_path / "goodwill.toml"
    config.write_text(BOUNDS, encoding="utf-8")
    bounds = load_settings(config_path=config, environ={}).server
    assert bounds["max_body_bytes"] == 65536
    assert bounds["request_timeout"] == 2
    config.write_text("[server]\nmax_concurrent = 0\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"server\.max_concurrent must be a whole number above 0"):
        load_settings(config_path=config, environ={})


@pytest.mark.parametrize(
    "database", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_serve_with_two_workers_answers_from_two_processes(
    database: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = str(request.getfixturevalue("sqlite_url" if database == "sqlite" else "postgres_url"))
    token = _seed(url)
    config = tmp_path / "goodwill.toml"
    config.write_text('secret_key = "test-signing-key"\n', encoding="utf-8")
    with served(url, config, workers=2) as (base, process):
        port = int(base.rpartition(":")[2])
        workers = {pid for pid in children(process.pid) if "resource_tracker" not in cmdline(pid)}
        assert len(workers) == 2
        seen: set[int] = set()
        connections = []
        try:
            for _ in range(100):
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                connection.request(
                    "GET", "/api/v1/clients", headers={"Authorization": f"Bearer {token}"}
                )
                answer = connection.getresponse()
                assert answer.status == 200
                assert json.loads(answer.read())["total"] > 0
                connections.append(connection)
                holder = holder_of(port, connection.sock.getsockname()[1], workers)
                assert holder is not None
                seen.add(holder)
                if len(seen) == 2:
                    break
        finally:
            for connection in connections:
                connection.close()
        assert seen == workers


def test_huge_ids_give_404_or_422_on_both_databases(http: TestClient, token: str) -> None:
    """Record ids are 1 to 2**31 - 1 in the API's schema (422 beyond); a client reference is
    text, so a huge ``#id`` is a client that does not exist (404); 2**31 .. 2**63 too."""
    auth = {"Authorization": f"Bearer {token}"}
    for path in (
        f"/api/v1/followups/{HUGE}",
        f"/api/v1/incidents/{HUGE}",
        f"/api/v1/conversations/{HUGE}",
        f"/api/v1/followups/{2**31}",
    ):
        assert http.get(path, headers=auth).status_code == 422, path
    for ref in (HUGE, str(2**31), str(2**63)):
        assert http.get(f"/api/v1/clients/%23{ref}", headers=auth).status_code == 404, ref
