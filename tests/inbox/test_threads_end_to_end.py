"""Threads filed through the real inbox (the Maildir poll that `goodwill mail poll` runs), on
SQLite and PostgreSQL: a reordered mailbox gives the conversations of in-order delivery, and
conversations found to be one thread merge with their clock, assignee, status and incidents."""

from __future__ import annotations

import mailbox
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from goodwill.actions.inbox import receive
from goodwill.actions.incidents import open_incident
from goodwill.domain.audit import Actor
from goodwill.mail.maildir import poll_maildir
from goodwill.settings import Settings
from goodwill.store.models import AuditEntry, Conversation, Incident, Message, StaffUser
from goodwill.store.staff import add_user
from goodwill.store.thread_index import merged_into

MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def mail(
    message_id: str,
    *,
    sender: str,
    subject: str,
    at: datetime,
    parents: tuple[str, ...] = (),
    references: bool = True,
) -> EmailMessage:
    m = EmailMessage()
    m["From"] = sender
    m["To"] = "care@bakery.example"
    m["Subject"] = subject
    m["Date"] = format_datetime(at)
    m["Message-ID"] = f"<{message_id}>"
    if parents:
        m["In-Reply-To"] = f"<{parents[-1]}>"
        if references:
            m["References"] = " ".join(f"<{p}>" for p in parents)
    m.set_content(f"About {subject.lower()}.\n")
    return m


def written_threads() -> dict[str, list[EmailMessage]]:
    """Four threads as their writers made them."""
    ana, ben, cleo = (
        "Ana <ana@mail.example>",
        "Ben <ben@mail.example>",
        "Cleo <cleo@mail.example>",
    )
    shop = "Bakery <care@bakery.example>"
    t = [MONDAY + timedelta(minutes=37 * i) for i in range(20)]
    return {
        # the root was written on a phone and never reached this mailbox
        "missing root": [
            mail("w1@x", sender=shop, subject="Re: Wedding cake", at=t[1], parents=("w0@x",)),
            mail("w2@x", sender=ana, subject="Re: Wedding cake", at=t[2], parents=("w0@x", "w1@x")),
            mail("w3@x", sender=shop, subject="Re: Wedding cake", at=t[3], parents=("w0@x",)),
        ],
        # a deep thread, one program keeping only In-Reply-To
        "chain": [
            mail("c0@x", sender=ben, subject="Bread order for the café", at=t[0]),
            mail(
                "c1@x",
                sender=shop,
                subject="Re: Bread order for the café",
                at=t[2],
                parents=("c0@x",),
            ),
            mail(
                "c2@x",
                sender=ben,
                subject="AW: Bread order for the café",
                at=t[4],
                parents=("c0@x", "c1@x"),
                references=False,
            ),
            mail(
                "c3@x",
                sender=shop,
                subject="Re: Bread order for the café",
                at=t[6],
                parents=("c0@x", "c1@x", "c2@x"),
            ),
        ],
        # the client's program drops every header: only the subject says where it belongs
        "subject only": [
            mail("s0@x", sender=cleo, subject="Gluten-free options", at=t[1]),
            mail(
                "s1@x", sender=shop, subject="Re: Gluten-free options", at=t[3], parents=("s0@x",)
            ),
            mail("s2@x", sender=cleo, subject="Re: Gluten-free options", at=t[5]),
        ],
        "single": [mail("n0@x", sender=ana, subject="Opening hours at Easter", at=t[7])],
    }


def conversations(store: sessionmaker[Session]) -> set[frozenset[str]]:
    with store() as session:
        rows = session.execute(select(Message.message_id, Message.conversation_id)).all()
    groups: dict[int, set[str]] = {}
    for message_id, conversation_id in rows:
        groups.setdefault(conversation_id, set()).add(message_id)
    return {frozenset(g) for g in groups.values()}


@pytest.mark.parametrize("seed", [1, 2])
def test_a_reordered_mailbox_gives_the_conversations_its_threads_were_written_in(
    store: sessionmaker[Session], settings: Settings, tmp_path: Path, seed: int
) -> None:
    threads = written_threads()
    box = mailbox.mbox(str(tmp_path / "season.mbox"))
    for messages in threads.values():
        for m in messages:
            box.add(m)
    box.flush()
    delivered = list(mailbox.mbox(str(tmp_path / "season.mbox")))
    random.Random(seed).shuffle(delivered)
    maildir = mailbox.Maildir(str(tmp_path / "Maildir"))
    for position, message in enumerate(delivered):  # the poll reads names in sorted order
        (tmp_path / "Maildir" / "new" / f"{position:04d}.x").write_bytes(message.as_bytes())
    assert len(maildir) == len(delivered)
    ticks = iter(MONDAY + timedelta(hours=6, minutes=i) for i in range(100))
    report = poll_maildir(store, settings, tmp_path / "Maildir", clock=lambda: next(ticks))
    assert report.parsed == len(delivered)
    expected = {
        frozenset(str(m["Message-ID"]).strip("<>") for m in messages)
        for messages in threads.values()
    }
    assert conversations(store) == expected


@pytest.fixture
def on_clock(settings: Settings, store: sessionmaker[Session], tmp_path: Path) -> Settings:
    (tmp_path / "sla.toml").write_text(
        '[[policy]]\nname = "all"\ncalendar = "24/7"\nfirst_response = "4h"\n'
        'next_response = "4h"\n',
        encoding="utf-8",
    )
    with store.begin() as session:
        add_user(
            session,
            email="olga@bakery.example",
            name="Olga",
            role="owner",
            password="a long password",
            now=MONDAY,
        )
    return replace(settings, sla=tmp_path / "sla.toml", owner="olga@bakery.example")


def test_a_parent_arriving_late_merges_two_conversations_keeping_clock_assignee_and_incident(
    store: sessionmaker[Session], on_clock: Settings
) -> None:
    ben = "Ben <ben@mail.example>"
    subject = "Re: Bread order"
    # Two replies from branches of one thread, whose common parent has not arrived yet.
    first = mail("r1@x", sender=ben, subject=subject, at=MONDAY, parents=("p@x",))
    second = mail("r2@x", sender=ben, subject=subject, at=MONDAY, parents=("q@x",))
    one = receive(store, on_clock, first.as_bytes(), source="smtp", now=MONDAY)
    later = MONDAY + timedelta(hours=1)
    two = receive(store, on_clock, second.as_bytes(), source="smtp", now=later)
    assert (
        one.conversation_id and two.conversation_id and one.conversation_id != two.conversation_id
    )
    with store.begin() as session:
        session.get(Conversation, one.conversation_id).assignee_id = None  # type: ignore[union-attr]
        incident = open_incident(
            session,
            on_clock,
            client_ref="ben@mail.example",
            what="the rye was burnt",
            cause="quality",
            by="olga@bakery.example",
            actor=Actor.cli("tests"),
            now=later,
            conversation_id=two.conversation_id,
        )
    parent = mail("p@x", sender=ben, subject="Bread order", at=MONDAY, parents=("q@x",))
    merged = receive(
        store, on_clock, parent.as_bytes(), source="smtp", now=MONDAY + timedelta(hours=2)
    )
    assert merged.conversation_id == one.conversation_id
    with store() as session:
        kept = session.get(Conversation, one.conversation_id)
        assert kept is not None
        assert session.get(Conversation, two.conversation_id) is None
        assert merged_into(session, two.conversation_id) == one.conversation_id
        # The clock started with the first message and has run since: due 4 h after it.
        assert kept.status == "open"
        assert kept.sla_started_at == MONDAY
        assert kept.sla_due_at == MONDAY + timedelta(hours=4)
        # Only the later conversation had an assignee: it is kept.
        owner = session.execute(select(StaffUser)).scalar_one()
        assert kept.assignee_id == owner.id
        messages = session.execute(
            select(Message.message_id).where(Message.conversation_id == kept.id)
        ).scalars()
        assert set(messages) == {"r1@x", "r2@x", "p@x"}
        assert session.get(Incident, incident).conversation_id == kept.id  # type: ignore[union-attr]
        entry = session.execute(
            select(AuditEntry).where(AuditEntry.action == "conversation.merged")
        ).scalar_one()
        assert entry.object_id == str(kept.id) and entry.after["merged"] == [two.conversation_id]
    # A new thread never takes the merged conversation's id: links to it lead to where it went.
    other = mail("n@x", sender="Cleo <cleo@mail.example>", subject="Rye loaf", at=MONDAY)
    fresh = receive(
        store, on_clock, other.as_bytes(), source="smtp", now=MONDAY + timedelta(hours=3)
    )
    assert fresh.conversation_id not in (None, one.conversation_id, two.conversation_id)
    with store() as session:
        assert merged_into(session, two.conversation_id) == one.conversation_id
