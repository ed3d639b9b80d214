"""A client whose history has one of each kind of timeline entry, written straight into the store
the way the inbox, the incidents, the engine and the client-memory forms leave them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import insert
from sqlalchemy.orm import Session

from goodwill.domain.audit import Actor
from goodwill.store.audit import record
from goodwill.store.models import (
    Client,
    ClientFact,
    Conversation,
    Event,
    FeedbackAnswer,
    FollowUp,
    FollowUpEvent,
    Incident,
    Interaction,
    Message,
)
from tests.web.sample import add_client, add_purchase, staff_user

STORY = "C-STORY"


@dataclass(frozen=True)
class Story:
    client_id: int
    conversation: int
    incident: int
    followup: int
    removed_fact: int


def event(
    session: Session,
    client: Client,
    kind: str,
    key: str,
    at: datetime,
    payload: dict[str, object],
    *,
    source: str = "web",
) -> Event:
    row = Event(
        type=kind,
        client_id=client.id,
        occurred_at=at,
        recorded_at=at,
        source=source,
        external_id=key,
        idempotency_key=f"{source}:{kind}/{key}",
        payload=payload,
    )
    session.add(row)
    session.flush()
    return row


def story(session: Session, *, now: datetime) -> Story:
    """Bram, a client whose last weeks hold a message, a reply, a breach, a call, a note, facts,
    an incident, a follow-up done, a feedback answer, a merge and a counter sale."""
    anna = staff_user(session, email="anna@example.com", role="staff", name="Anna", now=now)
    client = add_client(
        session, external_id=STORY, name="Bram Peeters", now=now, email="bram@example.com"
    )
    day = now - timedelta(days=30)

    def at(n: int) -> datetime:
        return day + timedelta(days=n)

    order = add_purchase(
        session, client, order_id="S-1", at=at(1), amount_minor=4_500, product="Teapot"
    )
    order.served_by_id = anna.id

    conversation = Conversation(
        client_id=client.id,
        subject="Invoice 2041",
        subject_key="invoice 2041",
        status="open",
        created_at=at(2),
        last_message_at=at(3),
    )
    session.add(conversation)
    session.flush()
    session.add_all(
        [
            Message(
                conversation_id=conversation.id,
                direction="in",
                message_id="<m1@bram.example>",
                from_address="bram@example.com",
                from_name="Bram",
                subject="Invoice 2041",
                sent_at=at(2),
                text="Can you resend the invoice?\n\nBram",
                new_text="Can you resend the invoice?\n\nBram",
            ),
            Message(
                conversation_id=conversation.id,
                direction="out",
                message_id="<r1@shop.example>",
                from_address="care@shop.example",
                subject="Re: Invoice 2041",
                sent_at=at(3),
                text="Sent again just now.",
                new_text="Sent again just now.",
                author_id=anna.id,
            ),
        ]
    )
    event(
        session,
        client,
        "message.received",
        "message/<m1@bram.example>",
        at(2),
        {"conversation_id": conversation.id, "subject": "Invoice 2041", "threaded": "new"},
        source="inbox",
    )
    clock = {
        "conversation_id": conversation.id,
        "subject": "Invoice 2041",
        "due_at": at(2).isoformat(),
        "policy": "standard",
        "critical": False,
    }
    event(session, client, "sla.warning", f"sla/{conversation.id}/1/warning", at(2), clock)
    breach = event(session, client, "sla.breach", f"sla/{conversation.id}/1/breach", at(2), clock)

    call = Interaction(
        client_id=client.id,
        kind="call",
        text="Asked about the winter teas",
        outcome="Will come by on Friday",
        occurred_at=at(4),
        author_id=anna.id,
        author_label="Anna",
        created_at=at(4),
        updated_at=at(4),
    )
    note = Interaction(
        client_id=client.id,
        kind="note",
        text="Prefers invoices by post",
        occurred_at=at(5),
        pinned=True,
        author_id=anna.id,
        author_label="Anna",
        created_at=at(5),
        updated_at=at(5),
    )
    session.add_all([call, note])
    session.flush()
    by = {"by": "Anna", "by_id": anna.id}
    event(
        session,
        client,
        "service.interaction",
        f"interaction/{call.id}",
        at(4),
        {"interaction_id": call.id, "kind": "call", "summary": call.text, "outcome": None, **by},
    )
    event(
        session, client, "note.added", f"note/{note.id}", at(5), {"interaction_id": note.id, **by}
    )

    wedding = ClientFact(
        client_id=client.id,
        kind="family",
        text="Daughter's wedding in Lisbon",
        on_date=date(2027, 6, 12),
        recorded_at=at(6),
        source="conversation",
        quote="My daughter is getting married in June!",
        author_id=anna.id,
        author_label="Anna",
    )
    gone = ClientFact(
        client_id=client.id, kind="sensitivity", text="secret", recorded_at=at(6), source="staff"
    )
    session.add_all([wedding, gone])
    session.flush()
    event(
        session,
        client,
        "fact.added",
        f"fact/{wedding.id}",
        at(6),
        {"fact_id": wedding.id, "kind": "family", **by},
    )
    event(
        session,
        client,
        "fact.added",
        f"fact/{gone.id}",
        at(6) + timedelta(hours=1),
        {"fact_id": gone.id, "kind": "sensitivity", **by},
    )
    removed_fact = gone.id
    session.delete(gone)

    incident = Incident(
        client_id=client.id,
        what="Parcel went to the wrong address",
        currency="USD",
        ours=True,
        cause="wrong address",
        tier=2,
        score=0.5,
        status="open",
        opened_at=at(7),
        opened_by="anna@example.com",
    )
    session.add(incident)
    session.flush()
    event(
        session,
        client,
        "incident.opened",
        f"incident-{incident.id}",
        at(7),
        {"incident_id": incident.id, "tier": 2, "cause": "wrong address"},
        source="incidents",
    )

    followup = FollowUp(
        key=f"late/{breach.id}",
        client_id=client.id,
        rule="answer-late",
        reason="sla-breach",
        title="Call Bram about the slow answer",
        channel="call",
        personal_level="call",
        due_at=at(8),
        status="done",
        outcome="Apologised; he was fine",
        created_at=at(2),
        updated_at=at(8),
        closed_at=at(8),
    )
    session.add(followup)
    session.flush()
    session.add(FollowUpEvent(followup_id=followup.id, event_id=breach.id))
    record(
        session,
        Actor.user(anna.id, anna.email),
        "followup.done",
        at=at(8),
        object_type="followup",
        object_id=followup.id,
        client_id=client.id,
        before={"status": "open"},
        after={"status": "done"},
    )
    session.add(
        FeedbackAnswer(
            client_id=client.id,
            question_text="What matters most to you?",
            answer="Being on time",
            answered_at=at(9),
            recorded_at=at(9),
            recorded_by="staff",
            staff_id=anna.id,
            channel="call",
        )
    )
    event(
        session,
        client,
        "client.merged",
        "merge/1",
        at(10),
        {
            "other_id": 999,
            "other_name": "B. Peeters",
            "other_ref": "C-OLD",
            "by": "Olive Owner",
            "by_id": None,
            "moved": {"orders": 2},
        },
    )
    return Story(client.id, conversation.id, incident.id, followup.id, removed_fact)


def many_events(session: Session, client: Client, count: int, *, start: datetime) -> None:
    """``count`` purchase-free events, one a day back from ``start`` (a long relationship)."""
    rows = [
        {
            "type": "client.birthday_month",
            "client_id": client.id,
            "occurred_at": start - timedelta(days=n),
            "recorded_at": start,
            "source": "bulk",
            "external_id": f"bulk/{n}",
            "idempotency_key": f"bulk:{client.id}/{n}",
            "payload": {"birthday": f"day {n}"},
        }
        for n in range(count)
    ]
    session.execute(insert(Event), rows)
