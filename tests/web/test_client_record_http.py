"""The client record over HTTP as people meet it: the add and edit forms, archive and restore,
contacts, and the same writes on the JSON API, with bad input refused and nothing changed."""

from __future__ import annotations

from urllib.parse import quote

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from goodwill.store.models import AuditEntry, Client, ClientIdentity, Contact, Event
from goodwill.store.staff import create_token, user_by_email
from tests.conftest import NOW
from tests.web.conftest import csrf_from, log_in
from tests.web.sample import LONG_CLIENT, staff_user

FORM = {
    "name": "Ana Lima",
    "email": "Ana.Lima@Example.com",
    "other_emails": "ana@work.example\n",
    "phone": "+351 912 345 678",
    "city": "Porto",
    "country": "pt",
    "timezone": "Europe/Lisbon",
    "contact_window": "mon-fri 09:00-12:00",
    "preferred_channel": "phone",
    "birthday": "--06-12",
    "client_since": "2004-03-01",
    "marketing_consent": "given",
    "consent_how": "signed at the counter",
}


def _counts(store: sessionmaker[Session]) -> tuple[int, int, int, int, int]:
    with store() as session:
        return tuple(  # type: ignore[return-value]
            session.execute(select(func.count()).select_from(model)).scalar_one()
            for model in (Client, ClientIdentity, Contact, Event, AuditEntry)
        )


def _form(http: TestClient, path: str) -> dict[str, str]:
    return {"csrf_token": csrf_from(http.get(path).text)}


def _margaret(store: sessionmaker[Session]) -> Client:
    with store() as session:
        client = session.execute(
            select(Client).where(Client.external_id == LONG_CLIENT)
        ).scalar_one()
        session.expunge(client)
        return client


def test_the_owner_adds_a_client_from_the_clients_page_and_lands_on_their_page(
    logged_in: TestClient, seeded: sessionmaker[Session]
) -> None:
    listing = logged_in.get("/clients")
    assert 'href="/clients/new"' in listing.text and "Add client" in listing.text
    data = _form(logged_in, "/clients/new") | FORM
    response = logged_in.post("/clients/new", data=data)
    assert response.status_code == 303
    page = logged_in.get(response.headers["location"])
    assert page.status_code == 200 and "Ana Lima added." in page.text
    assert "ana@work.example" in page.text and "Porto" in page.text
    with seeded() as session:
        client = session.execute(select(Client).where(Client.name == "Ana Lima")).scalar_one()
        assert client.email == "ana.lima@example.com" and client.phone == "+351912345678"
        assert client.country == "PT" and client.birthday_month == 6
        assert client.birthday_year is None and client.marketing_consent is True
        assert client.consent_at == NOW and client.version == 1
        event = session.execute(select(Event).where(Event.type == "client.created")).scalar_one()
        assert event.client_id == client.id and event.source == "web"
        assert event.payload == {"by": "Olive Owner", "by_id": client.id and event.payload["by_id"]}
        assert event.idempotency_key == f"web:client.created/{client.id}"


def test_an_email_another_client_holds_is_refused_next_to_the_field_with_a_link(
    logged_in: TestClient, seeded: sessionmaker[Session]
) -> None:
    before = _counts(seeded)
    data = _form(logged_in, "/clients/new") | FORM | {"email": "MARGARET@holloway.example"}
    refused = logged_in.post("/clients/new", data=data)
    assert refused.status_code == 422
    assert 'id="email-error"' in refused.text and "belongs to another client" in refused.text
    assert f'href="/clients/{LONG_CLIENT}"' in refused.text
    assert 'value="Ana Lima"' in refused.text  # what was typed stays
    htmx = logged_in.post("/clients/new", data=data, headers={"HX-Request": "true"})
    assert htmx.status_code == 200 and "<html" not in htmx.text and "email-error" in htmx.text
    assert _counts(seeded) == before


def test_a_date_that_is_not_a_date_is_refused_naming_the_field_and_nothing_is_stored(
    logged_in: TestClient, seeded: sessionmaker[Session]
) -> None:
    before = _counts(seeded)
    data = _form(logged_in, "/clients/new") | FORM | {"client_since": "31 Febtember"}
    refused = logged_in.post("/clients/new", data=data)
    assert refused.status_code == 422 and 'id="client_since-error"' in refused.text
    assert _counts(seeded) == before


def test_editing_saves_the_changes_audits_them_and_raises_the_version(
    logged_in: TestClient, seeded: sessionmaker[Session]
) -> None:
    form = logged_in.get(f"/clients/{LONG_CLIENT}/edit")
    assert form.status_code == 200 and 'name="version" value="1"' in form.text
    data = {
        "csrf_token": csrf_from(form.text),
        "version": "1",
        "name": "Margaret Holloway",
        "email": "margaret@holloway.example",
        "phone": "+44 20 7946 0018",
        "city": "York",
        "hometown": "Leeds",
        "birthday": "1961-05-17",
        "timezone": "Europe/London",
        "marketing_consent": "unknown",
        "client_since": "2006-03-01",
    }
    saved = logged_in.post(f"/clients/{LONG_CLIENT}/edit", data=data)
    assert saved.status_code == 303
    page = logged_in.get(saved.headers["location"])
    assert "Saved: city, phone." in page.text and "York" in page.text
    client = _margaret(seeded)
    assert client.city == "York" and client.version == 2 and client.phone == "+442079460018"
    with seeded() as session:
        entry = session.execute(
            select(AuditEntry).where(AuditEntry.action == "client.edited")
        ).scalar_one()
        assert entry.before == {"city": None, "phone": "+44 20 7946 0018", "version": 1}
        assert entry.after == {"city": "York", "phone": "+442079460018", "version": 2}


def test_a_stale_edit_is_refused_naming_what_changed_and_who_changed_it(
    logged_in: TestClient, seeded: sessionmaker[Session]
) -> None:
    form = logged_in.get(f"/clients/{LONG_CLIENT}/edit").text
    base = {"csrf_token": csrf_from(form), "version": "1"}
    first = logged_in.post(f"/clients/{LONG_CLIENT}/edit", data=base | {"city": "York"})
    assert first.status_code == 303
    stale = logged_in.post(f"/clients/{LONG_CLIENT}/edit", data=base | {"city": "Bath"})
    assert stale.status_code == 409
    assert "Someone changed this client" in stale.text and "York" in stale.text
    assert "owner@example.com" in stale.text and 'name="version" value="2"' in stale.text
    assert _margaret(seeded).city == "York"


def test_staff_edit_contact_details_but_not_the_name_and_see_no_archive_button(
    http: TestClient, seeded: sessionmaker[Session]
) -> None:
    with seeded.begin() as session:
        staff_user(session, email="sam@example.com", role="staff", name="Sam Staff", now=NOW)
    assert log_in(http, email="sam@example.com").status_code == 303
    page = http.get(f"/clients/{LONG_CLIENT}")
    assert 'id="edit-client"' in page.text and 'id="archive-client"' not in page.text
    form = http.get(f"/clients/{LONG_CLIENT}/edit").text
    assert 'id="f-name" name="name" type="text" value="Margaret Holloway"' in form
    assert "disabled" in form.split('id="f-name"')[1].split(">")[0]
    data = {"csrf_token": csrf_from(form), "version": "1", "city": "Leeds", "name": "Maggie"}
    assert http.post(f"/clients/{LONG_CLIENT}/edit", data=data).status_code == 303
    client = _margaret(seeded)
    assert client.city == "Leeds" and client.name == "Margaret Holloway"
    refused = http.post(f"/clients/{LONG_CLIENT}/archive", data={"csrf_token": data["csrf_token"]})
    assert refused.status_code == 403 and _margaret(seeded).archived_at is None


def test_an_archived_client_leaves_the_list_shows_archived_on_and_comes_back(
    logged_in: TestClient, seeded: sessionmaker[Session]
) -> None:
    token = {"csrf_token": csrf_from(logged_in.get(f"/clients/{LONG_CLIENT}").text)}
    done = logged_in.post(f"/clients/{LONG_CLIENT}/archive", data=token | {"version": "1"})
    assert done.status_code == 303
    page = logged_in.get(f"/clients/{LONG_CLIENT}")
    assert "Archived on 2026-11-23" in page.text and 'id="restore-client"' in page.text
    assert "Margaret Holloway" not in logged_in.get("/clients?q=margaret").text.split("<main")[-1]
    archived = logged_in.get("/clients?archived=true")
    assert "Margaret Holloway" in archived.text and "Archived clients" in archived.text
    again = logged_in.post(f"/clients/{LONG_CLIENT}/archive", data=token)
    assert again.status_code == 409
    assert logged_in.post(f"/clients/{LONG_CLIENT}/restore", data=token).status_code == 303
    assert _margaret(seeded).archived_at is None and _margaret(seeded).version == 3
    with seeded() as session:
        kinds = session.execute(
            select(Event.type).where(Event.type.like("client.%")).order_by(Event.id)
        ).scalars()
        assert list(kinds) == ["client.archived", "client.restored"]


def test_contacts_are_added_edited_and_removed_with_a_clash_refused(
    logged_in: TestClient, seeded: sessionmaker[Session]
) -> None:
    token = {"csrf_token": csrf_from(logged_in.get(f"/clients/{LONG_CLIENT}/edit").text)}
    added = logged_in.post(
        f"/clients/{LONG_CLIENT}/contacts",
        data=token | {"name": "Rui Costa", "role": "buyer", "email": "rui@example.com"},
    )
    assert added.status_code == 303
    with seeded() as session:
        contact = session.execute(select(Contact)).scalar_one()
        contact_id = contact.id
    clash = logged_in.post(
        f"/clients/{LONG_CLIENT}/contacts/{contact_id}",
        data=token | {"name": "Rui Costa", "email": "aiko.tanaka@example.com"},
    )
    assert clash.status_code == 422 and "belongs to another client" in clash.text
    assert 'href="/clients/C-0002"' in clash.text
    saved = logged_in.post(
        f"/clients/{LONG_CLIENT}/contacts/{contact_id}",
        data=token | {"name": "Rui Costa", "birthday": "1980-02-29"},
    )
    assert saved.status_code == 303
    page = logged_in.get(f"/clients/{LONG_CLIENT}")
    assert "Rui Costa" in page.text and "1980-02-29" in page.text
    gone = logged_in.post(f"/clients/{LONG_CLIENT}/contacts/{contact_id}/remove", data=token)
    assert gone.status_code == 303
    with seeded() as session:
        assert session.execute(select(func.count(Contact.id))).scalar_one() == 0
        actions = session.execute(
            select(AuditEntry.action).where(AuditEntry.action.like("contact.%"))
        ).scalars()
        assert list(actions) == ["contact.added", "contact.edited", "contact.removed"]


def test_an_unknown_client_is_404_on_every_record_page(logged_in: TestClient) -> None:
    token = {"csrf_token": csrf_from(logged_in.get("/clients/new").text)}
    assert logged_in.get("/clients/NOPE/edit").status_code == 404
    assert logged_in.post("/clients/NOPE/edit", data=token).status_code == 404
    assert logged_in.post("/clients/NOPE/archive", data=token).status_code == 404
    assert logged_in.post("/clients/NOPE/contacts", data=token | {"name": "X"}).status_code == 404


# -- the API ---------------------------------------------------------------------------------


def _auth(store: sessionmaker[Session], email: str = "owner@example.com") -> dict[str, str]:
    with store.begin() as session:
        token = create_token(session, user_by_email(session, email), label="t", now=NOW)
    return {"Authorization": f"Bearer {token}"}


def test_the_api_adds_a_client_and_edits_it_with_its_version(
    http: TestClient, seeded: sessionmaker[Session]
) -> None:
    auth = _auth(seeded)
    made = http.post(
        "/api/v1/clients",
        json={"name": "Bo Berg", "email": "bo@example.com", "other_phones": ["+46 70 123 45 67"]},
        headers=auth,
    )
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["version"] == 1 and body["other_phones"] == ["+46701234567"]
    ref = quote(body["id"], safe="")
    edited = http.patch(
        f"/api/v1/clients/{ref}", json={"version": 1, "city": "Malmö"}, headers=auth
    )
    assert edited.status_code == 200 and edited.json()["city"] == "Malmö"
    stale = http.patch(f"/api/v1/clients/{ref}", json={"version": 1, "city": "Lund"}, headers=auth)
    assert stale.status_code == 409
    conflict = stale.json()
    assert conflict["code"] == "conflict" and conflict["version"] == 2
    assert conflict["changes"][0]["field"] == "city" and conflict["changes"][0]["after"] == "Malmö"
    profile = http.get(f"/api/v1/clients/{ref}", headers=auth).json()
    assert profile["record"]["city"] == "Malmö" and profile["record"]["version"] == 2


def test_the_api_refuses_bad_input_naming_the_field_and_changes_nothing(
    http: TestClient, seeded: sessionmaker[Session]
) -> None:
    auth = _auth(seeded)
    before = _counts(seeded)
    held = http.post(
        "/api/v1/clients",
        json={"name": "X", "other_emails": ["margaret@holloway.example"]},
        headers=auth,
    )
    assert held.status_code == 422
    assert held.json()["field"] == "other_emails" and held.json()["holder"] == LONG_CLIENT
    bad_day = http.patch(
        f"/api/v1/clients/{LONG_CLIENT}", json={"version": 1, "birthday": "31 nope"}, headers=auth
    )
    assert bad_day.status_code == 422 and bad_day.json()["field"] == "birthday"
    not_a_date = http.patch(
        f"/api/v1/clients/{LONG_CLIENT}", json={"version": 1, "client_since": "soon"}, headers=auth
    )
    assert not_a_date.status_code == 422
    unknown = http.patch("/api/v1/clients/NOPE", json={"version": 1, "city": "X"}, headers=auth)
    assert unknown.status_code == 404
    assert (
        http.post("/api/v1/clients/NOPE/contacts", json={"name": "A"}, headers=auth).status_code
        == 404
    )
    assert _counts(seeded) == before


def test_api_staff_change_contact_details_only_and_may_not_archive(
    http: TestClient, seeded: sessionmaker[Session]
) -> None:
    with seeded.begin() as session:
        staff_user(session, email="sam@example.com", role="staff", name="Sam Staff", now=NOW)
    auth = _auth(seeded, "sam@example.com")
    ok = http.patch(
        f"/api/v1/clients/{LONG_CLIENT}", json={"version": 1, "postcode": "LS1"}, headers=auth
    )
    assert ok.status_code == 200
    refused = http.patch(
        f"/api/v1/clients/{LONG_CLIENT}", json={"version": 2, "name": "M"}, headers=auth
    )
    assert refused.status_code == 403 and refused.json()["fields"] == ["name"]
    assert http.post(f"/api/v1/clients/{LONG_CLIENT}/archive", headers=auth).status_code == 403
    contact = http.post(
        f"/api/v1/clients/{LONG_CLIENT}/contacts",
        json={"name": "Rui", "phone": "+351912000111"},
        headers=auth,
    )
    assert contact.status_code == 201
    listed = http.get(f"/api/v1/clients/{LONG_CLIENT}/contacts", headers=auth).json()
    assert [c["name"] for c in listed] == ["Rui"]
    assert _margaret(seeded).name == "Margaret Holloway"


def test_the_openapi_documents_the_record_writes_with_their_errors(http: TestClient) -> None:
    paths = http.get("/openapi.json").json()["paths"]
    create = paths["/api/v1/clients"]["post"]["responses"]
    assert {"201", "403", "422"} <= set(create)
    patch = paths["/api/v1/clients/{ref}"]["patch"]["responses"]
    assert {"200", "403", "404", "409", "422"} <= set(patch)
    assert {"204", "404"} <= set(
        paths["/api/v1/clients/{ref}/contacts/{contact_id}"]["delete"]["responses"]
    )
