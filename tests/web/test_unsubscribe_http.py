"""The unsubscribe link over HTTP: GET only asks (a link scanner unsubscribes nobody), POST
withdraws marketing consent (audited, on the timeline, once), the one-click POST a mail program
sends works without a cookie, and an altered token is a plain 404."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from goodwill.domain.unsubscribe import issue_token
from goodwill.settings import Settings
from goodwill.store.audit import entries
from goodwill.store.models import Client, Event
from goodwill.web import create_app
from goodwill.web.secret import secret_key
from tests.conftest import NOW
from tests.web.conftest import csrf_from, log_in
from tests.web.sample import LONG_CLIENT, LONG_CLIENT_NAME


@pytest.fixture
def mailing(web_settings: Settings) -> Settings:
    return dataclasses.replace(
        web_settings, public_url="https://care.shop.example", business_name="Holloway & Daughters"
    )


@pytest.fixture
def site(mailing: Settings, seeded: sessionmaker[Session]) -> Iterator[TestClient]:
    with TestClient(
        create_app(mailing, clock=lambda: NOW),
        base_url="https://testserver",
        follow_redirects=False,
    ) as client:
        yield client


def _client_id(store: sessionmaker[Session]) -> int:
    with store() as session:
        return session.execute(
            select(Client.id).where(Client.external_id == LONG_CLIENT)
        ).scalar_one()


def _consent(store: sessionmaker[Session], client_id: int) -> tuple[object, ...]:
    with store() as session:
        client = session.get(Client, client_id)
        assert client is not None
        return client.marketing_consent, client.consent_at, client.consent_how


@pytest.fixture
def client_id(seeded: sessionmaker[Session]) -> int:
    client_id = _client_id(seeded)
    with seeded.begin() as session:
        client = session.get(Client, client_id)
        assert client is not None
        client.marketing_consent = True
        client.consent_how = "asked at the counter"
    return client_id


@pytest.fixture
def path(mailing: Settings, client_id: int) -> str:
    return "/unsubscribe/" + issue_token(secret_key(mailing), client_id)


def _trail(store: sessionmaker[Session], client_id: int) -> tuple[int, int]:
    """(audit entries, timeline events) of the client's unsubscribing."""
    with store() as session:
        audited = len(entries(session, client_id=client_id, action="client.unsubscribed"))
        events = session.execute(
            select(Event).where(Event.client_id == client_id, Event.type == "client.unsubscribed")
        ).all()
        return audited, len(events)


def test_the_page_asks_and_changes_nothing(
    site: TestClient, seeded: sessionmaker[Session], client_id: int, path: str
) -> None:
    before = _consent(seeded, client_id)
    page = site.get(path)
    assert page.status_code == 200
    assert "Holloway &amp; Daughters" in page.text
    assert 'method="post"' in page.text and ">Unsubscribe</button>" in page.text
    assert LONG_CLIENT_NAME not in page.text
    assert "set-cookie" not in page.headers
    assert page.headers["cache-control"] == "no-store"
    assert "noindex" in page.headers["x-robots-tag"]
    assert _consent(seeded, client_id) == before
    assert _trail(seeded, client_id) == (0, 0)


def test_the_button_withdraws_consent_audited_on_the_timeline_and_once(
    site: TestClient, seeded: sessionmaker[Session], client_id: int, path: str
) -> None:
    done = site.post(path)
    assert done.status_code == 200
    assert "You are unsubscribed" in done.text
    assert _consent(seeded, client_id) == (False, NOW, "unsubscribe link")
    with seeded() as session:
        (entry,) = entries(session, client_id=client_id, action="client.unsubscribed")
    assert entry.actor_kind == "anonymous"
    assert entry.before == {
        "marketing_consent": True,
        "consent_at": None,
        "consent_how": "asked at the counter",
    }
    assert entry.after == {
        "marketing_consent": False,
        "consent_at": NOW.isoformat(),
        "consent_how": "unsubscribe link",
        "version": 2,
    }
    assert _trail(seeded, client_id) == (1, 1)

    again = site.post(path)
    assert again.status_code == 200
    assert _trail(seeded, client_id) == (1, 1)
    assert _consent(seeded, client_id) == (False, NOW, "unsubscribe link")
    assert "already unsubscribed" in site.get(path).text


def test_the_timeline_says_so(
    site: TestClient, seeded: sessionmaker[Session], client_id: int, path: str
) -> None:
    site.post(path)
    assert log_in(site).status_code == 303
    page = site.get(f"/clients/{LONG_CLIENT}")
    assert page.status_code == 200, page.headers.get("location")
    assert "Unsubscribed from marketing" in page.text


def test_a_mail_programs_one_click_post_works_without_a_cookie(
    mailing: Settings, seeded: sessionmaker[Session], client_id: int, path: str
) -> None:
    with TestClient(create_app(mailing, clock=lambda: NOW), base_url="https://testserver") as mua:
        answer = mua.post(
            path,
            content=b"List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    assert answer.status_code == 200
    assert "set-cookie" not in answer.headers
    assert _consent(seeded, client_id)[0] is False
    assert _trail(seeded, client_id) == (1, 1)


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_an_altered_token_is_a_plain_404(
    site: TestClient, seeded: sessionmaker[Session], client_id: int, path: str, method: str
) -> None:
    before = _consent(seeded, client_id)
    altered = path[:-1] + ("A" if path[-1] != "A" else "B")
    for bad in (altered, "/unsubscribe/nothing-signed", f"/unsubscribe/{client_id}"):
        answer = site.request(method, bad)
        assert answer.status_code == 404
        assert "This link is not known" in answer.text
    assert _consent(seeded, client_id) == before
    assert _trail(seeded, client_id) == (0, 0)


def test_a_token_for_another_purpose_or_another_key_does_not_read(
    site: TestClient, seeded: sessionmaker[Session], client_id: int
) -> None:
    foreign = issue_token("some other installation's key", client_id)
    assert site.post("/unsubscribe/" + foreign).status_code == 404
    assert _trail(seeded, client_id) == (0, 0)


def test_an_edit_begun_before_the_unsubscribe_cannot_undo_it(
    site: TestClient, seeded: sessionmaker[Session], client_id: int, path: str
) -> None:
    assert log_in(site).status_code == 303
    form = site.get(f"/clients/{LONG_CLIENT}/edit").text
    assert 'name="version" value="1"' in form
    site.post(path)  # meanwhile the client unsubscribes
    stale = site.post(
        f"/clients/{LONG_CLIENT}/edit",
        data={"csrf_token": csrf_from(form), "version": "1", "city": "Bath"},
    )
    assert stale.status_code == 409
    assert "Someone changed this client" in stale.text and "unsubscribe link" in stale.text
    assert _consent(seeded, client_id)[0] is False
