"""Automated touches as people meet them on the web: not on anyone's list, visible on the
client's page as sent by goodwill, listed by the API on request; a touch handed back says why."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from goodwill.store.models import Client, FollowUp, StaffUser
from tests.conftest import NOW
from tests.web.sample import LONG_CLIENT


def touch(store: sessionmaker[Session], *, performer: str, handed_over: str | None = None) -> int:
    with store.begin() as session:
        client = session.execute(
            select(Client).where(Client.external_id == LONG_CLIENT)
        ).scalar_one()
        owner = session.execute(select(StaffUser)).scalars().first()
        assert owner is not None
        row = FollowUp(
            key=f"birthday-card/test/{performer}",
            client_id=client.id,
            rule="birthday-card",
            reason=f"birthday-{performer}",
            open_reason=f"birthday-{performer}",
            title=f"Birthday card for {client.name} ({performer})",
            channel="email",
            personal_level="automated",
            template="birthday",
            assignee_id=owner.id,
            due_at=NOW + timedelta(hours=2),
            status="open",
            sequence=0,
            created_at=NOW,
            updated_at=NOW,
            performer=performer,
            handed_over=handed_over,
        )
        session.add(row)
        session.flush()
        return row.id


def test_goodwills_own_touches_stay_off_the_lists_but_show_on_the_client_page(
    seeded: sessionmaker[Session], logged_in: TestClient, token: str
) -> None:
    machine = touch(seeded, performer="machine")
    handed = touch(seeded, performer="person", handed_over="no email address: call them")
    auth = {"Authorization": f"Bearer {token}"}
    people = logged_in.get("/api/v1/followups", headers=auth).json()
    assert machine not in {f["id"] for f in people} and handed in {f["id"] for f in people}
    [back] = [f for f in people if f["id"] == handed]
    assert back["handed_over"] == "no email address: call them"
    machines = logged_in.get("/api/v1/followups?performer=machine", headers=auth).json()
    assert [(f["id"], f["performer"]) for f in machines] == [(machine, "machine")]
    both = logged_in.get("/api/v1/followups?performer=all", headers=auth).json()
    assert {machine, handed} <= {f["id"] for f in both}
    assert logged_in.get("/api/v1/followups?performer=robot", headers=auth).status_code == 422
    today = logged_in.get("/today").text
    assert "(machine)" not in today and "(person)" in today
    page = logged_in.get(f"/clients/{LONG_CLIENT}").text
    assert "(machine)" in page and "Sent by goodwill" in page
    assert "Not sent automatically:</strong> no email address: call them" in page
