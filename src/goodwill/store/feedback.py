"""Listening, stored: questions asked through personal links, answers kept verbatim, their themes.

A personal link carries a random token; only its SHA-256 is stored, so the database alone cannot
answer for a client. A link takes one answer: the answer claims its request with a compare-and-set
UPDATE (still unanswered, not expired), so two submits racing each other store one answer.
Requests are keyed by the reason they were made (unique ``key``); asking again for the same
reason creates nothing.

Counts for the comparison between new and long-term clients are aggregates in SQL; only the few
quotes shown per theme travel to Python.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, case, func, select, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from goodwill.domain.themes import Tag
from goodwill.errors import Conflict, InvalidInput, NotFound
from goodwill.store.base import as_utc
from goodwill.store.models import (
    Client,
    FeedbackAnswer,
    FeedbackRequest,
    FeedbackTheme,
    Order,
)

#: Who can record an answer, and through which channel.
RECORDERS = ("client", "staff", "cli")
CHANNELS = ("form", "call", "visit", "email", "cli")
#: Longest answer kept (a form is not a place for a novel; a pasted email fits easily).
MAX_ANSWER = 20_000
#: Longest quote shown for a theme before it is cut with an ellipsis.
QUOTE_CHARS = 160


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    """A token for a personal link: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def client_ref(client: Client) -> str:
    return client.external_id or f"#{client.id}"


def tenure_days(session: Session, client: Client, *, at: datetime, zone: ZoneInfo) -> int | None:
    """Days the client had been a client at ``at`` (from the earlier of "client since" and
    their first purchase, in the business's time zone); None when nothing tells."""
    first = session.execute(
        select(func.min(Order.occurred_at)).where(Order.client_id == client.id)
    ).scalar_one()
    starts: list[date] = [client.client_since] if client.client_since else []
    if first is not None:
        starts.append(as_utc(first).astimezone(zone).date())
    if not starts:
        return None
    return max(0, (at.astimezone(zone).date() - min(starts)).days)


# -- requests --------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewRequest:
    """A request just created, with the one copy of its token that will ever exist."""

    id: int
    token: str


def create_request(
    session: Session,
    client: Client,
    *,
    key: str,
    question_key: str,
    question_text: str,
    created_by: str,
    now: datetime,
    sent_at: datetime | None,
    expires_at: datetime,
) -> NewRequest | None:
    """A new request under the unique ``key``; None when one was already made for it."""
    token = new_token()
    values = {
        "key": key[:500],
        "client_id": client.id,
        "question_key": question_key,
        "question_text": question_text,
        "token_hash": hash_token(token),
        "created_by": created_by[:320],
        "created_at": now,
        "sent_at": sent_at,
        "expires_at": expires_at,
    }
    dialect: Any = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    table = FeedbackRequest.__table__
    stmt = (
        dialect.insert(table)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(table.c.id)
    )
    row = session.execute(stmt).first()
    return None if row is None else NewRequest(int(row[0]), token)


@dataclass(frozen=True)
class OpenRequest:
    """What the public form may show: the question, nothing of the client."""

    id: int
    question: str
    expires_at: datetime


def request_for_token(session: Session, token: str, *, now: datetime) -> OpenRequest:
    """The request a link points at, if it can still be answered.

    Raises NotFound for a token no request has, and Conflict (``reason`` answered or expired)
    for one that can no longer take an answer.
    """
    request = session.execute(
        select(FeedbackRequest).where(FeedbackRequest.token_hash == hash_token(token))
    ).scalar_one_or_none()
    if request is None:
        raise NotFound("no such feedback link", reason="unknown")
    if request.answered_at is not None:
        raise Conflict("this question has already been answered", reason="answered")
    if request.expires_at <= now:
        raise Conflict("this link has expired", reason="expired")
    return OpenRequest(request.id, request.question_text, request.expires_at)


def answer_request(
    session: Session,
    token: str,
    text: str,
    *,
    tags: Sequence[Tag],
    now: datetime,
    zone: ZoneInfo,
) -> int:
    """Store the client's answer through their link, once; the answer's id.

    The claim is one UPDATE guarded by "unanswered and not expired": of two racing submits,
    one wins and the other gets Conflict (answered).
    """
    found = request_for_token(session, token, now=now)
    claimed = session.execute(
        update(FeedbackRequest)
        .where(
            FeedbackRequest.id == found.id,
            FeedbackRequest.answered_at.is_(None),
            FeedbackRequest.expires_at > now,
        )
        .values(answered_at=now)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("this question has already been answered", reason="answered")
    request = session.get(FeedbackRequest, found.id)
    client = session.get(Client, request.client_id) if request else None
    if request is None or client is None:
        raise NotFound("no such feedback link", reason="unknown")
    return record_answer(
        session,
        client,
        question_key=request.question_key,
        question_text=request.question_text,
        answer=text,
        answered_at=now,
        recorded_by="client",
        channel="form",
        tags=tags,
        now=now,
        zone=zone,
        request_id=request.id,
    )


# -- answers ---------------------------------------------------------------------------------


def record_answer(
    session: Session,
    client: Client,
    *,
    question_key: str | None,
    question_text: str,
    answer: str,
    answered_at: datetime,
    recorded_by: str,
    channel: str,
    tags: Sequence[Tag],
    now: datetime,
    zone: ZoneInfo,
    staff_id: int | None = None,
    request_id: int | None = None,
) -> int:
    """Keep an answer verbatim with its themes and the client's tenure at ``answered_at``."""
    if recorded_by not in RECORDERS:
        raise InvalidInput(f"recorded_by must be one of {', '.join(RECORDERS)}", field="by")
    if channel not in CHANNELS:
        raise InvalidInput(
            f"channel {channel!r}: expected one of {', '.join(CHANNELS)}", field="channel"
        )
    if not answer.strip():
        raise InvalidInput("the answer is empty", field="answer")
    if len(answer) > MAX_ANSWER:
        raise InvalidInput(f"the answer is longer than {MAX_ANSWER} characters", field="answer")
    if not question_text.strip():
        raise InvalidInput("the question is empty", field="question")
    row = FeedbackAnswer(
        client_id=client.id,
        request_id=request_id,
        question_key=question_key,
        question_text=question_text,
        answer=answer,
        answered_at=answered_at,
        recorded_at=now,
        recorded_by=recorded_by,
        staff_id=staff_id,
        channel=channel,
        tenure_days=tenure_days(session, client, at=answered_at, zone=zone),
    )
    session.add(row)
    session.flush()
    session.add_all(
        FeedbackTheme(answer_id=row.id, theme=tag.theme, matches=[m.as_dict() for m in tag.matches])
        for tag in tags
    )
    session.flush()
    return row.id


@dataclass(frozen=True)
class AnswerView:
    id: int
    client: str
    client_name: str
    question: str
    answer: str
    answered_at: datetime
    tenure_days: int | None
    channel: str
    recorded_by: str
    themes: tuple[tuple[str, tuple[dict[str, Any], ...]], ...] = field(default=())

    @property
    def theme_keys(self) -> tuple[str, ...]:
        return tuple(theme for theme, _ in self.themes)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "client": self.client,
            "question": self.question,
            "answer": self.answer,
            "answered_at": self.answered_at.isoformat(),
            "tenure_days": self.tenure_days,
            "channel": self.channel,
            "recorded_by": self.recorded_by,
            "themes": [{"theme": t, "matches": list(m)} for t, m in self.themes],
        }


def list_answers(
    session: Session, *, client_id: int | None = None, limit: int | None = None
) -> list[AnswerView]:
    """Answers, newest first, with their themes (two queries, whatever their number)."""
    query = (
        select(FeedbackAnswer, Client)
        .join(Client, Client.id == FeedbackAnswer.client_id)
        .order_by(FeedbackAnswer.answered_at.desc(), FeedbackAnswer.id.desc())
    )
    if client_id is not None:
        query = query.where(FeedbackAnswer.client_id == client_id)
    if limit is not None:
        query = query.limit(limit)
    rows = session.execute(query).all()
    themes: dict[int, list[tuple[str, tuple[dict[str, Any], ...]]]] = {}
    ids = [answer.id for answer, _ in rows]
    if ids:
        for t in session.execute(
            select(FeedbackTheme)
            .where(FeedbackTheme.answer_id.in_(ids))
            .order_by(FeedbackTheme.answer_id, FeedbackTheme.id)
        ).scalars():
            themes.setdefault(t.answer_id, []).append((t.theme, tuple(t.matches)))
    return [
        AnswerView(
            id=a.id,
            client=client_ref(c),
            client_name=c.name,
            question=a.question_text,
            answer=a.answer,
            answered_at=a.answered_at,
            tenure_days=a.tenure_days,
            channel=a.channel,
            recorded_by=a.recorded_by,
            themes=tuple(themes.get(a.id, [])),
        )
        for a, c in rows
    ]


def client_themes(session: Session, client_id: int) -> list[tuple[str, int]]:
    """What a client values: their answers' themes, most frequent first (then by name)."""
    count = func.count(FeedbackTheme.id)
    rows = session.execute(
        select(FeedbackTheme.theme, count)
        .join(FeedbackAnswer, FeedbackAnswer.id == FeedbackTheme.answer_id)
        .where(FeedbackAnswer.client_id == client_id)
        .group_by(FeedbackTheme.theme)
        .order_by(count.desc(), FeedbackTheme.theme)
    ).all()
    return [(str(theme), int(n)) for theme, n in rows]


# -- new and long-term clients compared ------------------------------------------------------


@dataclass(frozen=True)
class ThemeCounts:
    theme: str
    new: int
    long_term: int
    new_quotes: tuple[str, ...]
    long_term_quotes: tuple[str, ...]


@dataclass(frozen=True)
class Comparison:
    """Answers by group (tenure at the answer), and per theme how many of each group's."""

    new_answers: int
    long_term_answers: int
    themes: tuple[ThemeCounts, ...]


def clients_spending(currency: str, low: int | None, high: int | None) -> Select[Any]:
    """The ids of clients whose lifetime spend in ``currency`` (minor units) is in [low, high)
    (None: open), as the tiers count it; clients without orders in it are not among them."""
    spend = func.sum(Order.amount_minor)
    having = [spend >= low] if low is not None else []
    having += [spend < high] if high is not None else []
    return (
        select(Order.client_id)
        .where(Order.currency == currency)
        .group_by(Order.client_id)
        .having(true(), *having)
    )


def _among(column: Any, clients: Select[Any] | None) -> ColumnElement[bool]:
    return column.in_(clients) if clients is not None else true()


def end_of_day(day: date, zone: ZoneInfo) -> datetime:
    """The instant a day ends in ``zone`` (the next day's midnight), in UTC."""
    nxt = date.fromordinal(day.toordinal() + 1)
    return datetime.combine(nxt, time.min).replace(tzinfo=zone).astimezone(UTC)


def compare_groups(
    session: Session,
    *,
    new_days: int,
    long_term_days: int,
    until: datetime | None = None,
    quotes: int = 2,
    clients: Select[Any] | None = None,
) -> Comparison:
    """Count, per theme, the answers of new clients (tenure below ``new_days``) and of
    long-term ones (``long_term_days`` or more), answered before ``until``, of ``clients`` only
    when given (a select of client ids); and pick each group's ``quotes`` shortest different
    sentences that carry the theme."""
    answered = (FeedbackAnswer.answered_at < until if until is not None else true()) & _among(
        FeedbackAnswer.client_id, clients
    )
    is_new = FeedbackAnswer.tenure_days < new_days
    is_long = FeedbackAnswer.tenure_days >= long_term_days
    group = case((is_new, "new"), (is_long, "long_term"), else_=None)
    totals = session.execute(
        select(
            func.coalesce(func.sum(case((is_new, 1), else_=0)), 0),
            func.coalesce(func.sum(case((is_long, 1), else_=0)), 0),
        ).where(answered)
    ).one()
    counts = session.execute(
        select(
            FeedbackTheme.theme,
            func.sum(case((is_new, 1), else_=0)),
            func.sum(case((is_long, 1), else_=0)),
        )
        .join(FeedbackAnswer, FeedbackAnswer.id == FeedbackTheme.answer_id)
        .where(answered)
        .group_by(FeedbackTheme.theme)
        .order_by(FeedbackTheme.theme)
    ).all()
    ranked = (
        select(
            FeedbackTheme.theme.label("theme"),
            group.label("grp"),
            FeedbackTheme.matches.label("matches"),
            FeedbackAnswer.answer.label("answer"),
            func.row_number()
            .over(
                partition_by=(FeedbackTheme.theme, group),
                order_by=(func.length(FeedbackAnswer.answer), FeedbackAnswer.id),
            )
            .label("rank"),
        )
        .join(FeedbackAnswer, FeedbackAnswer.id == FeedbackTheme.answer_id)
        .where(answered, FeedbackAnswer.tenure_days.is_not(None))
        .subquery()
    )
    picked: dict[tuple[str, str], list[str]] = {}
    for theme, grp, matches, answer, _rank in session.execute(
        select(ranked)
        .where(ranked.c.grp.is_not(None), ranked.c.rank <= quotes * 4)
        .order_by(ranked.c.theme, ranked.c.grp, ranked.c.rank)
    ):
        start = int(matches[0]["start"]) if matches else 0
        chosen = picked.setdefault((theme, grp), [])
        quote = quote_around(answer, start)
        if len(chosen) < quotes and quote not in chosen:  # the same words twice say nothing new
            chosen.append(quote)
    return Comparison(
        new_answers=int(totals[0]),
        long_term_answers=int(totals[1]),
        themes=tuple(
            ThemeCounts(
                theme=str(theme),
                new=int(new or 0),
                long_term=int(long or 0),
                new_quotes=tuple(picked.get((theme, "new"), [])),
                long_term_quotes=tuple(picked.get((theme, "long_term"), [])),
            )
            for theme, new, long in counts
        ),
    )


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def quote_around(answer: str, start: int) -> str:
    """The sentence of ``answer`` holding offset ``start``, verbatim; a long one is cut."""
    begin = 0
    for boundary in _SENTENCE_END.finditer(answer):
        if boundary.end() > start:
            sentence = answer[begin : boundary.start()]
            break
        begin = boundary.end()
    else:
        sentence = answer[begin:]
    sentence = sentence.strip()
    if len(sentence) > QUOTE_CHARS:
        sentence = sentence[: QUOTE_CHARS - 1].rstrip() + "…"
    return sentence


@dataclass(frozen=True)
class AnswerRate:
    """How often one question was asked by personal link, and how often those links got an
    answer; ``heard`` counts answers to it recorded by staff or brought in without a link."""

    question_key: str
    question_text: str
    asked: int
    answered: int
    heard: int

    @property
    def rate(self) -> float:
        return self.answered / self.asked if self.asked else 0.0


def answer_rates(
    session: Session, *, until: datetime | None = None, clients: Select[Any] | None = None
) -> list[AnswerRate]:
    """Per question key, links made before ``until`` and those answered before it (most asked
    first), so the business sees which questions clients take the time to answer; of
    ``clients`` only when given (a select of client ids)."""
    made = (FeedbackRequest.created_at < until if until is not None else true()) & _among(
        FeedbackRequest.client_id, clients
    )
    done = (
        FeedbackRequest.answered_at < until
        if until is not None
        else FeedbackRequest.answered_at.is_not(None)
    )
    rows = session.execute(
        select(
            FeedbackRequest.question_key,
            func.max(FeedbackRequest.question_text),
            func.count(),
            func.sum(case((done, 1), else_=0)),
        )
        .where(made)
        .group_by(FeedbackRequest.question_key)
    ).all()
    heard_at = (FeedbackAnswer.answered_at < until if until is not None else true()) & _among(
        FeedbackAnswer.client_id, clients
    )
    heard = dict(
        session.execute(
            select(FeedbackAnswer.question_key, func.count())
            .where(
                heard_at,
                FeedbackAnswer.request_id.is_(None),
                FeedbackAnswer.question_key.is_not(None),
            )
            .group_by(FeedbackAnswer.question_key)
        ).all()
    )
    rates = {
        key: AnswerRate(key, text, int(asked), int(answered or 0), int(heard.pop(key, 0)))
        for key, text, asked, answered in rows
    }
    if heard:
        texts: dict[str | None, str] = dict(
            session.execute(
                select(FeedbackAnswer.question_key, func.max(FeedbackAnswer.question_text))
                .where(FeedbackAnswer.question_key.in_(list(heard)))
                .group_by(FeedbackAnswer.question_key)
            ).all()
        )
        for key, count in heard.items():
            rates[key] = AnswerRate(str(key), texts.get(key) or str(key), 0, 0, int(count))
    return sorted(rates.values(), key=lambda r: (-r.asked, -r.heard, r.question_key))
