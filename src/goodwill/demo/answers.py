"""Demo answers to the open questions: what Kade Koffie's clients said, in their own words.

New clients mostly came for something new or a good price (the latest lot, the subscription, an
offer, ordering online); long-term clients stay because the beans arrive on time every week, the
people know them, and they are looked after when something goes wrong. Middle-tenure clients
say a bit of both. The answers are stored through the same path as a staff member's (themes and
tenure included), from a seed, so the same seed and ``now`` give the same answers.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from goodwill.actions.feedback import add_answer, load_questions
from goodwill.settings import Settings
from goodwill.store.base import as_utc
from goodwill.store.models import Client, Order

__all__ = ["demo_answers"]

NEW = (
    "I signed up for the new single-origin subscription and it hasn't disappointed.",
    "Your prices were better than the specialty range at the supermarket.",
    "The new cold brew kit was the reason I first ordered.",
    "Ordering online takes a minute and the beans come to my door.",
    "The welcome discount got me in; the taste kept me.",
    "Honestly, the price. Good beans for less than I paid before.",
    "The latest Ethiopian lot is fantastic, I tell everyone about it.",
    "I like that I can pause the subscription in the app when we travel.",
    "Your new decaf is the first one I actually enjoy.",
    "It was on sale the first time, and then I was hooked.",
    "The new brewing course was fun and not expensive.",
    "Easy to order, easy to pick up at the shop on my way home.",
)
LONG = (
    "The beans are there every Monday before we open, and have been for years.",
    "Marloes and the team know exactly how we like our roast.",
    "You have never once let us down, not even the winter the canal froze.",
    "It's the people. After all this time they feel like friends.",
    "On time, every time. That is all a café needs.",
    "When our grinder broke you lent us one the same day. We felt looked after.",
    "Consistency: the house blend tastes the same as it did when we started.",
    "I trust you to tell me straight when a coffee isn't right for us.",
    "Deliveries arrive when you say they will, week in, week out.",
    "Jeroen still remembers my daughter's name and asks how she is doing.",
    "The time a pallet went missing, you drove the beans over yourselves so we could open.",
    "Reliable like clockwork. I never have to think about reordering.",
)
BOTH = (
    "Good coffee at a fair price, and a friendly word at the counter.",
    "Quick answers when I email, usually the same morning.",
    "The quality of the roast, mostly.",
    "Fresh beans and people who know what they are talking about.",
)


def demo_answers(
    store: sessionmaker[Session], settings: Settings, *, seed: int, now: datetime, count: int = 80
) -> int:
    """Store about ``count`` answers from clients of every tenure; how many were stored."""
    rng = random.Random(seed * 7919 + 3)
    questions = list(load_questions(settings))
    with store.begin() as session:
        first = (
            select(Order.client_id, func.min(Order.occurred_at).label("first"))
            .group_by(Order.client_id)
            .subquery()
        )
        rows = session.execute(
            select(Client, first.c.first)
            .outerjoin(first, first.c.client_id == Client.id)
            .order_by(Client.id)
        ).all()
        candidates = []
        for client, first_order in rows:
            starts = [d for d in (client.client_since, _day(first_order)) if d is not None]
            if starts:
                candidates.append((client, (now.date() - min(starts)).days))
        rng.shuffle(candidates)
        # About three in eight answers from new clients, three in eight from long-term ones.
        new = [c for c in candidates if c[1] < 330][: count * 3 // 8]
        long = [c for c in candidates if c[1] >= 5 * 366 + 60][: count * 3 // 8]
        middle = [c for c in candidates if c not in new and c not in long]
        # The few new clients are asked more than once (the welcome, the first month, ...).
        chosen = (new * 3)[: count * 3 // 8] + long
        chosen += middle[: count - len(chosen)]
        stored = 0
        for client, days in chosen:
            if days < 330:  # answered while still new
                ago = rng.randint(0, days)
            elif days >= 5 * 366 + 60:  # answered once long-term
                ago = rng.randint(1, 60)
            else:
                ago = rng.randint(1, min(300, days))
            tenure = (days - ago) / 365.25
            pool = NEW if tenure < 1 else LONG if tenure >= 5 else NEW + LONG
            sentences = [rng.choice(pool)]
            if rng.random() < 0.35:
                sentences.append(rng.choice(BOTH))
            channel = rng.choice(("form", "form", "form", "call", "visit"))
            add_answer(
                session,
                settings,
                client,
                question_text=rng.choice(questions),
                answer=" ".join(sentences),
                answered_at=now - timedelta(days=ago, hours=rng.randint(0, 8)),
                channel=channel,
                recorded_by="client" if channel == "form" else "staff",
                now=now,
            )
            stored += 1
    return stored


def _day(value: datetime | str | None) -> date | None:
    if value is None:
        return None
    return as_utc(value).date()
