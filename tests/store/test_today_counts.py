"""A person's Today list counts its groups from an index alone, and still counts them right."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from goodwill.store.followups import today_list
from goodwill.store.models import FollowUp
from tests.conftest import NOW
from tests.store.plans import plan_of, recorded
from tests.web.sample import add_client, staff_user

UTC = ZoneInfo("UTC")


def _seed(store: sessionmaker[Session]) -> str:
    """The owner's follow-ups: 3 overdue, 2 later today, 1 in five days, 1 in a month; one of
    the machine's and one done, neither counted."""
    with store.begin() as session:
        owner = staff_user(session, now=NOW)
        dues = [-30, -20, -2, 2, 5, 24 * 5, 24 * 30, -1, -1]
        for i, hours in enumerate(dues):
            client = add_client(session, external_id=f"T{i}", name=f"Tess {i}", now=NOW)
            session.add(
                FollowUp(
                    key=f"t{i}",
                    client_id=client.id,
                    rule="call",
                    reason="call",
                    open_reason=None if i == 8 else "call",
                    title="Call",
                    channel="phone",
                    personal_level="owner_call",
                    assignee_id=owner.id,
                    due_at=NOW + timedelta(hours=hours),
                    status="done" if i == 8 else "open",
                    sequence=0,
                    created_at=NOW,
                    updated_at=NOW,
                    performer="machine" if i == 7 else "person",
                )
            )
        return owner.email


def test_the_groups_are_counted_and_listed(store: sessionmaker[Session]) -> None:
    email = _seed(store)
    with store() as session:
        mine = today_list(session, now=NOW, zone=UTC, assignee=email, limit=2)
        nobody = today_list(session, now=NOW, zone=UTC, assignee="who@else.example")
    assert mine.counts == {"overdue": 3, "today": 2, "upcoming": 1}
    assert [len(mine.overdue), len(mine.today), len(mine.upcoming)] == [2, 2, 1]
    assert [f.due_at for f in mine.overdue] == sorted(f.due_at for f in mine.overdue)
    assert nobody.counts == {"overdue": 0, "today": 0, "upcoming": 0}


def _colleagues_followups(store: sessionmaker[Session], n: int) -> None:
    """``n`` open follow-ups of a colleague's, due over the same days, as a team's store holds:
    reading a person's own must not read these."""
    with store.begin() as session:
        colleague = staff_user(session, email="colleague@example.com", now=NOW)
        client = add_client(session, external_id="TC", name="Theo", now=NOW)
        session.add_all(
            FollowUp(
                key=f"c{i}",
                client_id=client.id,
                rule="call",
                reason="call",
                open_reason=f"call {i}",
                title="Call",
                channel="phone",
                personal_level="owner_call",
                assignee_id=colleague.id,
                due_at=NOW + timedelta(minutes=i - n // 2),
                status="open",
                sequence=0,
                created_at=NOW,
                updated_at=NOW,
                performer="person",
            )
            for i in range(n)
        )
        session.execute(text("ANALYZE followups"))


@pytest.mark.postgres
def test_the_counts_read_the_assignee_index_alone(postgres_url: str) -> None:
    from goodwill.store.database import open_store

    store = open_store(postgres_url)
    email = _seed(store)
    _colleagues_followups(store, 3000)
    with store() as session:
        with recorded(session) as seen:
            today_list(session, now=NOW, zone=UTC, assignee=email)
        plans = [plan_of(session, s, p) for s, p in seen if "FROM followups" in s]
    assert len(plans) == 4  # three groups and their counts
    for plan in plans:
        assert "ix_followups_assignee_list" in plan, plan
