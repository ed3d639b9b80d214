"""Duplicates and merging over HTTP: the API, the pages, and who may merge."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from goodwill.store.models import Client, Event
from goodwill.store.staff import create_token, user_by_email
from tests.conftest import NOW
from tests.privacy.people import person
from tests.web.conftest import csrf_from, log_in
from tests.web.sample import staff_user


def _pair(seeded: sessionmaker[Session]) -> tuple[int, int]:
    """Two records of one person: the same phone, and a similar name at one postcode."""
    with seeded.begin() as session:
        keep = person(session, now=NOW, key="A")
        other = person(session, now=NOW, key="B", name="Zoltana Quibbleworth", email="zq@x.org")
        for cid in (keep, other):
            client = session.get(Client, cid)
            assert client is not None
            client.postcode = "1011 AB"
    return keep, other


def _staff_token(seeded: sessionmaker[Session]) -> str:
    with seeded.begin() as session:
        staff_user(session, now=NOW, email="sam@example.com", name="Sam Staff", role="staff")
        return create_token(session, user_by_email(session, "sam@example.com"), label="t", now=NOW)


def test_the_api_lists_the_pair_and_merges_it_once(
    http: TestClient, seeded: sessionmaker[Session], token: str
) -> None:
    keep, other = _pair(seeded)
    auth = {"Authorization": f"Bearer {token}"}
    found = http.get("/api/v1/clients/duplicates", headers=auth)
    assert found.status_code == 200, found.text
    pair = next(p for p in found.json()["pairs"] if p["keep"]["id"] == keep)
    assert pair["other"]["id"] == other and pair["other"]["ref"] == "C-B"
    assert [r["kind"] for r in pair["reasons"]] == ["name_postcode"]
    assert "same postcode 1011 AB" in pair["reasons"][0]["text"]
    itself = http.post("/api/v1/clients/C-A/merge", headers=auth, json={"other": "C-A"})
    assert itself.status_code == 422 and itself.json()["field"] == "other"
    missing = http.post("/api/v1/clients/C-A/merge", headers=auth, json={"other": "C-ZZZ"})
    assert missing.status_code == 404
    stale = http.post(
        "/api/v1/clients/C-A/merge", headers=auth, json={"other": "C-B", "other_version": 9}
    )
    assert stale.status_code == 409 and stale.json()["field"] == "other_version"
    merged = http.post("/api/v1/clients/C-A/merge", headers=auth, json={"other": "C-B"})
    assert merged.status_code == 200, merged.text
    body = merged.json()
    assert body["keep"]["id"] == keep and body["other"]["ref"] == "C-B"
    assert body["moved"]["orders"] == 1 and body["moved"]["conversations"] == 1
    assert {"kind": "external_id", "value": "C-B"} in body["identities"]
    again = http.post("/api/v1/clients/C-A/merge", headers=auth, json={"other": "C-B"})
    # C-B is now an identifier of the kept record: merging it again is a merge with itself.
    assert again.status_code == 422 and again.json()["field"] == "other"
    with seeded() as session:
        event = session.execute(select(Event).where(Event.type == "client.merged")).scalar_one()
        assert event.source == "api" and event.payload["by"] == "Olive Owner"
        assert event.payload["by_id"] is not None
    pairs = http.get("/api/v1/clients/duplicates", headers=auth).json()["pairs"]
    assert all(other not in (p["keep"]["id"], p["other"]["id"]) for p in pairs)


def test_staff_may_list_duplicates_but_not_merge(
    http: TestClient, seeded: sessionmaker[Session]
) -> None:
    _pair(seeded)
    auth = {"Authorization": f"Bearer {_staff_token(seeded)}"}
    assert http.get("/api/v1/clients/duplicates", headers=auth).status_code == 200
    refused = http.post("/api/v1/clients/C-A/merge", headers=auth, json={"other": "C-B"})
    assert refused.status_code == 403
    assert log_in(http, "sam@example.com").status_code == 303
    page = http.get("/clients/duplicates")
    assert page.status_code == 200 and "Zoltana" in page.text and "Merge…" not in page.text
    assert http.get("/clients/C-A/merge", params={"other": "C-B"}).status_code == 403
    form = {"csrf_token": csrf_from(page.text), "other": "C-B"}
    assert http.post("/clients/C-A/merge", data=form).status_code == 403
    with seeded() as session:
        assert session.execute(select(Client).where(Client.external_id == "C-B")).scalar_one()


def test_a_manager_previews_side_by_side_and_confirms_on_the_pages(
    http: TestClient, seeded: sessionmaker[Session]
) -> None:
    keep, other = _pair(seeded)
    with seeded.begin() as session:
        staff_user(session, now=NOW, email="mia@example.com", name="Mia Manager", role="manager")
    assert log_in(http, "mia@example.com").status_code == 303
    listing = http.get("/clients/duplicates")
    assert 'href="/clients/C-A/merge?other=C-B"' in listing.text
    assert "similar names" in listing.text
    preview = http.get("/clients/C-A/merge", params={"other": "C-B"})
    assert preview.status_code == 200
    assert "Merge into Zoltana Quibbleworth" in preview.text and "C-B" in preview.text
    assert (
        'data-kind="orders"' in preview.text and "Keep Zoltana Quibbleworth instead" in preview.text
    )
    token = csrf_from(preview.text)
    itself = http.post("/clients/C-A/merge", data={"csrf_token": token, "other": "C-A"})
    assert itself.status_code == 422 and "itself" in itself.text
    empty = http.post("/clients/C-A/merge", data={"csrf_token": token})
    assert empty.status_code == 422
    form = {"csrf_token": token, "other": "C-B", "keep_version": "1", "other_version": "1"}
    done = http.post("/clients/C-A/merge", data=form)
    assert done.status_code == 303 and done.headers["location"] == f"/clients/%23{keep}"
    page = http.get(done.headers["location"])
    assert "Merged Zoltana Quibbleworth (C-B) into this record" in page.text
    with seeded() as session:
        assert session.get(Client, other) is None


def test_the_merge_and_duplicates_operations_document_their_errors(http: TestClient) -> None:
    spec = http.get("/openapi.json").json()
    merge = spec["paths"]["/api/v1/clients/{ref}/merge"]["post"]["responses"]
    assert {"200", "401", "403", "404", "409", "422"} <= set(merge)
    assert "/api/v1/clients/duplicates" in spec["paths"]
