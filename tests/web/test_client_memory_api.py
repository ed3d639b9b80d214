"""Client memory over the JSON API: 201 then 200 on a retry, 409 with the changes on a stale
edit, 404 for an unknown client, 422 naming the field for bad input, nothing stored on refusal."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from goodwill.store.models import ClientFact, Event, Interaction, Order
from tests.web.sample import LONG_CLIENT

BASE = f"/api/v1/clients/{LONG_CLIENT}"


def _auth(token: str, key: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}"}
    return headers | ({"Idempotency-Key": key} if key else {})


def _count(store: sessionmaker[Session], model: type) -> int:
    with store() as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def test_facts_are_added_edited_with_their_version_and_removed(
    http: TestClient, token: str, seeded: sessionmaker[Session]
) -> None:
    body = {"kind": "event", "text": "Opens the second shop", "on_date": "2027-03-01"}
    added = http.post(f"{BASE}/facts", json=body, headers=_auth(token))
    assert added.status_code == 201, added.text
    fact = added.json()
    assert fact["on_date"] == "2027-03-01" and fact["author"] == "Olive Owner"
    assert http.post(f"{BASE}/facts", json=body, headers=_auth(token)).status_code == 200
    path = f"{BASE}/facts/{fact['id']}"
    edited = http.patch(path, json={"version": 1, "on_date": "2027-04-01"}, headers=_auth(token))
    assert edited.status_code == 200 and edited.json()["version"] == 2
    stale = http.patch(path, json={"version": 1, "text": "Closes"}, headers=_auth(token))
    assert stale.status_code == 409
    assert stale.json()["changes"][0] == {
        "field": "on_date",
        "before": "2027-03-01",
        "after": "2027-04-01",
        "who": "owner@example.com",
        "when": "2026-11-23T15:00:00+00:00",
    }
    assert http.delete(f"{path}?version=1", headers=_auth(token)).status_code == 409
    assert http.delete(f"{path}?version=2", headers=_auth(token)).status_code == 204
    assert http.delete(path, headers=_auth(token)).status_code == 404


def test_bad_input_is_refused_naming_the_field_and_changes_nothing(
    http: TestClient, token: str, seeded: sessionmaker[Session]
) -> None:
    before = (_count(seeded, ClientFact), _count(seeded, Event))
    cases = [
        ({"kind": "horoscope", "text": "Leo"}, "kind"),
        ({"kind": "event", "text": "Launch", "on_date": "soon"}, "on_date"),
        ({"kind": "event", "text": "Launch", "on_date": "2027-02-30"}, "on_date"),
        ({"kind": "event", "text": "Launch"}, "on_date"),
        ({"kind": "interest", "text": "x" * 1001}, "text"),
    ]
    for body, field in cases:
        refused = http.post(f"{BASE}/facts", json=body, headers=_auth(token))
        assert refused.status_code == 422, (body, refused.text)
        assert field in refused.json()["message"], refused.json()
    unknown = http.post(
        "/api/v1/clients/NO-SUCH/facts", json={"kind": "note", "text": "x"}, headers=_auth(token)
    )
    assert unknown.status_code == 404 and unknown.json()["code"] == "not_found"
    assert (_count(seeded, ClientFact), _count(seeded, Event)) == before


def test_notes_calls_sales_and_payments_answer_201_then_200_on_a_retry(
    http: TestClient, token: str, seeded: sessionmaker[Session]
) -> None:
    writes = [
        ("notes", {"text": "Prefers the Leeds shop", "pinned": True}),
        ("interactions", {"kind": "call", "text": "Asked about boots", "outcome": "Friday"}),
        ("orders", {"amount": "120.00", "items": ["Boots = 89.90", "Laces"]}),
        ("payments", {"amount": "45.50"}),
    ]
    for path, body in writes:
        first = http.post(f"{BASE}/{path}", json=body, headers=_auth(token, f"k-{path}"))
        assert first.status_code == 201, (path, first.text)
        again = http.post(f"{BASE}/{path}", json=body, headers=_auth(token, f"k-{path}"))
        assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert _count(seeded, Interaction) == 2
    with seeded() as session:
        order = session.execute(
            select(Order).where(Order.external_id == "counter/k-orders")
        ).scalar_one()
        assert order.amount_minor == 12000
        sources = (
            session.execute(select(Event.type).where(Event.source == "api").order_by(Event.id))
            .scalars()
            .all()
        )
        assert sources == [
            "note.added",
            "service.interaction",
            "order.placed",
            "invoice.issued",
            "payment.received",
        ]
    note_id = http.post(f"{BASE}/notes", json={"text": "Second"}, headers=_auth(token)).json()["id"]
    pinned = http.patch(
        f"{BASE}/notes/{note_id}", json={"version": 1, "pinned": True}, headers=_auth(token)
    )
    assert pinned.status_code == 200 and pinned.json()["pinned"] is True
    bad = http.post(f"{BASE}/orders", json={"amount": "0"}, headers=_auth(token))
    assert bad.status_code == 422 and "amount" in bad.json()["message"]
    odd = http.post(
        f"{BASE}/interactions", json={"kind": "poem", "text": "x"}, headers=_auth(token)
    )
    assert odd.status_code == 422 and "kind" in odd.json()["message"]


def test_the_schema_documents_every_memory_operation_and_its_errors(http: TestClient) -> None:
    paths = http.get("/openapi.json").json()["paths"]
    for path, methods in (
        ("/api/v1/clients/{ref}/facts", ("post",)),
        ("/api/v1/clients/{ref}/facts/{fact_id}", ("patch", "delete")),
        ("/api/v1/clients/{ref}/notes", ("post",)),
        ("/api/v1/clients/{ref}/notes/{note_id}", ("patch", "delete")),
        ("/api/v1/clients/{ref}/interactions", ("post",)),
        ("/api/v1/clients/{ref}/orders", ("post",)),
        ("/api/v1/clients/{ref}/payments", ("post",)),
    ):
        for method in methods:
            assert {"401", "404", "409", "422"} <= set(paths[path][method]["responses"]), path
