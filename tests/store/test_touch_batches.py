"""The month's batch from the store: exactly the printed touches due, their addresses and
messages, and marking it as sent; on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import dataclasses
import io
import tomllib
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from goodwill.domain.audit import Actor
from goodwill.domain.playbooks import Playbook, parse_playbook
from goodwill.settings import Settings
from goodwill.store.models import AuditEntry, Client, FollowUp
from goodwill.store.touch_batches import Batch, mark_sent, month_batch
from tests.conftest import NOW
from tests.web.postcards import PLAYBOOK, December, due, seed_december, with_address
from tests.web.sample import add_client

DECEMBER = date(2026, 12, 1)
TODAY = NOW.date()


@pytest.fixture
def shop(settings: Settings) -> Settings:
    return dataclasses.replace(settings, business_name="Harbour Linen")


@pytest.fixture
def playbook() -> Playbook:
    return parse_playbook(tomllib.loads(PLAYBOOK), source="tests")


@pytest.fixture
def december(store: sessionmaker[Session]) -> December:
    with store.begin() as session:
        return seed_december(session, now=NOW)


def _batch(
    store: sessionmaker[Session],
    settings: Settings,
    playbook: Playbook,
    *,
    kind: str | None = None,
    month: date = DECEMBER,
) -> Batch:
    with store() as session:
        return month_batch(session, settings, playbook, month=month, kind=kind, today=TODAY)


def test_the_batch_holds_exactly_the_printed_touches_due_in_the_month(
    store: sessionmaker[Session], shop: Settings, playbook: Playbook, december: December
) -> None:
    batch = _batch(store, shop, playbook)
    assert [c.followup_id for c in batch.postcards] == [december.ines, december.margaret]
    assert [c.followup_id for c in batch.notes] == [december.nora]
    assert [(m.followup_id, m.name, m.why) for m in batch.without_address] == [
        (december.tom, "Tom Becker", "no street in the client's address")
    ]
    assert batch.followup_ids == [december.ines, december.margaret, december.nora]
    margaret = batch.postcards[1]
    assert (margaret.name, margaret.client_ref, margaret.kind) == (
        "Margaret Holloway",
        "P-1",
        "birthday",
    )
    assert margaret.address.lines() == [
        "12 Harbour Lane",
        "Flat 3",
        "LS1 4AB Leeds",
        "West Yorkshire",
        "GB",
    ]
    assert margaret.message.startswith("Dear Margaret,\n\nHappy birthday! All of us at Harbour")
    assert margaret.message.endswith("Olive Owner") and "Subject" not in margaret.message
    assert margaret.problem is None and margaret.mention == ()
    ines = batch.postcards[0]
    assert ines.kind == "anniversary" and ines.occasion == "5 years as a client (since 2021-12-03)"
    assert "It is 5 years since you first came to us at Harbour Linen" in ines.message
    assert ines.address.line2 == "Duarte Ceramics"


def test_a_handwritten_note_comes_with_what_to_mention_from_the_clients_facts(
    store: sessionmaker[Session], shop: Settings, playbook: Playbook, december: December
) -> None:
    (nora,) = _batch(store, shop, playbook).notes
    assert nora.occasion == "Birthday month (16 December)"
    assert nora.mention == (
        "Family event: Her son started university in Lund",
        "Interest: Sails a wooden boat on Lake Mälaren",
    )
    assert nora.message.startswith("Dear Nora,")


def test_the_kind_filters_the_batch(
    store: sessionmaker[Session], shop: Settings, playbook: Playbook, december: December
) -> None:
    birthdays = _batch(store, shop, playbook, kind="birthday")
    assert [c.followup_id for c in birthdays.postcards] == [december.margaret]
    assert [m.followup_id for m in birthdays.without_address] == [december.tom]
    anniversaries = _batch(store, shop, playbook, kind="anniversary")
    assert [c.followup_id for c in anniversaries.postcards] == [december.ines]
    assert anniversaries.notes == () and anniversaries.without_address == ()
    assert _batch(store, shop, playbook, kind="milestone").followup_ids == []
    january = _batch(store, shop, playbook, month=date(2027, 1, 1))
    assert [c.followup_id for c in january.postcards] == [december.january]


def test_the_month_is_the_business_zones_month(
    store: sessionmaker[Session], shop: Settings, playbook: Playbook
) -> None:
    berlin = dataclasses.replace(shop, timezone="Europe/Berlin")
    with store.begin() as session:
        client = with_address(
            add_client(session, external_id="Z-1", name="Zoe Early", now=NOW),
            "Ackerstr. 1",
            "Berlin",
            "10115",
            "DE",
        )
        at = (
            datetime(2026, 11, 30, 23, 30, tzinfo=UTC),
            datetime(2026, 12, 31, 23, 30, tzinfo=UTC),
        )
        early, late = (
            due(
                session,
                client,
                rule="birthday-postcard",
                event="client.birthday_month",
                payload={"birthday": "2 December"},
                at=when,
            )
            for when in at
        )
    in_berlin = _batch(store, berlin, playbook)
    assert [c.followup_id for c in in_berlin.postcards] == [early]  # 00:30 on 1 December there
    in_utc = _batch(store, shop, playbook)
    assert [c.followup_id for c in in_utc.postcards] == [late]


def test_a_template_that_cannot_be_filled_leaves_the_title_and_says_why(
    store: sessionmaker[Session], shop: Settings, playbook: Playbook
) -> None:
    with store.begin() as session:
        client = with_address(
            add_client(session, external_id="Q-1", name="Quinn", now=NOW), "1 Way", "York", "", ""
        )
        gone = due(
            session,
            client,
            rule="retired-rule",
            event="client.milestone",
            payload={"n": 10, "what": "10th order"},
            at=datetime(2026, 12, 2, 9, tzinfo=UTC),
            title="10th order postcard for Quinn",
        )
        no_signer = due(
            session,
            client,
            rule="anniversary-postcard",
            event="client.anniversary",
            payload={"years": 2, "since": "2024-12-04"},
            at=datetime(2026, 12, 4, 9, tzinfo=UTC),
            title="2 years with Quinn",
        )
    cards = {c.followup_id: c for c in _batch(store, shop, playbook).postcards}
    assert cards[gone].message == "10th order postcard for Quinn"
    assert cards[gone].problem == "rule 'retired-rule' is no longer in the playbook"
    assert cards[gone].kind == "milestone"
    assert cards[no_signer].message == "2 years with Quinn"  # nobody to sign: no staff at all
    assert (cards[no_signer].problem or "").startswith("the template could not be filled: ")


def test_closed_follow_ups_and_archived_clients_are_not_in_the_batch(
    store: sessionmaker[Session], shop: Settings, playbook: Playbook, december: December
) -> None:
    with store.begin() as session:
        session.get(FollowUp, december.ines).status = "done"  # type: ignore[union-attr]
        tom = session.execute(select(Client).where(Client.external_id == "P-4")).scalar_one()
        tom.archived_at = NOW
    batch = _batch(store, shop, playbook)
    assert [c.followup_id for c in batch.postcards] == [december.margaret]
    assert batch.without_address == ()


def test_marking_the_batch_sent_closes_its_follow_ups_once_with_an_audited_outcome(
    store: sessionmaker[Session], shop: Settings, playbook: Playbook, december: December
) -> None:
    batch = _batch(store, shop, playbook)
    later = datetime(2026, 12, 1, 10, tzinfo=UTC)
    with store.begin() as session:
        assert mark_sent(session, batch, actor=Actor.cli("tests"), now=later) == 3
    with store.begin() as session:
        assert mark_sent(session, batch, actor=Actor.cli("tests"), now=later) == 0
    with store() as session:
        rows = {f.id: f for f in session.execute(select(FollowUp)).scalars()}
        audits = session.execute(
            select(AuditEntry).where(AuditEntry.action == "followup.done")
        ).scalars()
        audited = sorted(int(a.object_id) for a in audits)
    assert rows[december.margaret].status == "done"
    assert rows[december.margaret].outcome == "Sent with the postcard batch of December 2026"
    assert rows[december.margaret].closed_at == later
    assert rows[december.nora].outcome == "Written by hand for the December 2026 batch"
    assert rows[december.tom].status == "open"  # no address: still to be done another way
    assert rows[december.january].status == "open" and rows[december.by_mail].status == "open"
    assert audited == sorted([december.ines, december.margaret, december.nora])
    again = _batch(store, shop, playbook)
    assert again.followup_ids == [] and len(again.without_address) == 1


def test_the_csv_lists_the_postcards_with_their_addresses(
    store: sessionmaker[Session], shop: Settings, playbook: Playbook, december: December
) -> None:
    rows = list(csv.DictReader(io.StringIO(_batch(store, shop, playbook).csv())))
    assert [r["name"] for r in rows] == ["Ines Duarte", "Margaret Holloway"]
    assert rows[1]["address_line1"] == "12 Harbour Lane" and rows[1]["country"] == "GB"
    assert rows[1]["message"].startswith("Dear Margaret,\n\nHappy birthday!")
