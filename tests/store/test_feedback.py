"""Listening in the store, on SQLite and PostgreSQL: requests once per reason, a link takes one
answer, answers with their tenure and themes, and the new / long-term comparison counted in SQL."""

from __future__ import annotations

import dataclasses
import email
import email.policy
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from goodwill.actions.feedback import add_answer, answer_link, ask, compare_themes, question
from goodwill.errors import Conflict, NotFound
from goodwill.settings import Settings
from goodwill.store.feedback import (
    client_themes,
    compare_groups,
    hash_token,
    list_answers,
    request_for_token,
)
from goodwill.store.models import Client, FeedbackRequest, Order, Outbox

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def mailing(settings: Settings) -> Settings:
    return dataclasses.replace(
        settings,
        mail={"from_address": "care@roastery.example"},
        public_url="https://care.roastery.example",
        business_name="Roastery Example",
    )


def client(session: Session, ref: str, *, since: date | None, email: str | None = None) -> Client:
    row = Client(
        external_id=ref,
        name=f"Client {ref}",
        name_key=f"client {ref}".lower(),
        email=email,
        client_since=since,
        created_at=NOW,
        updated_at=NOW,
    )
    session.add(row)
    session.flush()
    return row


def test_a_question_is_asked_once_per_reason_with_a_hashed_token_and_a_mail(
    store: sessionmaker[Session], settings: Settings
) -> None:
    settings = mailing(settings)
    with store.begin() as session:
        ann = client(session, "C1", since=date(2015, 1, 1), email="ann@example.com")
        first = ask(
            session,
            settings,
            ann,
            question(settings, "miss-us"),
            key="rule/event-1",
            created_by="rule:test",
            now=NOW,
        )
        again = ask(
            session,
            settings,
            ann,
            question(settings, "miss-us"),
            key="rule/event-1",
            created_by="rule:test",
            now=NOW,
        )
    assert first is not None and again is None
    token = first.link.rsplit("/", 1)[1]
    assert first.link == f"https://care.roastery.example/feedback/{token}"
    assert first.expires_at == NOW + timedelta(days=30)
    with store() as session:
        stored = session.execute(select(FeedbackRequest)).scalar_one()
        assert stored.token_hash == hash_token(token) and token not in stored.token_hash
        [mail] = session.execute(select(Outbox)).scalars().all()
        assert mail.recipients == ["ann@example.com"] and mail.next_attempt_at == NOW
        message = email.message_from_bytes(mail.body, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        body = message.get_content()
        assert first.link in body and "What would you miss if we were gone?" in body
        assert "Roastery Example" in body
        assert request_for_token(session, token, now=NOW).question == (
            "What would you miss if we were gone?"
        )


def test_a_link_takes_one_answer_and_refuses_once_expired_or_unknown(
    store: sessionmaker[Session], settings: Settings
) -> None:
    settings = mailing(settings)
    with store.begin() as session:
        ann = client(session, "C1", since=date(2020, 11, 23), email="ann@example.com")
        made = ask(
            session,
            settings,
            ann,
            question(settings, "benefit"),
            key="k1",
            created_by="cli",
            now=NOW,
        )
        late = ask(
            session,
            settings,
            ann,
            question(settings, "benefit"),
            key="k2",
            created_by="cli",
            now=NOW,
        )
    assert made is not None and late is not None
    token, expired = made.link.rsplit("/", 1)[1], late.link.rsplit("/", 1)[1]
    with store.begin() as session:
        answer_link(session, settings, token, "  Always on time.  ", now=NOW + timedelta(days=1))
    with store.begin() as session, pytest.raises(Conflict) as twice:
        answer_link(session, settings, token, "Again", now=NOW + timedelta(days=2))
    assert twice.value.fields["reason"] == "answered"
    with store.begin() as session, pytest.raises(Conflict) as gone:
        answer_link(session, settings, expired, "Too late", now=NOW + timedelta(days=31))
    assert gone.value.fields["reason"] == "expired"
    with store.begin() as session, pytest.raises(NotFound):
        request_for_token(session, "not-a-token", now=NOW)
    with store() as session:
        [answer] = list_answers(session)
    assert answer.answer == "Always on time."
    assert (answer.channel, answer.recorded_by, answer.tenure_days) == ("form", "client", 2192)
    assert answer.theme_keys == ("timeliness",)
    assert answer.themes[0][1][0]["phrase"] == "on time"


def test_tenure_starts_at_the_earlier_of_client_since_and_the_first_purchase(
    store: sessionmaker[Session], settings: Settings
) -> None:
    with store.begin() as session:
        bob = client(session, "C2", since=date(2026, 1, 1))
        session.add(
            Order(
                external_id="O1",
                client_id=bob.id,
                occurred_at=datetime(2025, 11, 23, 9, tzinfo=UTC),
                currency="EUR",
                amount_minor=1000,
            )
        )
        lead = client(session, "C3", since=None)
        for who in (bob, lead):
            add_answer(
                session,
                settings,
                who,
                question_text="miss-us",
                answer="The people.",
                answered_at=NOW,
                channel="call",
                recorded_by="staff",
                now=NOW,
            )
    with store() as session:
        tenure = {a.client: a.tenure_days for a in list_answers(session)}
        asked = {a.client: a.question for a in list_answers(session)}
    assert tenure == {"C2": 365, "C3": None}
    assert asked["C2"] == "What would you miss if we were gone?"  # a key becomes its words


def test_new_and_long_term_clients_are_compared_theme_by_theme(
    store: sessionmaker[Session], settings: Settings
) -> None:
    answers = [
        # (since, answer)
        (date(2026, 6, 1), "The new app and the low price."),  # new
        (date(2026, 3, 1), "Your prices."),  # new
        (date(2026, 1, 1), "Nothing to say."),  # new, no theme
        (date(2010, 1, 1), "Always on time. The people are lovely."),  # long-term
        (date(2015, 1, 1), "On time, every day."),  # long-term
        (date(2023, 1, 1), "Fair prices and on time."),  # neither group (almost 4 years)
    ]
    with store.begin() as session:
        for i, (since, text) in enumerate(answers):
            who = client(session, f"C{i}", since=since)
            add_answer(
                session,
                settings,
                who,
                question_text="Why us?",
                answer=text,
                answered_at=NOW,
                channel="cli",
                recorded_by="cli",
                now=NOW,
            )
    with store() as session:
        found = compare_groups(session, new_days=365, long_term_days=1826, until=None)
        body = compare_themes(session, settings, until=None)
        values = client_themes(session, session.execute(select(func.min(Client.id))).scalar_one())
    assert (found.new_answers, found.long_term_answers) == (3, 2)
    by_theme = {t["theme"]: t for t in body["themes"]}
    assert (by_theme["price"]["new_share"], by_theme["price"]["long_term_share"]) == (0.6667, 0.0)
    assert (by_theme["timeliness"]["new_share"], by_theme["timeliness"]["long_term_share"]) == (
        0.0,
        1.0,
    )
    assert by_theme["people"]["long_term_share"] == 0.5
    assert by_theme["features"]["new_share"] == 0.3333
    assert by_theme["timeliness"]["quotes"] == ["On time, every day.", "Always on time."]
    assert by_theme["price"]["quotes"] == ["Your prices.", "The new app and the low price."]
    assert [t["theme"] for t in body["themes"]][:3] == ["timeliness", "reliability", "people"]
    assert values == [("features", 1), ("price", 1)]
    with store() as session:
        before = compare_groups(
            session, new_days=365, long_term_days=1826, until=NOW - timedelta(days=1)
        )
    assert (before.new_answers, before.long_term_answers, before.themes) == (0, 0, ())
