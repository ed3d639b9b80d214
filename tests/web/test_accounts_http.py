"""Sessions, login throttling and accounts over HTTP: a captured cookie refused after logout,
deactivation and the idle timeout; lockout with 429 and the right password refused during it;
single-use expiring links; scoped API tokens."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from goodwill.settings import Settings
from goodwill.store.audit import entries
from goodwill.store.models import Outbox, StaffUser, WebSession
from goodwill.web import create_app
from tests.conftest import NOW
from tests.web.conftest import csrf_from, log_in
from tests.web.sample import PASSWORD, staff_user

NEW_PASSWORD = "a quiet harbour at dawn"


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app_settings(web_settings: Settings) -> Settings:
    mail = {**web_settings.mail, "from_address": "care@shop.example"}
    return dataclasses.replace(web_settings, mail=mail, public_url="https://care.shop.example")


@pytest.fixture
def client(
    app_settings: Settings, seeded: sessionmaker[Session], clock: Clock
) -> Iterator[TestClient]:
    with seeded.begin() as session:
        staff_user(session, email="sam@example.com", name="Sam", role="staff", now=NOW)
    app = create_app(app_settings, clock=clock)
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as http:
        yield http


def fresh(client: TestClient) -> TestClient:
    """Another browser on the same app."""
    return TestClient(client.app, base_url="https://testserver", follow_redirects=False)


def captured(client: TestClient) -> str:
    value = client.cookies.get("goodwill_sid")
    assert value
    return value


def replay(client: TestClient, sid: str) -> int:
    other = fresh(client)
    other.cookies.set("goodwill_sid", sid)
    return other.get("/today").status_code


def test_the_session_cookie_holds_a_random_id_and_is_httponly_lax_and_secure(
    client: TestClient, seeded: sessionmaker[Session]
) -> None:
    response = log_in(client)
    cookie = next(h for h in response.headers.get_list("set-cookie") if "goodwill_sid=" in h)
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" in cookie
    assert "Domain" not in cookie
    sid = captured(client)
    with seeded() as session:
        hashes = list(session.execute(select(WebSession.id_hash)).scalars())
    assert len(hashes) == 1 and sid not in hashes[0]


def test_a_captured_cookie_is_refused_after_logout(client: TestClient) -> None:
    log_in(client)
    sid = captured(client)
    assert replay(client, sid) == 200
    token = csrf_from(client.get("/today").text)
    client.post("/logout", data={"csrf_token": token})
    assert replay(client, sid) == 303


def test_a_captured_cookie_is_refused_after_deactivation(client: TestClient) -> None:
    log_in(client, "sam@example.com")
    sid = captured(client)
    owner = fresh(client)
    log_in(owner)
    page = owner.get("/users")
    assert page.status_code == 200 and "sam@example.com" in page.text
    with client.app.state.goodwill.sessions() as session:  # type: ignore[attr-defined]
        sam = session.execute(select(StaffUser).where(StaffUser.email == "sam@example.com"))
        sam_id = sam.scalar_one().id
    done = owner.post(f"/users/{sam_id}/deactivate", data={"csrf_token": csrf_from(page.text)})
    assert done.status_code == 303
    assert replay(client, sid) == 303
    assert log_in(fresh(client), "sam@example.com").status_code == 401


def test_a_captured_cookie_is_refused_after_the_idle_timeout(
    client: TestClient, clock: Clock
) -> None:
    log_in(client)
    sid = captured(client)
    clock.now = NOW + timedelta(minutes=119)
    assert replay(client, sid) == 200  # a request keeps the session alive
    clock.now += timedelta(minutes=121)
    assert replay(client, sid) == 303


def test_a_session_ends_at_its_absolute_lifetime_however_busy(
    client: TestClient, clock: Clock
) -> None:
    log_in(client)
    sid = captured(client)
    for _ in range(14 * 24):
        clock.now += timedelta(hours=1)
        if replay(client, sid) != 200:
            break
    assert clock.now == NOW + timedelta(days=14)


def test_guessing_gets_429_with_retry_after_and_a_lockout_refuses_the_right_password(
    client: TestClient, clock: Clock, seeded: sessionmaker[Session]
) -> None:
    answers = []
    for _ in range(5):
        answers.append(log_in(client, "sam@example.com", "wrong password here").status_code)
        clock.now += timedelta(seconds=30)  # past any back-off, so each guess is checked
    assert answers == [401] * 5
    locked = log_in(client, "sam@example.com", PASSWORD)
    assert locked.status_code == 429
    assert 0 < int(locked.headers["Retry-After"]) <= 15 * 60
    assert "too many failed logins" in locked.text
    clock.now += timedelta(minutes=15, seconds=1)
    assert log_in(client, "sam@example.com", PASSWORD).status_code == 303
    with seeded() as session:
        actions = [e.action for e in entries(session, limit=50)]
        mails = list(session.execute(select(Outbox.recipients)).scalars())
    assert actions.count("login.failed") == 5 and "login.locked" in actions
    assert "login" in actions
    assert ["sam@example.com"] in mails and ["owner@example.com"] in mails


def test_quick_repeated_failures_meet_a_back_off(client: TestClient, clock: Clock) -> None:
    statuses = [log_in(client, "sam@example.com", "wrong password here").status_code]
    statuses += [log_in(client, "sam@example.com", "wrong password here").status_code]
    statuses += [log_in(client, "sam@example.com", "wrong password here").status_code]
    backed_off = log_in(client, "sam@example.com", "wrong password here")
    assert statuses == [401, 401, 401]
    assert backed_off.status_code == 429 and backed_off.headers["Retry-After"] == "2"


def test_changing_the_password_needs_the_current_one_and_ends_every_session(
    client: TestClient,
) -> None:
    log_in(client)
    other = fresh(client)
    log_in(other)
    other_sid = captured(other)
    page = client.get("/account")
    assert page.status_code == 200 and page.text.count("/end") == 1  # the other browser
    token = csrf_from(page.text)
    wrong = client.post(
        "/account/password", data={"csrf_token": token, "current": "nope", "new": NEW_PASSWORD}
    )
    assert wrong.status_code == 422 and "current password" in wrong.text
    weak = client.post(
        "/account/password", data={"csrf_token": token, "current": PASSWORD, "new": "1234567890"}
    )
    assert weak.status_code == 422
    done = client.post(
        "/account/password", data={"csrf_token": token, "current": PASSWORD, "new": NEW_PASSWORD}
    )
    assert done.status_code == 303
    assert replay(client, other_sid) == 303
    assert client.get("/today").status_code == 303
    assert log_in(fresh(client), password=NEW_PASSWORD).status_code == 303


def test_a_reset_link_is_mailed_once_works_once_and_the_answer_never_tells_who_exists(
    client: TestClient, seeded: sessionmaker[Session], clock: Clock
) -> None:
    token = csrf_from(client.get("/reset").text)
    known = client.post("/reset", data={"csrf_token": token, "email": "sam@example.com"})
    unknown = client.post("/reset", data={"csrf_token": token, "email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 200
    assert known.text.replace("sam@example.com", "") == unknown.text.replace(
        "nobody@example.com", ""
    )
    with seeded() as session:
        bodies = [b.decode() for b in session.execute(select(Outbox.body)).scalars()]
    assert len(bodies) == 1
    link = re.search(r"https://care\.shop\.example(/reset/\S+)", bodies[0])
    assert link
    path = link.group(1)
    form = client.get(path)
    assert form.status_code == 200
    done = client.post(path, data={"csrf_token": csrf_from(form.text), "password": NEW_PASSWORD})
    assert done.status_code == 303
    assert fresh(client).get(path).status_code == 404  # spent
    assert log_in(fresh(client), "sam@example.com", NEW_PASSWORD).status_code == 303


def test_a_reset_link_expires_after_an_hour(
    client: TestClient, seeded: sessionmaker[Session], clock: Clock
) -> None:
    token = csrf_from(client.get("/reset").text)
    client.post("/reset", data={"csrf_token": token, "email": "sam@example.com"})
    with seeded() as session:
        body = session.execute(select(Outbox.body)).scalar_one().decode()
    match = re.search(r"(/reset/\S+)", body)
    assert match
    clock.now += timedelta(hours=1)
    assert client.get(match.group(1)).status_code == 404


def test_an_invitation_lets_the_person_choose_name_and_password_once(client: TestClient) -> None:
    log_in(client)
    page = client.get("/users")
    made = client.post(
        "/users/invite",
        data={"csrf_token": csrf_from(page.text), "email": "kim@example.com", "role": "staff"},
    )
    assert made.status_code == 303
    shown = client.get("/users").text
    link = re.search(r"https://care\.shop\.example(/invite/[^<\s]+)", shown)
    assert link
    guest = fresh(client)
    form = guest.get(link.group(1))
    assert form.status_code == 200 and "kim@example.com" in form.text
    data = {"csrf_token": csrf_from(form.text), "name": "Kim", "password": "12345678"}
    assert guest.post(link.group(1), data=data).status_code == 422
    data["password"] = NEW_PASSWORD
    assert guest.post(link.group(1), data=data).status_code == 303
    assert guest.get("/today").status_code == 200
    assert fresh(client).get(link.group(1)).status_code == 404


def test_an_invitation_is_mailed_when_mail_is_set_up(
    client: TestClient, seeded: sessionmaker[Session]
) -> None:
    log_in(client)
    page = client.get("/users")
    client.post(
        "/users/invite",
        data={"csrf_token": csrf_from(page.text), "email": "Kim@Example.com", "role": "manager"},
    )
    assert "Invitation mailed to kim@example.com" in client.get("/users").text
    with seeded() as session:
        [(recipients, body)] = session.execute(select(Outbox.recipients, Outbox.body)).all()
    assert recipients == ["kim@example.com"]
    assert re.search(rb"https://care\.shop\.example/invite/\S+", body)


def test_the_owner_changes_a_role_but_never_leaves_the_business_without_an_owner(
    client: TestClient, seeded: sessionmaker[Session]
) -> None:
    log_in(client)
    with seeded() as session:
        sam = session.execute(select(StaffUser).where(StaffUser.email == "sam@example.com"))
        sam_id = sam.scalar_one().id
        owner_id = session.execute(
            select(StaffUser.id).where(StaffUser.email == "owner@example.com")
        ).scalar_one()
    token = csrf_from(client.get("/users").text)
    moved = client.post(f"/users/{sam_id}/role", data={"csrf_token": token, "role": "manager"})
    assert moved.status_code == 303
    assert "sam@example.com is now manager." in client.get("/users").text
    with seeded() as session:
        assert session.get(StaffUser, sam_id).role == "manager"  # type: ignore[union-attr]
        [entry] = entries(session, action="user.role")
        assert (entry.before, entry.after) == ({"role": "staff"}, {"role": "manager"})
    wrong = client.post(f"/users/{sam_id}/role", data={"csrf_token": token, "role": "boss"})
    assert wrong.status_code == 422 and "not a role" in wrong.text
    # The only owner cannot be demoted (the owner's own row has no role form; the route refuses).
    alone = client.post(f"/users/{owner_id}/role", data={"csrf_token": token, "role": "staff"})
    assert alone.status_code == 422 and "the only owner" in alone.text
    with seeded() as session:
        assert session.get(StaffUser, owner_id).role == "owner"  # type: ignore[union-attr]


def test_staff_cannot_reach_the_users_page(client: TestClient) -> None:
    log_in(client, "sam@example.com")
    assert client.get("/users").status_code == 403


def test_api_tokens_have_a_scope_an_expiry_a_last_use_and_can_be_revoked(
    client: TestClient, clock: Clock, token: str
) -> None:
    owner = {"Authorization": f"Bearer {token}"}
    made = client.post("/api/v1/me/tokens", json={"label": "reports", "days": 1}, headers=owner)
    assert made.status_code == 201 and made.json()["scope"] == "read"
    read = {"Authorization": f"Bearer {made.json()['token']}"}
    assert client.get("/api/v1/me", headers=read).json()["email"] == "owner@example.com"
    refused = client.post("/api/v1/me/tokens", json={"label": "x"}, headers=read)
    assert refused.status_code == 403 and refused.json()["reason"] == "scope"
    listed = client.get("/api/v1/me/tokens", headers=owner).json()
    assert [t["last_used_at"] is not None for t in listed] == [True, True]
    clock.now += timedelta(days=1)
    assert client.get("/api/v1/me", headers=read).status_code == 401
    gone = client.delete(f"/api/v1/me/tokens/{made.json()['id']}", headers=owner)
    assert gone.status_code == 204
    assert len(client.get("/api/v1/me/tokens", headers=owner).json()) == 1


def test_the_owner_deactivates_over_the_api_and_staff_may_not(
    client: TestClient, token: str
) -> None:
    owner = {"Authorization": f"Bearer {token}"}
    users = client.get("/api/v1/users", headers=owner).json()
    sam = next(u for u in users if u["email"] == "sam@example.com")
    done = client.post(f"/api/v1/users/{sam['id']}/deactivate", headers=owner)
    assert done.status_code == 200 and done.json()["active"] is False
    assert client.post(f"/api/v1/users/{sam['id']}/activate", headers=owner).json()["active"]


def test_when_every_hashing_slot_is_busy_a_login_gets_503_not_more_memory(
    app_settings: Settings,
    seeded: sessionmaker[Session],
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from goodwill.store import staff

    monkeypatch.setattr(staff, "HASHING_WAIT_SECONDS", 0.05)
    one_slot = {**app_settings.accounts, "hashing_slots": 1}
    app = create_app(dataclasses.replace(app_settings, accounts=one_slot), clock=clock)
    gate = staff._gate(1)
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as http:
        assert gate.acquire(timeout=1)  # another login is hashing
        try:
            busy = log_in(http)
        finally:
            gate.release()
        assert busy.status_code == 503 and busy.headers["Retry-After"] == "1"
        assert log_in(http).status_code == 303


def test_asking_for_reset_links_again_and_again_mails_at_most_three(
    client: TestClient, seeded: sessionmaker[Session]
) -> None:
    token = csrf_from(client.get("/reset").text)
    answers = {
        client.post("/reset", data={"csrf_token": token, "email": "sam@example.com"}).text
        for _ in range(5)
    }
    assert len(answers) == 1
    with seeded() as session:
        assert len(list(session.execute(select(Outbox.id)).scalars())) == 3


def test_expired_sessions_are_purged_at_the_next_login(
    client: TestClient, clock: Clock, seeded: sessionmaker[Session]
) -> None:
    log_in(client, "sam@example.com")
    clock.now += timedelta(hours=3)
    log_in(fresh(client))
    with seeded() as session:
        owners = session.execute(select(WebSession.user_id)).scalars().all()
        sam = session.execute(select(StaffUser.id).where(StaffUser.email == "sam@example.com"))
        assert sam.scalar_one() not in owners and len(owners) == 1
