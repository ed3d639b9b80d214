"""Stored incidents on SQLite and PostgreSQL: the assessment kept, the steps, closing, the
follow-up the engine creates, and the systemic-failure alert for a recurring cause."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from goodwill.actions import incidents as actions
from goodwill.actions.imports import import_file
from goodwill.domain.audit import Actor
from goodwill.domain.records import FileKind
from goodwill.engine.configuration import run_pass
from goodwill.errors import Conflict, InvalidInput
from goodwill.settings import Settings
from goodwill.store.followups import complete, list_followups
from goodwill.store.incidents import get_incident, list_incidents
from goodwill.store.models import Event, Outbox
from goodwill.store.staff import add_user
from tests.conftest import NOW

BY = "sam@example.com"


def _in_transaction(act: Any) -> Any:
    """The action as the CLI runs it: in a transaction of its own on ``store``."""

    def run(store: sessionmaker[Session], *args: Any, **kw: Any) -> Any:
        with store.begin() as session:
            return act(session, *args, **kw)

    return run


open_incident = _in_transaction(actions.open_incident)
record_step = _in_transaction(actions.record_step)
confirm_restatement = _in_transaction(actions.confirm_restatement)
resolve_incident = _in_transaction(actions.resolve)
close = _in_transaction(actions.close)


@pytest.fixture
def shop(store: sessionmaker[Session], settings: Settings, tmp_path: Path) -> Settings:
    """Two clients and an owner; the settings mail from a shop address."""
    clients = tmp_path / "clients.csv"
    clients.write_text(
        "client_id,name,email,client_since,timezone\n"
        "C1,Dana Longtime,dana@example.com,2005-06-01,Europe/Amsterdam\n"
        "C2,Nina New,nina@example.com,,\n",
        "utf-8",
    )
    summary = import_file(store, settings, FileKind.CLIENTS, clients, now=NOW - timedelta(days=90))
    assert summary.errors == []
    with store.begin() as session:
        add_user(
            session,
            email="owner@example.com",
            name="Olga",
            role="owner",
            password="a long password",
            now=NOW,
        )
    return dataclasses.replace(
        settings, mail={"from_address": "care@example.com"}, business_kind="hospitality"
    )


def open_one(
    store: sessionmaker[Session], settings: Settings, *, client: str = "C1", **kw: object
) -> int:
    fields: dict[str, object] = {
        "what": "wrong pick-up address for the rental car",
        "message": "There is no car here and my flight leaves at 3pm tomorrow.",
        "partner": "TripDesk",
        "cost": "154",
        "cause": "Wrong address",
        "by": BY,
        "actor": Actor.cli("tests"),
        "now": NOW,
        **kw,
    }
    return int(open_incident(store, settings, client_ref=client, **fields))


def test_opening_stores_the_assessment_and_the_touch_point(
    store: sessionmaker[Session], shop: Settings
) -> None:
    incident_id = open_one(store, shop)
    with store() as session:
        view = get_incident(session, incident_id)
        events = session.execute(select(Event).where(Event.type == "incident.opened")).scalars()
        payloads = [e.payload for e in events]
    i = view.incident
    assert (view.client, i.status, i.cause, i.tier, i.opened_by) == (
        "C1",
        "open",
        "wrong address",
        3,
        BY,
    )
    assert i.cost_minor == 15400 and i.partner == "TripDesk" and not i.ours
    assert i.score == pytest.approx(sum(f["points"] for f in i.factors))
    assert any(f["key"] == "partner" for f in i.factors)
    assert "find the client a car" in [o["name"] for o in i.options]
    assert i.deadline is not None
    assert view.missing == ("listen", "restate", "own", "offer", "resolve", "follow_up")
    assert payloads == [{"incident_id": incident_id, "tier": 3, "cause": "wrong address"}]


def test_earlier_incidents_raise_a_later_assessments_score(
    store: sessionmaker[Session], shop: Settings
) -> None:
    def score(now_offset: int) -> tuple[float, list[str]]:
        incident_id = open_one(
            store,
            shop,
            client="C2",
            what="the parcel was late",
            message=None,
            partner=None,
            cost=None,
            cause=f"late parcel {now_offset}",
            now=NOW + timedelta(hours=now_offset),
        )
        with store() as session:
            i = get_incident(session, incident_id).incident
            return i.score, [f["text"] for f in i.factors]

    first, first_reasons = score(0)
    second, second_reasons = score(1)
    assert not any("earlier incident" in r for r in first_reasons)
    assert "1 earlier incident with this client" in second_reasons
    assert second > first


def test_steps_are_recorded_and_restate_counts_once_the_client_confirms(
    store: sessionmaker[Session], shop: Settings
) -> None:
    incident_id = open_one(store, shop)
    record_step(
        store, incident_id, "listen", by=BY, actor=Actor.cli("tests"), note="heard her out", now=NOW
    )
    with pytest.raises(InvalidInput, match="our own words"):
        record_step(
            store, incident_id, "restate", by=BY, actor=Actor.cli("tests"), note=None, now=NOW
        )
    record_step(
        store,
        incident_id,
        "restate",
        by=BY,
        actor=Actor.cli("tests"),
        note="no car, a flight at 3pm",
        now=NOW,
    )
    with store() as session:
        assert "restate" in get_incident(session, incident_id).missing
    confirm_restatement(store, incident_id, by=BY, actor=Actor.cli("tests"), now=NOW)
    with pytest.raises(Conflict, match="already done"):
        record_step(store, incident_id, "listen", by=BY, actor=Actor.cli("tests"), now=NOW)
    with store() as session:
        view = get_incident(session, incident_id)
    assert view.incident.restatement == "no car, a flight at 3pm"
    assert view.incident.confirmed_at == NOW
    assert [s.step for s in view.steps] == ["listen", "restate"]
    assert view.missing == ("own", "offer", "resolve", "follow_up")


def test_closing_with_a_step_missing_is_refused_unless_a_reason_is_given(
    store: sessionmaker[Session], shop: Settings
) -> None:
    incident_id = open_one(store, shop)
    record_step(store, incident_id, "listen", by=BY, actor=Actor.cli("tests"), now=NOW)
    with pytest.raises(Conflict, match="restate, own, offer, resolve, follow_up") as refused:
        close(store, incident_id, reason=None, by=BY, actor=Actor.cli("tests"), now=NOW)
    assert refused.value.fields["missing"] == ["restate", "own", "offer", "resolve", "follow_up"]
    close(
        store,
        incident_id,
        reason="the client withdrew the complaint",
        by=BY,
        actor=Actor.cli("tests"),
        now=NOW,
    )
    with store() as session:
        i = get_incident(session, incident_id).incident
    assert (i.status, i.close_reason, i.closed_at) == (
        "closed",
        "the client withdrew the complaint",
        NOW,
    )
    with pytest.raises(Conflict, match="already closed"):
        close(store, incident_id, reason="again", by=BY, actor=Actor.cli("tests"), now=NOW)


def test_resolving_brings_the_follow_up_whose_completion_completes_the_steps(
    store: sessionmaker[Session], shop: Settings
) -> None:
    incident_id = open_one(store, shop)
    for step, note in (("listen", None), ("restate", "no car, a flight at 3pm")):
        record_step(store, incident_id, step, by=BY, actor=Actor.cli("tests"), note=note, now=NOW)
    confirm_restatement(store, incident_id, by=BY, actor=Actor.cli("tests"), now=NOW)
    for step in ("own", "offer"):
        record_step(store, incident_id, step, by=BY, actor=Actor.cli("tests"), now=NOW)
    with pytest.raises(InvalidInput, match="was not offered"):
        resolve_incident(
            store,
            shop,
            incident_id,
            outcome="x",
            chosen_option="a pony",
            by=BY,
            actor=Actor.cli("tests"),
            now=NOW,
        )
    resolve_incident(
        store,
        shop,
        incident_id,
        outcome="drove her to the airport",
        chosen_option="find the client a car",
        by=BY,
        actor=Actor.cli("tests"),
        now=NOW,
    )
    run_pass(store, shop, now=NOW + timedelta(minutes=5))
    with store() as session:
        followups = [f for f in list_followups(session) if f.rule == "incident-follow-up"]
        view = get_incident(session, incident_id)
    assert len(followups) == 1 and followups[0].client_id == "C1"
    assert view.follow_up_id == followups[0].id
    assert view.missing == ("follow_up",)
    with pytest.raises(Conflict, match="follow_up"):
        close(store, incident_id, reason=None, by=BY, actor=Actor.cli("tests"), now=NOW)
    with store.begin() as session:
        complete(
            session,
            followups[0].id,
            outcome="all well",
            now=NOW + timedelta(days=1),
            actor=Actor.cli("tests"),
        )
    close(
        store,
        incident_id,
        reason=None,
        by=BY,
        actor=Actor.cli("tests"),
        now=NOW + timedelta(days=1),
    )
    with store() as session:
        view = get_incident(session, incident_id)
    assert view.missing == () and view.incident.status == "closed"
    assert view.incident.chosen_option == "find the client a car"
    assert view.steps[-1].step == "follow_up" and "all well" in (view.steps[-1].note or "")


def test_the_third_incident_of_a_cause_in_30_days_alerts_the_owner_once(
    store: sessionmaker[Session], shop: Settings
) -> None:
    def alerts() -> tuple[list[dict[str, object]], list[Outbox]]:
        with store() as session:
            events = session.execute(
                select(Event.payload).where(Event.type == "recovery.systemic")
            ).scalars()
            mails = session.execute(select(Outbox)).scalars().all()
            return list(events), list(mails)

    ids = [
        open_one(store, shop, client=client, cause=cause, now=NOW + timedelta(days=days))
        for client, cause, days in (("C1", "Wrong address", 0), ("C2", "wrong  ADDRESS", 10))
    ]
    open_one(store, shop, cause="late driver", now=NOW + timedelta(days=11))
    assert alerts() == ([], [])
    ids.append(open_one(store, shop, client="C2", now=NOW + timedelta(days=20)))
    events, mails = alerts()
    assert events == [{"cause": "wrong address", "count": 3, "days": 30, "incident_ids": ids}]
    assert [(m.kind, m.recipients) for m in mails] == [("email", ["owner@example.com"])]
    mail = message_from_bytes(mails[0].body)
    assert mail["Subject"] == "Systemic failure: wrong address (3 incidents in 30 days)"
    text = mail.get_payload(decode=True).decode()
    assert all(f"#{i} " in text for i in ids) and "Dana Longtime (C1)" in text
    open_one(store, shop, now=NOW + timedelta(days=25))  # a fourth: no second alert
    assert [len(x) for x in alerts()] == [1, 1]


def test_incidents_of_a_cause_spread_beyond_the_window_raise_no_alert(
    store: sessionmaker[Session], shop: Settings
) -> None:
    for days in (0, 20, 40):
        open_one(store, shop, now=NOW + timedelta(days=days))
    with store() as session:
        assert session.execute(select(Event).where(Event.type == "recovery.systemic")).all() == []
        assert [v.incident.cause for v in list_incidents(session, status="open")] == [
            "wrong address"
        ] * 3
