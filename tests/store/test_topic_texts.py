"""What topic discovery reads, on SQLite and PostgreSQL: answers with their stored themes and
clients' mail (new text only, no auto-replies, nothing we sent), each with the tenure then."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from goodwill.actions.feedback import add_answer
from goodwill.settings import Settings
from goodwill.store.models import Conversation, Message, Order
from goodwill.store.topic_texts import fingerprint, said_by_clients
from tests.store.test_feedback import NOW, client

ZONE = ZoneInfo("Europe/Amsterdam")


def mail(
    session: Session,
    conversation: Conversation,
    n: int,
    text: str,
    *,
    at: datetime,
    **extra: object,
) -> None:
    session.add(
        Message(
            conversation_id=conversation.id,
            direction=str(extra.pop("direction", "in")),
            message_id=f"<m{n}@example.com>",
            from_address="bob@example.com",
            subject="Parking",
            sent_at=at,
            text=f"{text}\n\n> what we wrote before",
            new_text=text,
            **extra,
        )
    )


def test_answers_and_client_mail_come_with_their_tenure_and_themes(
    store: sessionmaker[Session], settings: Settings
) -> None:
    with store.begin() as session:
        ann = client(session, "C1", since=date(2015, 1, 1))
        bob = client(session, "C2", since=None)
        session.add(
            Order(
                external_id="O1",
                client_id=bob.id,
                occurred_at=datetime(2026, 10, 31, 23, 30, tzinfo=UTC),  # 1 November there
                currency="EUR",
                amount_minor=1000,
            )
        )
        add_answer(
            session,
            settings,
            ann,
            question_text="miss-us",
            answer="Always on time, and the staff know my name.",
            answered_at=NOW - timedelta(days=2),
            channel="call",
            recorded_by="staff",
            now=NOW,
        )
        talk = Conversation(
            client_id=bob.id,
            subject="Parking",
            subject_key="parking",
            status="open",
            created_at=NOW,
            last_message_at=NOW,
        )
        session.add(talk)
        session.flush()
        mail(session, talk, 1, "Is there a parking space?", at=NOW - timedelta(days=1))
        mail(session, talk, 2, "I am away until Monday.", at=NOW, auto_reply=True)
        mail(session, talk, 3, "Yes, behind the shop.", at=NOW, direction="out")
        mail(session, talk, 4, "   ", at=NOW)
    with store() as session:
        said = said_by_clients(session, zone=ZONE)
        before = fingerprint(session)
        earlier = said_by_clients(session, zone=ZONE, until=NOW - timedelta(days=1, seconds=-1))
        one_each = said_by_clients(session, zone=ZONE, limit=1)
    answer, asked = said
    assert answer.source == "answer" and answer.text.startswith("Always on time")
    assert answer.themes == ("people", "timeliness")
    assert answer.tenure_days == (NOW.date() - date(2015, 1, 1)).days - 2
    assert (asked.source, asked.text, asked.themes) == ("mail", "Is there a parking space?", ())
    assert asked.tenure_days == 21  # from 1 November, in the business's zone, to 22 November
    assert asked.at == NOW - timedelta(days=1)
    assert [s.source for s in earlier] == ["answer", "mail"]
    assert [s.source for s in one_each] == ["answer"]  # the newest mail is blank
    with store.begin() as session:
        mail(session, talk, 5, "And for bikes?", at=NOW)
    with store() as session:
        assert fingerprint(session) != before
        assert said_by_clients(session, zone=ZONE, until=NOW - timedelta(days=3)) == []
