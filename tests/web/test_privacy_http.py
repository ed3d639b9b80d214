"""Export, erasure and the audit log over HTTP: owner only, audited, on the client's page."""

from __future__ import annotations

import io
import json
import zipfile

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from goodwill.store.models import Client
from tests.conftest import NOW
from tests.privacy.people import EMAIL, NAME, person
from tests.web.conftest import csrf_from, log_in
from tests.web.sample import staff_user


def _zoltana(seeded: sessionmaker[Session]) -> int:
    with seeded.begin() as session:
        return person(session, now=NOW)


def test_the_owner_exports_and_erases_a_client_over_the_api(
    http: TestClient, seeded: sessionmaker[Session], token: str
) -> None:
    cid = _zoltana(seeded)
    auth = {"Authorization": f"Bearer {token}"}
    response = http.get(f"/api/v1/clients/%23{cid}/export", headers=auth)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["cache-control"] == "no-store"
    document = json.loads(zipfile.ZipFile(io.BytesIO(response.content)).read("client.json"))
    assert document["tables"]["clients"][0]["email"] == EMAIL
    refused = http.post(f"/api/v1/clients/%23{cid}/erase", headers=auth, json={"reason": ""})
    assert refused.status_code == 422
    response = http.post(f"/api/v1/clients/%23{cid}/erase", headers=auth, json={"reason": "asked"})
    assert response.status_code == 200, response.text
    assert response.json()["counts"]["messages"] == 1
    with seeded() as session:
        assert session.get(Client, cid).name == f"Erased client #{cid}"  # type: ignore[union-attr]
    assert http.get("/api/v1/clients/%23999999/export", headers=auth).status_code == 404


def test_staff_may_not_export_erase_or_read_the_audit_log(
    http: TestClient, seeded: sessionmaker[Session]
) -> None:
    cid = _zoltana(seeded)
    with seeded.begin() as session:
        staff_user(session, now=NOW, email="sam@example.com", name="Sam", role="staff")
    assert log_in(http, "sam@example.com").status_code == 303
    token = csrf_from(http.get("/clients").text)
    assert http.post(f"/clients/%23{cid}/export", data={"csrf_token": token}).status_code == 403
    form = {"csrf_token": token, "reason": "x", "confirm": "yes"}
    assert http.post(f"/clients/%23{cid}/erase", data=form).status_code == 403
    assert http.get("/audit").status_code == 403
    with seeded() as session:
        assert session.get(Client, cid).name == NAME  # type: ignore[union-attr]


def test_the_owner_erases_from_the_client_page_and_sees_it_in_the_audit_log(
    logged_in: TestClient, seeded: sessionmaker[Session]
) -> None:
    cid = _zoltana(seeded)
    page = logged_in.get(f"/clients/%23{cid}")
    assert "Changes by staff" in page.text and "Erase client" in page.text
    assert f'href="/audit?client=%23{cid}"' in page.text
    token = csrf_from(page.text)
    exported = logged_in.post(f"/clients/%23{cid}/export", data={"csrf_token": token})
    assert exported.status_code == 200 and exported.content[:2] == b"PK"
    unconfirmed = {"csrf_token": token, "reason": "asked by phone"}
    assert logged_in.post(f"/clients/%23{cid}/erase", data=unconfirmed).status_code == 422
    form = {**unconfirmed, "confirm": "yes"}
    response = logged_in.post(f"/clients/%23{cid}/erase", data=form)
    assert response.status_code == 303
    page = logged_in.get(response.headers["location"])
    assert NAME not in page.text
    assert "erased the client" in page.text and "exported everything held" in page.text
    audit = logged_in.get("/audit", params={"action": "client", "client": f"#{cid}"})
    assert audit.status_code == 200
    assert "client.erased" in audit.text and "asked by phone" in audit.text
    assert "client.exported" in audit.text
    assert logged_in.get("/audit", params={"since": "not a day"}).status_code == 422
    only_exports = logged_in.get("/audit", params={"action": "client.exported"})
    assert "client.erased" not in only_exports.text
