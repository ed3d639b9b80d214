"""The API does what /openapi.json says: schemathesis against a real server, and the codes it found.

The run is bounded (examples per operation, deterministic generation) so it gives the same cases
every time; it uses every default check of schemathesis (server errors, undocumented status codes
and content types, response schemas, schema-violating requests accepted, schema-valid requests
rejected, wrong answers to undeclared methods, authentication ignored, ...). ``/healthz`` is left
out: it answers 503 on purpose when the worker is behind, which the server-error check counts.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi.testclient import TestClient

from goodwill.settings import load_settings
from goodwill.store.database import open_store
from goodwill.store.staff import create_token, user_by_email
from goodwill.web import create_app
from tests.conftest import NOW
from tests.web.sample import sample_business, staff_user

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = 25


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(base URL, owner's API token) of a real uvicorn server over a seeded SQLite database."""
    url = f"sqlite:///{tmp_path / 'goodwill.db'}"
    store = open_store(url)
    with store.begin() as session:
        staff_user(session, now=NOW)
        sample_business(session, now=NOW)
        token = create_token(
            session, user_by_email(session, "owner@example.com"), label="contract", now=NOW
        )
    store.kw["bind"].dispose()
    settings = dataclasses.replace(
        load_settings(database_url=url, environ={}),
        secret_key="test-signing-key",
        mail={"from_address": "care@shop.example"},
    )
    port = _free_port()
    config = uvicorn.Config(
        create_app(settings, clock=lambda: NOW),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        server_header=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive(), "the server stopped while starting"
        assert time.monotonic() < deadline, "the server did not start within 30 s"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", token
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def test_schemathesis_finds_nothing_the_schema_does_not_say(
    served: tuple[str, str], tmp_path: Path
) -> None:
    base, token = served
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        "SCHEMATHESIS_HOOKS": "tests.web.schemathesis_hooks",
        "NO_COLOR": "1",
    }
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(ROOT / "tests" / "web" / "schemathesis.toml"),
        "run",
        f"{base}/openapi.json",
        "--header",
        f"Authorization: Bearer {token}",
        "--max-examples",
        str(EXAMPLES),
        "--generation-deterministic",
        "--workers",
        "1",
        "--include-path-regex",
        "^/api/v1/",
        "--request-timeout",
        "20",
        "--no-color",
    ]
    run = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-5000:]
    assert "passed" in run.stdout and "failures" not in run.stdout.split("SUMMARY")[-1]


# -- what the run found, pinned -------------------------------------------------------------


@pytest.fixture
def api(http: TestClient, token: str) -> tuple[TestClient, dict[str, str]]:
    return http, {"Authorization": f"Bearer {token}"}


def test_a_wrong_method_is_405_with_every_allowed_method(
    api: tuple[TestClient, dict[str, str]],
) -> None:
    http, auth = api
    assess = http.get("/api/v1/incidents/assess", headers=auth)
    assert assess.status_code == 405 and assess.headers["allow"] == "POST"
    incidents = http.delete("/api/v1/incidents", headers=auth)
    assert incidents.status_code == 405 and incidents.headers["allow"] == "GET, POST"


def test_numbers_are_not_read_as_days_or_instants(api: tuple[TestClient, dict[str, str]]) -> None:
    http, auth = api
    assert http.get("/api/v1/at-risk?as_of=0", headers=auth).status_code == 422
    assert http.get("/api/v1/at-risk?as_of=0001-01-01", headers=auth).status_code == 422
    assert http.get("/api/v1/at-risk?as_of=2026-11-23", headers=auth).status_code == 200
    assert http.get("/api/v1/followups?due_before=0.5", headers=auth).status_code == 422
    event = {"type": "lead.created", "email": "a@example.com", "occurred_at": 0}
    assert http.post("/api/v1/events", json=event, headers=auth).status_code == 422


def test_ids_beyond_any_record_and_unknown_values_are_refused_as_documented(
    api: tuple[TestClient, dict[str, str]],
) -> None:
    http, auth = api
    huge = 2**80
    assert http.get(f"/api/v1/followups/{huge}", headers=auth).status_code == 422
    assert http.get(f"/api/v1/conversations/{huge}", headers=auth).status_code == 422
    assert http.get("/api/v1/followups/99999", headers=auth).status_code == 404
    assert http.get("/api/v1/incidents?status=", headers=auth).status_code == 422
    assert http.get("/api/v1/followups?status=later", headers=auth).status_code == 422
    nobody = {"type": "lead.created", "occurred_at": "2026-11-23T10:00:00Z"}
    refused = http.post("/api/v1/events", json=nobody, headers=auth)
    assert refused.status_code == 422 and "client_id or email" in refused.json()["message"]


def test_the_schema_names_every_code_and_rule(http: TestClient) -> None:
    schema = http.get("/openapi.json").json()
    paths = schema["paths"]
    for path, operations in paths.items():
        if not path.startswith("/api/v1/"):
            continue
        for method, operation in operations.items():
            assert {"400", "401", "422"} <= set(operation["responses"]), (method, path)
    one = paths["/api/v1/followups/{followup_id}"]["get"]["responses"]
    assert {"403", "404"} <= set(one)
    listing = paths["/api/v1/followups"]["get"]
    assert {"403", "404"} <= set(listing["responses"])
    status = next(p for p in listing["parameters"] if p["name"] == "status")
    assert status["schema"]["enum"] == ["open", "done", "closed"]
    event = schema["components"]["schemas"]["EventIn"]
    assert "lead.created" in event["properties"]["type"]["enum"]
    assert event["anyOf"] == [
        {"required": ["client_id"], "properties": {"client_id": {"type": "string"}}},
        {"required": ["email"], "properties": {"email": {"type": "string"}}},
    ]
