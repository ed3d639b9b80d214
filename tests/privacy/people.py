"""One client with a row in every table that can hold something about them, and a bystander."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from goodwill.domain.audit import Actor
from goodwill.store.audit import record
from goodwill.store.figures_models import ClientFigures
from goodwill.store.models import (
    Attachment,
    Client,
    ClientFact,
    ClientIdentity,
    Contact,
    Conversation,
    ConversationMerge,
    Event,
    FeedbackAnswer,
    FeedbackRequest,
    FeedbackTheme,
    FollowUp,
    FollowUpEvent,
    ImportRun,
    InboundMail,
    Incident,
    IncidentStep,
    Interaction,
    Invoice,
    Message,
    Order,
    OrderLine,
    Outbox,
    Payment,
    Refund,
    ThreadId,
)
from goodwill.store.rhythm_models import RhythmRow

NAME = "Zoltana Quibbleworth"
EMAIL = "zoltana.quibbleworth@example.org"
PHONE = "+31 6 9988 7766"
HOMETOWN = "Oudewaterkant"
CONTACT_EMAIL = "kasimir.quibbleworth@example.org"
SECRET_NOTE = "allergic to walnuts, daughter Philippa"
STREET = "Blauwbrugsteeg 19"
OTHER_EMAIL = "zq.at.work@example.net"
CALL_NOTE = "talked through the Philippa christening"


def person(
    session: Session, *, now: datetime, key: str = "A", name: str = NAME, email: str = EMAIL
) -> int:
    """A client with data everywhere; returns the client's id. Only client "A" has the
    phone, hometown and note the erasure test looks for."""
    phone, town, note = (PHONE, HOMETOWN, SECRET_NOTE) if key == "A" else ("+1 555", "Elm", "tea")
    street, other, call = (STREET, OTHER_EMAIL, CALL_NOTE) if key == "A" else ("Main St", "", "")
    old = now - timedelta(days=400)
    client = Client(
        external_id=f"C-{key}",
        name=name,
        email=email,
        phone=phone,
        hometown=town,
        birthday_day=3,
        birthday_month=4,
        birthday_year=1970,
        created_at=old,
        updated_at=old,
        name_key=name.lower(),
        tags=["vip"],
        street=street,
        postcode="1011 AB",
        city="Amsterdam",
        country="NL",
        marketing_consent=True,
        consent_how="asked at the counter",
    )
    session.add(client)
    session.flush()
    cid = client.id
    session.add(
        Contact(client_id=cid, name=f"Kasimir {key}", email=f"{key}{CONTACT_EMAIL}", phone=phone)
    )
    session.add(
        ClientFact(client_id=cid, kind="note", text=note + key, recorded_at=old, source="staff")
    )
    session.add(
        ClientIdentity(
            client_id=cid, kind="email", value=other or f"{key}@other.example", created_at=old
        )
    )
    session.add(
        Interaction(
            client_id=cid,
            kind="call",
            text=(call or "a call") + key,
            occurred_at=old,
            author_label="olive@example.com",
            created_at=old,
            updated_at=old,
        )
    )
    event = Event(
        type="client.contacted",
        client_id=cid,
        occurred_at=old,
        recorded_at=old,
        source="test",
        external_id=f"O-{key}",
        idempotency_key=f"test:order/{key}",
        payload={"name": name, "email": email},
    )
    session.add(event)
    order = Order(
        external_id=f"O-{key}", client_id=cid, occurred_at=old, currency="USD", amount_minor=12345
    )
    session.add(order)
    session.flush()
    session.add(OrderLine(order_id=order.id, line_key="1", product="Teapot", amount_minor=12345))
    session.add(
        Refund(external_id=f"R-{key}", order_id=order.id, amount_minor=100, occurred_at=old)
    )
    invoice = Invoice(
        external_id=f"I-{key}",
        client_id=cid,
        currency="USD",
        amount_minor=12345,
        issued_on=date(2025, 1, 1),
    )
    session.add(invoice)
    session.flush()
    session.add(
        Payment(invoice_id=invoice.id, amount_minor=12345, currency="USD", paid_on=date(2025, 1, 5))
    )
    followup = FollowUp(
        key=f"fu/{key}",
        client_id=cid,
        rule="thanks",
        reason="thanks",
        title=f"Thank {name}",
        channel="call",
        personal_level="personal",
        due_at=now,
        status="done",
        outcome=f"{name} was delighted",
        created_at=old,
        updated_at=old,
    )
    session.add(followup)
    session.flush()
    session.add(FollowUpEvent(followup_id=followup.id, event_id=event.id))
    raw = (
        f"From: {name} <{email}>\r\nTo: shop@example.com\r\nSubject: Hello\r\n"
        f"Message-ID: <m{key}@example.org>\r\n\r\nCall me on {phone}\r\n"
    ).encode()
    inbound = InboundMail(
        message_id=f"<m{key}@example.org>",
        source="api",
        received_at=old,
        sha256="0" * 64,
        raw=raw,
        status="parsed",
    )
    session.add(inbound)
    conversation = Conversation(
        client_id=cid,
        subject=f"Hello from {name}",
        subject_key="hello",
        status="open",
        created_at=old,
        last_message_at=old,
    )
    session.add(conversation)
    session.flush()
    message = Message(
        conversation_id=conversation.id,
        inbound_id=inbound.id,
        direction="in",
        message_id=f"<m{key}@example.org>",
        from_address=email,
        from_name=name,
        to=["shop@example.com"],
        subject="Hello",
        sent_at=old,
        text=f"Call me on {phone}",
        new_text=f"Call me on {phone}",
    )
    session.add(message)
    session.flush()
    # What threading keeps: the message's id, and a conversation merged into this one.
    session.add(
        ThreadId(
            message_id=message.message_id,
            conversation_id=conversation.id,
            seen=True,
            client_id=cid,
            subject_key=f"hello from {name}".casefold(),
            sent_at=old,
            answers=False,
        )
    )
    session.add(
        ConversationMerge(
            merged_id=10_000 + conversation.id, into_id=conversation.id, merged_at=old
        )
    )
    session.add(
        Attachment(
            message_id=message.id,
            filename="passport.txt",
            content_type="text/plain",
            size=20,
            content=f"passport of {name}".encode(),
        )
    )
    session.add(
        Outbox(
            key=f"reply/{key}",
            kind="email",
            recipients=[email],
            body=f"To: {email}\r\n\r\nDear {name}".encode(),
            message_row_id=message.id,
            status="sent",
            next_attempt_at=old,
            created_at=old,
            sent_at=old,
        )
    )
    incident = Incident(
        client_id=cid,
        what=f"Sent {name}'s parcel to {town}",
        currency="USD",
        ours=True,
        cause="wrong address",
        tier=2,
        score=0.5,
        status="open",
        opened_at=old,
        opened_by="owner@example.com",
    )
    session.add(incident)
    session.flush()
    session.add(
        IncidentStep(
            incident_id=incident.id,
            step="listen",
            done_at=old,
            by="owner@example.com",
            note=f"{name} upset",
        )
    )
    request = FeedbackRequest(
        key=f"ask/{key}",
        client_id=cid,
        question_key="why",
        question_text="Why do you stay?",
        token_hash=f"{key}" * 64,
        created_by="cli",
        created_at=old,
        expires_at=now,
    )
    session.add(request)
    session.flush()
    answer = FeedbackAnswer(
        client_id=cid,
        request_id=request.id,
        question_text="Why do you stay?",
        answer=f"Because of my husband {name} Senior",
        answered_at=old,
        recorded_at=old,
        recorded_by="client",
        channel="form",
    )
    session.add(answer)
    session.flush()
    session.add(FeedbackTheme(answer_id=answer.id, theme="people", matches=[{"phrase": name}]))
    # Mail from them that could not be filed, and an import run's preview of their row.
    session.add(
        InboundMail(
            message_id=f"<failed{key}@example.org>",
            source="smtp",
            received_at=old,
            sha256="1" * 64,
            raw=f"From: <{email.upper()}>\r\n\r\nbroken".encode(),
            status="failed",
            error="no date",
        )
    )
    session.add(
        ImportRun(
            kind="purchases",
            file_name=f"orders-{key}.csv",
            sha256="2" * 64,
            started_at=old,
            user="cli",
            summary={"preview": {"clients": [{"name": name, "email": email, "city": "x"}]}},
        )
    )
    record(
        session,
        Actor.user(1, "owner@example.com"),
        "client.updated",
        at=old,
        object_type="client",
        object_id=cid,
        client_id=cid,
        before={"email": "old@example.org"},
        after={"email": email},
    )
    # What the engine keeps of their purchases: their figures and their rhythm.
    session.add(ClientFigures(client_id=cid, orders=1, spend_minor=1_000))
    session.add(
        RhythmRow(
            client_id=cid,
            category="",
            last_day=20_000,
            expected_day=20_030,
            due_by_day=20_045,
            open_due_day=20_045,
            usual_interval=30.0,
            mean_value=10.0,
            year_value=120.0,
        )
    )
    session.flush()
    return cid
