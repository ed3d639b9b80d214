"""What staff do on the pages and the API leaves one audit entry each: who (with the session or
token they acted from), what, on which client, before and after. A refused action leaves none."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from goodwill.actions.imports import import_file
from goodwill.domain.audit import Actor
from goodwill.domain.records import FileKind
from goodwill.settings import Settings
from goodwill.store.audit import AuditRow, entries
from goodwill.store.models import AuditEntry, Conversation, FollowUp
from tests.conftest import NOW
from tests.web.conftest import csrf_from
from tests.web.rentals import rental_business
from tests.web.sample import staff_user
from tests.web.test_inbox_http import (  # noqa: F401 - fixtures
    post_form,
    three,
    web_settings,
)
from tests.web.touchpoints import make_followups

OWNER = "owner@example.com"


def _log(store: sessionmaker[Session], prefix: str) -> list[AuditRow]:
    with store() as session:
        return list(reversed(entries(session, action=prefix)))


def _one(store: sessionmaker[Session], action: str) -> AuditRow:
    found = [row for row in _log(store, action.split(".")[0] + ".") if row.action == action]
    assert len(found) == 1, [row.action for row in _log(store, "")]
    return found[0]


def _where(store: sessionmaker[Session], row: AuditRow) -> str:
    """The session or token an entry was made from."""
    with store() as session:
        entry = session.get(AuditEntry, row.id)
        assert entry is not None and entry.session_ref is not None
        return entry.session_ref


def _by_owner_in_a_session(row: AuditRow) -> None:
    assert (row.actor_kind, row.actor) == ("user", OWNER)
    assert row.address == "testclient"


def test_follow_up_actions_on_the_page_and_the_api_are_audited(
    logged_in: TestClient,
    seeded: sessionmaker[Session],
    web_settings: Settings,  # noqa: F811
    token: str,
) -> None:
    made = make_followups(seeded, web_settings, now=NOW)
    with seeded.begin() as session:
        staff_user(session, now=NOW, email="sam@example.com", name="Sam", role="staff")
    with seeded() as session:
        missed = session.get(FollowUp, made.missed)
        late = session.get(FollowUp, made.late)
        assert missed is not None and late is not None
        missed_client, late_client, due = missed.client_id, late.client_id, missed.due_at
    page = logged_in.get("/today").text
    csrf = csrf_from(page)
    api = {"Authorization": f"Bearer {token}"}
    past = logged_in.post(
        f"/api/v1/followups/{made.missed}/snooze",
        json={"until": "2026-11-01T09:00:00+00:00"},
        headers=api,
    )
    assert past.status_code == 422
    assert _log(seeded, "followup.") == []  # a refused snooze leaves nothing
    snoozed = logged_in.post(
        f"/followups/{made.missed}/snooze",
        data={"until": "2026-12-01T09:00", "csrf_token": csrf},
    )
    assert snoozed.status_code == 303
    row = _one(seeded, "followup.snoozed")
    _by_owner_in_a_session(row)
    assert row.object_type == "followup" and row.object_id == str(made.missed)
    assert row.client_id == missed_client
    assert row.before == {"due_at": due.isoformat()}
    assert row.after is not None and row.after["due_at"].startswith("2026-12-01T")
    given = logged_in.post(
        f"/followups/{made.late}/reassign", data={"to": "sam@example.com", "csrf_token": csrf}
    )
    assert given.status_code in (200, 303)
    row = _one(seeded, "followup.reassigned")
    assert row.client_id == late_client and row.after == {"assignee": "sam@example.com"}
    assert row.before is not None and row.before["assignee"] != "sam@example.com"
    done = logged_in.post(
        f"/api/v1/followups/{made.missed}/complete", json={"outcome": "Ordered boots"}, headers=api
    )
    assert done.status_code == 200
    row = _one(seeded, "followup.done")
    assert (row.actor, row.client_id) == (OWNER, missed_client)
    assert row.before == {"status": "open"}
    assert row.after == {"status": "done", "outcome": "Ordered boots"}
    with seeded() as session:
        (entry,) = [e for e in entries(session, action="followup.done")]
        assert entry.as_dict()["actor_kind"] == "user"


def test_replies_overrides_and_status_changes_are_audited_and_a_blocked_reply_is_not(
    logged_in: TestClient,
    seeded: sessionmaker[Session],
    three: dict[str, int],  # noqa: F811
    token: str,
) -> None:
    calm, warned = three["calm"], three["warned"]
    with seeded() as session:
        conversation = session.get(Conversation, calm)
        assert conversation is not None
        client_id = conversation.client_id
    page = f"/inbox/{calm}"
    blocked = post_form(logged_in, page, f"{page}/reply", {"text": "Dear [First Name], hi."})
    assert blocked.status_code == 422
    bare = post_form(logged_in, page, f"{page}/reply", {"text": "Thank you for letting us know."})
    assert bare.status_code == 422
    assert _log(seeded, "reply.") == []
    reason = "the order already shipped; nothing is owed"
    sent = post_form(
        logged_in,
        page,
        f"{page}/reply",
        {"text": "Thank you for letting us know.", "override_reason": reason},
    )
    assert sent.status_code == 303
    row = _one(seeded, "reply.sent")
    _by_owner_in_a_session(row)
    assert _where(seeded, row).startswith("session:")
    assert (row.object_type, row.object_id, row.client_id) == ("conversation", str(calm), client_id)
    assert row.after is not None and isinstance(row.after["message_id"], int)
    override = _one(seeded, "reply.override")
    assert override.after == {
        "message_id": row.after["message_id"],
        "findings": ["no_next_step"],
        "reason": reason,
    }
    waiting = post_form(logged_in, page, f"{page}/status", {"to": "waiting"})
    assert waiting.status_code == 303
    row = _one(seeded, "conversation.status")
    assert row.before == {"status": "answered"} and row.after == {"status": "waiting"}
    api = {"Authorization": f"Bearer {token}"}
    text = "Hi Margaret, the invoice copy is attached; I will call you at 2pm to check."
    answered = logged_in.post(
        f"/api/v1/conversations/{warned}/reply", json={"text": text}, headers=api
    )
    assert answered.status_code == 201, answered.text
    replies = [r for r in _log(seeded, "reply.") if r.action == "reply.sent"]
    assert [r.object_id for r in replies] == [str(calm), str(warned)]
    assert replies[1].actor == OWNER and _log(seeded, "reply.override") == [override]
    assert _where(seeded, replies[1]).startswith("token:")  # the API names the token used


def test_an_incident_from_open_to_closed_leaves_one_entry_per_step(
    web_settings: Settings,  # noqa: F811
    store: sessionmaker[Session],
) -> None:
    from goodwill.store.staff import create_token, user_by_email
    from goodwill.web import create_app

    with store.begin() as session:
        rental_business(session, now=NOW)
        token = create_token(session, user_by_email(session, OWNER), label="tests", now=NOW)
    api = TestClient(create_app(web_settings, clock=lambda: NOW))
    auth = {"Authorization": f"Bearer {token}"}
    body = {"client": "R-1", "what": "a wrong pick-up address", "cause": "Wrong address"}
    made = api.post("/api/v1/incidents", json=body, headers=auth)
    assert made.status_code == 201, made.text
    number = made.json()["id"]
    opened = _one(store, "incident.opened")
    assert (opened.actor, opened.object_type, opened.object_id) == (OWNER, "incident", str(number))
    assert opened.after is not None and opened.after["cause"] == "wrong address"
    assert opened.client_id is not None
    for step, note in (("listen", None), ("restate", "no car at the airport")):
        done = api.post(
            f"/api/v1/incidents/{number}/steps", json={"step": step, "note": note}, headers=auth
        )
        assert done.status_code == 200, done.text
    steps = [r for r in _log(store, "incident.") if r.action == "incident.step"]
    assert [r.after for r in steps] == [
        {"step": "listen", "note": None},
        {"step": "restate", "note": "no car at the airport"},
    ]
    assert api.post(f"/api/v1/incidents/{number}/confirm", headers=auth).status_code == 200
    assert _one(store, "incident.confirmed").client_id == opened.client_id
    option = made.json()["options"][0]["name"]
    resolved = api.post(
        f"/api/v1/incidents/{number}/resolve",
        json={"outcome": "found a car", "option": option},
        headers=auth,
    )
    assert resolved.status_code == 200, resolved.text
    row = _one(store, "incident.resolved")
    assert row.before == {"status": "open"}
    assert row.after == {"status": "resolved", "outcome": "found a car", "option": option}
    refused = api.post(f"/api/v1/incidents/{number}/close", json={}, headers=auth)
    assert refused.status_code == 409  # steps missing and no reason: nothing recorded
    assert [r for r in _log(store, "incident.") if r.action == "incident.closed"] == []
    closed = api.post(
        f"/api/v1/incidents/{number}/close", json={"reason": "withdrawn"}, headers=auth
    )
    assert closed.status_code == 200, closed.text
    row = _one(store, "incident.closed")
    assert row.before == {"status": "resolved"}
    assert row.after is not None and row.after["reason"] == "withdrawn"


def test_an_import_and_its_undo_from_the_page_are_audited(
    logged_in: TestClient,
    seeded: sessionmaker[Session],
    web_settings: Settings,  # noqa: F811
    tmp_path: Path,
) -> None:
    path = tmp_path / "autumn.csv"
    path.write_text("client_id,name,email\nA-1,Ada Lane,ada@example.com\n", encoding="utf-8")
    by = Actor.cli("tests")
    summary = import_file(seeded, web_settings, FileKind.CLIENTS, path, now=NOW, actor=by)
    row = _one(seeded, "import.run")
    assert (row.actor_kind, row.actor) == ("cli", "command line (tests)")
    assert (row.object_type, row.object_id) == ("import", str(summary.import_id))
    after: dict[str, Any] = row.after or {}
    assert after["file"] == "autumn.csv" and after["profile"] == "clients"
    assert after["counts"]["read"] == 1 and after["counts"]["created"]["clients"] == 1
    page = f"/imports/{summary.import_id}"
    undone = post_form(logged_in, page, f"{page}/undo", {})
    assert undone.status_code == 303
    row = _one(seeded, "import.undone")
    _by_owner_in_a_session(row)
    assert row.before == {"status": "done"}
    assert row.after is not None and row.after["removed"]["clients"] == 1
    again = post_form(logged_in, page, f"{page}/undo", {})  # already undone: nothing happened
    assert again.status_code == 303 and len(_log(seeded, "import.undone")) == 1
