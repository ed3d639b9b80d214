"""Listening: ask a client an open question by mail, keep their answer, compare what new and
long-term clients value.

The questions and themes come from TOML files (the business's own named by the ``feedback``
setting), else from the settings page, else the shipped defaults. Asking creates a request with
a personal link and, in the same transaction, an outbox mail that carries the link and leaves
at ``send_at``; the mail's outbox key is the request's, so it is queued once. Answers are tagged
with themes when they are stored, and the phrases that matched are stored with them.
"""

from __future__ import annotations

import email.utils
import functools
import json
import logging
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import Session

from goodwill.domain.audit import Actor
from goodwill.domain.questions import Question, parse_questions
from goodwill.domain.themes import Tag, Theme, parse_themes, tag_answer
from goodwill.errors import ConfigError, Conflict, InvalidInput, NotFound
from goodwill.settings import Settings
from goodwill.store import feedback as stored
from goodwill.store.audit import record
from goodwill.store.ingest import insert_new
from goodwill.store.insights import tier_bounds
from goodwill.store.models import Client, Outbox
from goodwill.store.queries import figures_currency

log = logging.getLogger(__name__)

#: What page values carry in error messages, where a file's path would be.
PAGE_SOURCE = "settings page"
#: Days in a year of tenure, for the new / long-term boundaries.
YEAR_DAYS = 365.25


# -- the questions and themes files ------------------------------------------------------------


def _read(path: Path | None, default: str, what: str) -> tuple[dict[str, Any], str]:
    if path is None:
        text = resources.files("goodwill").joinpath(f"defaults/{default}").read_text("utf-8")
        return tomllib.loads(text), f"default {what}"
    try:
        return tomllib.loads(path.read_text(encoding="utf-8")), str(path)
    except FileNotFoundError:
        raise ConfigError(f"{path}: {what} file not found", file=str(path)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}", file=str(path)) from exc


@functools.lru_cache(maxsize=8)
def _questions(path: Path | None, stamp: float) -> dict[str, Question]:
    data, source = _read(path, "questions.toml", "questions")
    return parse_questions(data, source=source)


@functools.lru_cache(maxsize=8)
def _themes(path: Path | None, stamp: float) -> tuple[Theme, ...]:
    data, source = _read(path, "themes.toml", "themes")
    return parse_themes(data, source=source)


def _stamp(path: Path | None) -> float:
    """The file's modification time, so an edited file is read again."""
    try:
        return path.stat().st_mtime if path is not None else 0.0
    except OSError:
        return -1.0


@functools.lru_cache(maxsize=8)
def _page_questions(text: str) -> dict[str, Question]:
    return parse_questions(json.loads(text), source=PAGE_SOURCE)


@functools.lru_cache(maxsize=8)
def _page_themes(text: str) -> tuple[Theme, ...]:
    return parse_themes(json.loads(text), source=PAGE_SOURCE)


def page_document(settings: Settings, key: str) -> str | None:
    """The page's saved ``questions`` or ``themes`` as canonical JSON (a cache key that changes
    with the content), or None when the file names one or the page holds none."""
    if settings.feedback.get(key) is not None:
        return None
    saved = settings.page.get(key)
    if not isinstance(saved, Mapping) or not saved:
        return None
    return json.dumps(saved, sort_keys=True)


@dataclass(frozen=True)
class InForce:
    """Where the questions or the themes in force come from (``file``, ``page`` or ``shipped``),
    and their document in the TOML file's shape."""

    where: str
    document: dict[str, Any]
    path: Path | None = None


def in_force(settings: Settings, key: str) -> InForce:
    """The ``questions`` or ``themes`` in force: the file the ``feedback`` setting names, else
    the settings page's, else the shipped ones."""
    path = settings.feedback.get(key)
    saved = settings.page.get(key)
    if path is None and isinstance(saved, Mapping) and saved:
        return InForce("page", dict(saved))
    data, _ = _read(path, f"{key}.toml", key)
    return InForce("shipped" if path is None else "file", data, path)


def load_questions(settings: Settings) -> dict[str, Question]:
    """The questions by key: the ``feedback.questions`` file, else the settings page's, else
    the shipped ones; errors name the file (or the page), the question and the field."""
    saved = page_document(settings, "questions")
    if saved is not None:
        return _page_questions(saved)
    path = settings.feedback.get("questions")
    return _questions(path, _stamp(path))


def load_themes(settings: Settings) -> tuple[Theme, ...]:
    """The themes in their configured order: the ``feedback.themes`` file, else the settings
    page's, else the shipped ones; errors name the file (or the page), the theme and the field."""
    saved = page_document(settings, "themes")
    if saved is not None:
        return _page_themes(saved)
    path = settings.feedback.get("themes")
    return _themes(path, _stamp(path))


def question(settings: Settings, key: str) -> Question:
    questions = load_questions(settings)
    if key not in questions:
        raise NotFound(
            f"no question with key {key!r} (known: {', '.join(questions)})", question=key
        )
    return questions[key]


def tag(settings: Settings, text: str) -> list[Tag]:
    return tag_answer(text, load_themes(settings))


def group_days(settings: Settings) -> tuple[int, int]:
    """Tenure in days below which a client is new, and from which long-term."""
    return (
        math.floor(float(settings.feedback["new_years"]) * YEAR_DAYS),
        math.floor(float(settings.feedback["long_term_years"]) * YEAR_DAYS),
    )


# -- asking --------------------------------------------------------------------------------------


def can_mail(settings: Settings) -> str | None:
    """Why questions cannot be mailed (a setting missing), or None when they can."""
    if not settings.mail.get("from_address"):
        return "mail.from_address is not set"
    if not settings.public_url:
        return "public_url is not set (the personal link needs it)"
    return None


def feedback_link(settings: Settings, token: str) -> str:
    """The personal link; only its path while ``public_url`` is not set."""
    return f"{(settings.public_url or '').rstrip('/')}/feedback/{token}"


@dataclass(frozen=True)
class Asked:
    request_id: int
    link: str
    send_at: datetime
    expires_at: datetime


def ask(
    session: Session,
    settings: Settings,
    client: Client,
    asked: Question,
    *,
    key: str,
    created_by: str,
    now: datetime,
    send_at: datetime | None = None,
    in_person: bool = False,
) -> Asked | None:
    """Ask ``client`` by mail: a request under ``key`` and its mail, leaving at ``send_at``
    (default now); None when a request was already made under ``key``.

    The client needs an email address and goodwill a sender and a public address, unless the
    link is handed over ``in_person`` (printed, shown on a screen): then nothing is mailed.
    """
    problem = can_mail(settings)
    if problem is not None and not in_person:
        raise ConfigError(f"cannot mail a question: {problem}", key="mail")
    if not client.email and not in_person:
        raise InvalidInput(
            f"client {stored.client_ref(client)} has no email address: ask on a call and record "
            "the answer with `goodwill feedback add`",
            field="client",
        )
    leaves = max(send_at or now, now)
    expires = leaves + timedelta(days=float(settings.feedback["link_days"]))
    made = stored.create_request(
        session,
        client,
        key=key,
        question_key=asked.key,
        question_text=asked.text,
        created_by=created_by,
        now=now,
        sent_at=leaves,
        expires_at=expires,
    )
    if made is None:
        return None
    link = feedback_link(settings, made.token)
    if in_person:
        log.info("feedback request %s for client %s (%s), by hand", made.id, client.id, asked.key)
        return Asked(made.id, link, leaves, expires)
    mail = _question_mail(settings, client, asked, link=link, expires=expires, at=leaves)
    insert_new(
        session,
        Outbox,
        [
            {
                "key": f"feedback:request/{made.id}",
                "kind": "email",
                "recipients": [client.email],
                "body": mail.as_bytes(),
                "status": "queued",
                "attempts": 0,
                "next_attempt_at": leaves,
                "created_at": now,
            }
        ],
        ["key"],
    )
    log.info("feedback request %s for client %s (%s)", made.id, client.id, asked.key)
    return Asked(made.id, link, leaves, expires)


@dataclass(frozen=True)
class AskedClient:
    """A question put to one client by a person: the request, and why it was not mailed
    (None when it was)."""

    asked: Asked
    unmailed: str | None


def ask_client(
    session: Session,
    settings: Settings,
    client: Client,
    asked: Question,
    *,
    actor: Actor,
    in_person: bool = False,
    now: datetime,
) -> AskedClient:
    """A person asks ``client`` now, from the terminal or the client's page: by mail when
    goodwill can mail them, otherwise (or ``in_person``) a link to hand over; audited.

    Refused for an archived client (restore them first), and by mail for a client who said no
    to mail from the business (the link can still be handed over in person).
    """
    ref = stored.client_ref(client)
    if client.archived_at is not None:
        raise InvalidInput(
            f"client {ref} is archived: restore them before asking them anything", field="client"
        )
    unmailed = (
        "handed over in person"
        if in_person
        else can_mail(settings) or (None if client.email else "the client has no email address")
    )
    if unmailed is None and client.marketing_consent is False:
        when = f" on {client.consent_at.date().isoformat()}" if client.consent_at else ""
        raise InvalidInput(
            f"client {ref} said no to mail from us{when}: hand the question over in person",
            field="how",
        )
    made = ask(
        session,
        settings,
        client,
        asked,
        key=f"{actor.kind}:{client.id}/{asked.key}/{now.isoformat()}",
        created_by=actor.label,
        now=now,
        in_person=unmailed is not None,
    )
    if made is None:  # the key holds the instant: only a double submit meets it
        raise Conflict("this question was just asked; look at the client's page", field="form")
    record(
        session,
        actor,
        "feedback.asked",
        at=now,
        object_type="feedback_request",
        object_id=made.request_id,
        client_id=client.id,
        after={"question": asked.key, "mailed": unmailed is None},
        detail=unmailed,
    )
    return AskedClient(made, unmailed)


def _question_mail(
    settings: Settings,
    client: Client,
    asked: Question,
    *,
    link: str,
    expires: datetime,
    at: datetime,
) -> EmailMessage:
    sender = str(settings.mail["from_address"])
    business = settings.business_name
    mail = EmailMessage()
    mail["From"] = email.utils.formataddr((business, sender)) if business else sender
    mail["To"] = str(client.email)
    mail["Subject"] = f"A question from {business}" if business else "A question for you"
    mail["Date"] = email.utils.format_datetime(at)
    mail["Message-ID"] = email.utils.make_msgid(domain=sender.rsplit("@", 1)[-1])
    until = expires.astimezone(settings.zone).date().isoformat()
    mail.set_content(
        f"Hello {client.name},\n\n"
        "We would like to hear from you, in your own words:\n\n"
        f"    {asked.text}\n\n"
        f"You can answer here, no login needed:\n{link}\n\n"
        f"The link is yours alone; it takes one answer and works until {until}.\n\n"
        f"Thank you,\n{business or 'the team'}\n"
    )
    return mail


# -- answers -------------------------------------------------------------------------------------


def answer_link(
    session: Session, settings: Settings, token: str, text: str, *, now: datetime
) -> int:
    """A client's answer through their personal link (once; see ``store.feedback``)."""
    text = text.strip()
    return stored.answer_request(
        session, token, text, tags=tag(settings, text), now=now, zone=settings.zone
    )


def add_answer(
    session: Session,
    settings: Settings,
    client: Client,
    *,
    question_text: str,
    answer: str,
    answered_at: datetime,
    channel: str,
    recorded_by: str,
    now: datetime,
    staff_id: int | None = None,
) -> int:
    """An answer heard on a call or a visit, or brought from elsewhere, kept verbatim.

    ``question_text`` may be a question's key or its words: the key is then stored too.
    """
    if answered_at > now:
        raise InvalidInput("an answer cannot be given in the future", field="at")
    questions = load_questions(settings)
    words = " ".join(question_text.split())
    known = questions.get(words) or next((q for q in questions.values() if q.text == words), None)
    return stored.record_answer(
        session,
        client,
        question_key=known.key if known else None,
        question_text=known.text if known else words,
        answer=answer.strip(),
        answered_at=answered_at,
        recorded_by=recorded_by,
        channel=channel,
        tags=tag(settings, answer),
        now=now,
        zone=settings.zone,
        staff_id=staff_id,
    )


def tier_clients(session: Session, settings: Settings, tier: str | None) -> Select[Any] | None:
    """The ids of the clients in ``tier`` now (by lifetime spend, as the client list shows
    it), as a select; None for every client. An unknown tier is refused, naming the known."""
    if not tier:
        return None
    currency = figures_currency(session, settings)
    low, high = tier_bounds(settings, tier, currency)
    return stored.clients_spending(currency, low, high)


def compare_themes(
    session: Session,
    settings: Settings,
    *,
    until: datetime | None,
    quotes: int = 2,
    tier: str | None = None,
) -> dict[str, Any]:
    """What new and long-term clients talk about, theme by theme (configured order first),
    of the clients in ``tier`` only when given.

    ``new_share`` is the share of new clients' answers that carry the theme (0 when there are
    none); likewise ``long_term_share``. ``quotes`` holds up to ``quotes`` short verbatim
    sentences from each group, long-term first.
    """
    new_days, long_days = group_days(settings)
    found = stored.compare_groups(
        session,
        new_days=new_days,
        long_term_days=long_days,
        until=until,
        quotes=quotes,
        clients=tier_clients(session, settings, tier),
    )
    by_theme = {t.theme: t for t in found.themes}
    order = [t.key for t in load_themes(settings)]
    order += sorted(set(by_theme) - set(order))

    def share(count: int, total: int) -> float:
        return round(count / total, 4) if total else 0.0

    themes = []
    for key in order:
        counts = by_theme.get(key)
        new = counts.new if counts else 0
        long = counts.long_term if counts else 0
        themes.append(
            {
                "theme": key,
                "new_share": share(new, found.new_answers),
                "long_term_share": share(long, found.long_term_answers),
                "new_answers": new,
                "long_term_answers": long,
                "quotes": [
                    *(counts.long_term_quotes if counts else ()),
                    *(counts.new_quotes if counts else ()),
                ],
            }
        )
    return {
        "themes": themes,
        "groups": {
            "new": {"answers": found.new_answers, "tenure_days_below": new_days},
            "long_term": {"answers": found.long_term_answers, "tenure_days_from": long_days},
        },
    }
