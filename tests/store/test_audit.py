"""The audit log's store: entries written in the caller's transaction, read newest first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from goodwill.domain.audit import Actor, changed
from goodwill.store.audit import entries, forget_client_details, record

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_changed_keeps_only_the_fields_that_moved() -> None:
    before, after = changed({"name": "Bram", "city": "Delft"}, {"name": "Bram", "city": "Gouda"})
    assert before == {"city": "Delft"}
    assert after == {"city": "Gouda"}
    assert changed({"a": 1}, {}) == ({"a": 1}, {"a": None})


def test_an_unknown_actor_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="actor kind"):
        Actor("robot", "r2")


def test_entries_are_read_newest_first_and_filtered(store: sessionmaker[Session]) -> None:
    owner = Actor.user(1, "owner@shop.example", address="127.0.0.1", session_ref="s1")
    with store.begin() as session:
        record(session, owner, "login", at=T0)
        record(
            session,
            owner,
            "followup.done",
            at=T0 + timedelta(minutes=1),
            object_type="followup",
            object_id=7,
            client_id=42,
            after={"outcome": "called, all well"},
        )
        record(
            session, Actor.engine(), "followup.created", at=T0 + timedelta(minutes=2), client_id=42
        )
        record(session, Actor.anonymous("who@else.example"), "login.failed", at=T0)
    with store() as session:
        everything = entries(session)
        assert [e.action for e in everything] == [
            "login.failed",
            "followup.created",
            "followup.done",
            "login",
        ]
        about = entries(session, client_id=42)
        assert [e.action for e in about] == ["followup.created", "followup.done"]
        assert [e.action for e in entries(session, user_id=1)] == ["followup.done", "login"]
        assert [e.action for e in entries(session, action="followup.")] == [
            "followup.created",
            "followup.done",
        ]
        later = entries(session, since=T0 + timedelta(seconds=30))
        assert {e.action for e in later} == {"followup.done", "followup.created"}
        page = entries(session, limit=2)
        rest = entries(session, before_id=page[-1].id)
        assert [e.id for e in page + rest] == [e.id for e in everything]
        done = about[1]
        assert done.actor == "owner@shop.example"
        assert done.address == "127.0.0.1"
        assert done.as_dict()["after"] == {"outcome": "called, all well"}


def test_an_erasure_blanks_what_the_entries_held_and_keeps_that_they_happened(
    store: sessionmaker[Session],
) -> None:
    owner = Actor.user(1, "owner@shop.example")
    with store.begin() as session:
        record(
            session,
            owner,
            "client.edited",
            at=T0,
            client_id=5,
            before={"email": "ann@old.example"},
            after={"email": "ann@new.example"},
            detail="moved to Gouda",
        )
        record(session, owner, "client.edited", at=T0, client_id=6, after={"email": "x@y.example"})
    with store.begin() as session:
        assert forget_client_details(session, 5) == 1
    with store() as session:
        (kept,) = entries(session, client_id=5)
        assert kept.action == "client.edited"
        assert (kept.before, kept.after, kept.detail) == (None, None, None)
        (other,) = entries(session, client_id=6)
        assert other.after == {"email": "x@y.example"}
