"""Story 7 end to end, on SQLite and PostgreSQL: a long-term client whose cash flow depends on fast
answers in a morning window gets a tighter response target in exactly that window; the warning
and the breach fire at their instants, once, as touch points, mail and webhook notices."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from goodwill.actions.imports import import_file
from goodwill.actions.inbox import receive, reply, set_status
from goodwill.domain.audit import Actor
from goodwill.domain.records import FileKind
from goodwill.engine.configuration import run_pass
from goodwill.settings import Settings
from goodwill.store.models import Conversation, Event, InboundMail, Message, Outbox, StaffUser
from goodwill.store.staff import add_user

CHICAGO_TUESDAY_0820 = datetime(2026, 11, 24, 14, 20, tzinfo=UTC)  # 08:20 CST

POLICY = """
warn_at = 0.75
[[policy]]
name = "long-term"
tags = ["long-term"]
calendar = "business"
first_response = "4h"
next_response = "4h"

[[policy]]
name = "default"
calendar = "business"
first_response = "8h"
next_response = "8h"

[[critical_window]]
client = "C-1042"
days = "mon-fri"
hours = "08:00-10:00"
timezone = "America/Chicago"
first_response = "30m"
next_response = "30m"
"""


@pytest.fixture
def business(settings: Settings, store: sessionmaker[Session], tmp_path: Path) -> Settings:
    (tmp_path / "sla.toml").write_text(POLICY, encoding="utf-8")
    configured = replace(
        settings,
        timezone="America/Chicago",
        calendar={
            "timezone": "America/Chicago",
            "hours": {d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
        },
        sla=tmp_path / "sla.toml",
        mail={"from_address": "care@roastery.example"},
        webhooks=({"url": "http://127.0.0.1:9/hooks", "events": ["sla.breach"]},),
    )
    with store.begin() as session:
        add_user(
            session,
            email="owner@roastery.example",
            name="Olga",
            role="owner",
            password="a long password",
            now=CHICAGO_TUESDAY_0820,
        )
        add_user(
            session,
            email="ana@roastery.example",
            name="Ana",
            role="staff",
            password="a long password",
            now=CHICAGO_TUESDAY_0820,
        )
    clients = tmp_path / "clients.csv"
    clients.write_text(
        "client_id,name,email,tags,owner,client_since\n"
        "C-1042,Harbor Freight Co,ops@harbor.example,long-term,ana@roastery.example,2008-03-01\n",
        encoding="utf-8",
    )
    summary = import_file(store, configured, FileKind.CLIENTS, clients, now=CHICAGO_TUESDAY_0820)
    assert not summary.errors
    return configured


def mail(subject: str, at: datetime, message_id: str, reply_to: str | None = None) -> bytes:
    m = EmailMessage()
    m["From"] = "Harbor Ops <ops@harbor.example>"
    m["To"] = "care@roastery.example"
    m["Subject"] = subject
    m["Date"] = at.strftime("%a, %d %b %Y %H:%M:%S +0000")
    m["Message-ID"] = f"<{message_id}>"
    if reply_to:
        m["In-Reply-To"] = f"<{reply_to}>"
        m["References"] = f"<{reply_to}>"
    m.set_content("Our pallet order did not arrive; the line stops at 10.\n")
    return m.as_bytes()


def events(store: sessionmaker[Session], kind: str) -> list[Event]:
    with store() as session:
        return list(session.execute(select(Event).where(Event.type == kind)).scalars())


def test_a_message_in_the_critical_window_gets_the_tighter_target_and_fires_once(
    store: sessionmaker[Session], business: Settings
) -> None:
    at = CHICAGO_TUESDAY_0820
    got = receive(
        store, business, mail("Pallets missing", at, "m1@harbor.example"), source="smtp", now=at
    )
    assert got.status == "parsed" and got.conversation_id is not None
    with store() as session:
        c = session.get(Conversation, got.conversation_id)
        assert c is not None and c.sla_critical and c.sla_policy == "long-term"
        assert c.sla_due_at == at + timedelta(minutes=30)
        assert c.sla_warn_at == at + timedelta(minutes=22, seconds=30)
        assignee = session.get(StaffUser, c.assignee_id)
        # 08:20 is before opening and no rota is set: the client's own owner, at once.
        assert assignee is not None and assignee.email == "ana@roastery.example"
    run_pass(store, business, now=at + timedelta(minutes=22))
    assert events(store, "sla.warning") == []
    run_pass(store, business, now=at + timedelta(minutes=23))
    (warning,) = events(store, "sla.warning")
    assert warning.occurred_at == at + timedelta(minutes=22, seconds=30)
    run_pass(store, business, now=at + timedelta(minutes=31))
    run_pass(store, business, now=at + timedelta(minutes=45))  # again: nothing twice
    (breach,) = events(store, "sla.breach")
    assert breach.occurred_at == at + timedelta(minutes=30)
    assert len(events(store, "sla.warning")) == 1
    with store() as session:
        notices = list(session.execute(select(Outbox).order_by(Outbox.key)).scalars())
    kinds = sorted((o.kind, o.recipients[0]) for o in notices)
    assert kinds == [
        ("email", "ana@roastery.example"),  # warned, then alerted at breach
        ("email", "ana@roastery.example"),
        ("email", "owner@roastery.example"),  # the owner at breach only
        ("webhook", "http://127.0.0.1:9/hooks"),  # breach events only, as configured
    ]


def test_the_same_message_outside_the_window_gets_the_policy_target_in_business_hours(
    store: sessionmaker[Session], business: Settings
) -> None:
    at = CHICAGO_TUESDAY_0820 + timedelta(hours=2, minutes=40)  # 11:00 CST
    got = receive(
        store, business, mail("Invoice copy", at, "m2@harbor.example"), source="smtp", now=at
    )
    with store() as session:
        c = session.get(Conversation, got.conversation_id)
        assert c is not None and not c.sla_critical
        assert c.sla_due_at == at + timedelta(hours=4)  # 15:00, within the day's hours


def test_a_reply_stops_the_clock_threads_and_waiting_on_the_client_pauses_it(
    store: sessionmaker[Session], business: Settings
) -> None:
    at = CHICAGO_TUESDAY_0820 + timedelta(hours=2, minutes=40)
    first = receive(
        store, business, mail("Invoice copy", at, "m3@harbor.example"), source="smtp", now=at
    )
    assert first.conversation_id is not None
    with store.begin() as session:
        row = reply(
            session,
            business,
            first.conversation_id,
            text="Attached, with apologies; I'll call you at 2pm to check it arrived.",
            author_email="ana@roastery.example",
            actor=Actor.cli("tests"),
            now=at + timedelta(minutes=10),
        )
    with store() as session:
        sent = session.get(Message, row)
        assert sent is not None and sent.in_reply_to == "m3@harbor.example"
        (queued,) = session.execute(select(Outbox).where(Outbox.kind == "email")).scalars()
        assert b"In-Reply-To: <m3@harbor.example>" in queued.body
        c = session.get(Conversation, first.conversation_id)
        assert c is not None and c.sla_due_at is None and c.status == "answered"
    later = at + timedelta(hours=1)
    again = receive(
        store,
        business,
        mail("Re: Invoice copy", later, "m4@harbor.example", reply_to=sent.message_id),
        source="smtp",
        now=later,
    )
    assert again.conversation_id == first.conversation_id
    with store() as session:
        c = session.get(Conversation, first.conversation_id)
        assert c is not None and c.sla_kind == "next" and c.sla_due_at == later + timedelta(hours=4)
    with store.begin() as session:
        set_status(
            session,
            business,
            first.conversation_id,
            "waiting",
            now=later + timedelta(hours=1),
            actor=Actor.cli("tests"),
        )
    with store() as session:
        c = session.get(Conversation, first.conversation_id)
        assert c is not None and c.sla_due_at is None and c.sla_elapsed_s == 3600
    with store.begin() as session:
        set_status(
            session,
            business,
            first.conversation_id,
            "open",
            now=later + timedelta(hours=2),
            actor=Actor.cli("tests"),
        )
    with store() as session:
        c = session.get(Conversation, first.conversation_id)
        assert c is not None and c.sla_due_at == later + timedelta(hours=5)


def test_a_duplicate_delivery_is_stored_once_and_an_unreadable_one_is_kept(
    store: sessionmaker[Session], business: Settings
) -> None:
    at = CHICAGO_TUESDAY_0820
    raw = mail("Pallets", at, "dup@harbor.example")
    assert not receive(store, business, raw, source="smtp", now=at).duplicate
    assert receive(store, business, raw, source="imap", now=at).duplicate
    broken = receive(store, business, b"\x00\x01 not mail at all", source="maildir", now=at)
    assert broken.status == "failed"
    with store() as session:
        rows = list(session.execute(select(InboundMail).order_by(InboundMail.id)).scalars())
        assert [r.status for r in rows] == ["parsed", "failed"]
        assert rows[1].raw == b"\x00\x01 not mail at all" and rows[1].error
