"""A dated fact the team wrote down becomes the ``client.life_event`` touch point on its day, and
the shipped playbook asks a few days later how it went; times are injected."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from goodwill.domain.audit import Actor
from goodwill.domain.facts import check_fact
from goodwill.domain.records import FileKind
from goodwill.store.memory import Author, add_fact
from goodwill.store.models import Event
from goodwill.store.queries import find_client
from tests.engine.conftest import World

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # a Monday
CLIENTS = "client_id,name,email,birthday,owner,contact_window\n"


def _remember(world: World, kind: str, text: str, on: str) -> None:
    with world.store.begin() as session:
        client = find_client(session, "C1")
        add_fact(
            session,
            client,
            check_fact(kind, text, on),
            author=Author(None, "Olivia"),
            actor=Actor.cli("tests"),
            source="cli",
            now=NOW,
        )


def test_a_future_dated_fact_becomes_a_follow_up_after_the_engine_pass_on_its_day(
    world: World,
) -> None:
    world.staff("olivia@shop.example", "owner", NOW)
    world.load(
        FileKind.CLIENTS, CLIENTS + "C1,Ann Smith,ann@example.com,,olivia@shop.example,\n", NOW
    )
    _remember(world, "family", "Daughter's wedding in Lisbon", "2026-12-12")
    world.run(NOW)
    world.run(datetime(2026, 12, 11, 8, 0, tzinfo=UTC))
    assert [f for f in world.followups() if f.reason == "life-event"] == []

    on_the_day = datetime(2026, 12, 12, 9, 0, tzinfo=UTC)
    world.run(on_the_day)
    [ask] = [f for f in world.followups() if f.reason == "life-event"]
    assert ask.title == "Ask Ann Smith how it went: Daughter's wedding in Lisbon"
    assert ask.channel == "call" and ask.event_types == ("client.life_event",)
    assert ask.assignee == "olivia@shop.example"
    assert ask.due_at.date() >= date(2026, 12, 15)  # a few days after the day itself
    with world.store() as session:
        event = session.execute(select(Event).where(Event.type == "client.life_event")).scalar_one()
        assert event.payload["on_date"] == "2026-12-12" and event.payload["kind"] == "family"
        assert event.occurred_at.date() == date(2026, 12, 12)

    assert world.run(on_the_day + timedelta(days=1)).created == 0  # once


def test_a_day_the_engine_missed_is_caught_up_and_a_yearly_one_comes_back(world: World) -> None:
    world.staff("olivia@shop.example", "owner", NOW)
    world.load(
        FileKind.CLIENTS, CLIENTS + "C1,Ann Smith,ann@example.com,,olivia@shop.example,\n", NOW
    )
    _remember(world, "event", "Opens the second shop", "2026-12-01")
    _remember(world, "birthday", "Her son Tom's birthday", "2015-12-03")
    world.run(datetime(2026, 12, 4, 8, 0, tzinfo=UTC))  # the engine did not run on 1 or 3 Dec
    with world.store() as session:
        days = sorted(
            e.payload["on_date"]
            for e in session.execute(
                select(Event).where(Event.type == "client.life_event")
            ).scalars()
        )
    assert days == ["2026-12-01", "2026-12-03"]
    world.run(datetime(2027, 12, 3, 8, 0, tzinfo=UTC))
    with world.store() as session:
        keys = (
            session.execute(select(Event.idempotency_key).where(Event.type == "client.life_event"))
            .scalars()
            .all()
        )
    assert len(keys) == 3 and any("2027-12-03" in k for k in keys)
