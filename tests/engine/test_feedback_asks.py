"""The default playbook asks open questions: on a client's anniversary and two weeks after an
incident is resolved, by mail with a personal link, exactly once however often the engine runs;
a client without an email address becomes a call for staff instead."""

from __future__ import annotations

import dataclasses
import email
import email.policy
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from goodwill.domain.records import ClientRef, FileKind
from goodwill.settings import Settings
from goodwill.store.events import record_touch_point
from goodwill.store.models import FeedbackRequest, Outbox
from tests.engine.conftest import World

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # a Monday
CLIENTS = "client_id,name,email,client_since\n"


@pytest.fixture
def mailing(store: sessionmaker[Session], settings: Settings, tmp_path: Path) -> World:
    settings = dataclasses.replace(
        settings,
        mail={"from_address": "care@roastery.example"},
        public_url="https://care.roastery.example",
        business_name="Roastery Example",
    )
    return World(store, settings, tmp_path)


def mails(world: World) -> list[tuple[Outbox, str]]:
    with world.store() as session:
        rows = list(
            session.execute(
                select(Outbox).where(Outbox.key.like("feedback:%")).order_by(Outbox.id)
            ).scalars()
        )
    out = []
    for row in rows:
        message = email.message_from_bytes(row.body, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        out.append((row, message.get_content()))
    return out


def test_an_anniversary_asks_by_mail_once_and_a_client_without_email_gets_a_call(
    mailing: World,
) -> None:
    world = mailing
    world.staff("olivia@roastery.example", "owner", NOW)
    world.load(
        FileKind.CLIENTS,
        CLIENTS + "A1,Ann Arbor,ann@example.com,2019-11-20\nB1,Ben Bare,,2018-11-21\n",
        NOW,
    )
    first = world.run(NOW)
    second = world.run(NOW + timedelta(hours=1))
    assert (first.asked, second.asked) == (1, 0)
    [(mail, body)] = mails(world)
    assert mail.recipients == ["ann@example.com"] and mail.status == "queued"
    assert "How and why do you benefit from working with us?" in body
    assert "https://care.roastery.example/feedback/" in body
    # Due "1 business days" after the anniversary (Friday 20 November): Monday at opening.
    assert mail.next_attempt_at == datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    with world.store() as session:
        [request] = session.execute(select(FeedbackRequest)).scalars().all()
    assert request.created_by == "rule:anniversary-question" and request.question_key == "benefit"
    assert request.key == "anniversary-question/scan:anniversary/1/7"
    calls = [f for f in world.followups() if f.rule == "anniversary-question"]
    assert [(f.client_id, f.channel) for f in calls] == [("B1", "call")]
    assert "ask on a call" in calls[0].title


def test_two_weeks_after_an_incident_is_resolved_the_client_is_asked_how_we_handled_it(
    mailing: World,
) -> None:
    world = mailing
    world.staff("olivia@roastery.example", "owner", NOW)
    world.load(FileKind.CLIENTS, CLIENTS + "A1,Ann Arbor,ann@example.com,2024-02-01\n", NOW)
    resolved = NOW - timedelta(days=2)
    with world.store.begin() as session:
        record_touch_point(
            session,
            world.settings,
            type="incident.resolved",
            client=ClientRef("A1", None, None),
            occurred_at=resolved,
            source="incidents",
            payload={"incident_id": 7},
            now=resolved,
            external_id="incident.resolved/incident-7",
        )
    assert world.run(NOW).asked == 1
    assert world.run(NOW + timedelta(days=1)).asked == 0
    [(mail, body)] = mails(world)
    assert "What happened the last time something went wrong" in body
    # Held until 14 days after: Saturday 5 December, so Monday at opening (the due rule's frame).
    assert mail.next_attempt_at == datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    assert [f.rule for f in world.followups()] == ["incident-follow-up"]


def test_without_mail_settings_nothing_is_asked_and_nothing_is_created(world: World) -> None:
    world.staff("olivia@roastery.example", "owner", NOW)
    world.load(FileKind.CLIENTS, CLIENTS + "A1,Ann Arbor,ann@example.com,2019-11-20\n", NOW)
    assert world.run(NOW).asked == 0
    assert mails(world) == []
    assert [f.rule for f in world.followups()] == ["long-anniversary-owner-call"]
