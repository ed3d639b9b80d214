"""The support inbox: a message arrives, is kept, threaded, assigned and put on the clock; a reply
goes out through the outbox; the clock is scanned for warnings and breaches.

Arrival is two transactions. The first stores the raw bytes under their Message-ID (a duplicate
delivery stops there, stored once); only then is the message read, so one that cannot be read is
kept with the reason and shown, never dropped. The second threads it (In-Reply-To, References,
then the subject within the same client), matches the sender to a client (a lead when unknown),
assigns the conversation at once (the client's owner in business hours, the on-call person
outside them) and starts or resumes the response clock of the client's SLA policy.
"""

from __future__ import annotations

import email.parser
import email.policy
import email.utils
import hashlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from goodwill.domain.calendars import BusinessCalendar, always_open
from goodwill.domain.guardrails import Finding, check_reply
from goodwill.domain.records import ClientRef
from goodwill.domain.rota import Override, Rota, assignee_for_new, parse_rota
from goodwill.domain.sla import ClientFacts, Clock, SlaPolicies, Target, parse_policies
from goodwill.domain.threading import ThreadHeaders, find_thread, normalise_subject
from goodwill.engine.configuration import calendar_for
from goodwill.errors import ConfigError, InvalidInput, NotFound
from goodwill.mail.parse import MessageUnreadable, ParsedMessage, parse_message
from goodwill.settings import Settings
from goodwill.store.events import record_touch_point
from goodwill.store.ingest import insert_new
from goodwill.store.models import (
    Attachment,
    Client,
    Contact,
    Conversation,
    Event,
    InboundMail,
    Message,
    Outbox,
    RotaOverride,
    StaffUser,
)
from goodwill.store.queries import overviews_for
from goodwill.store.reply_context import context_for_client

log = logging.getLogger(__name__)

#: How far back a subject may join a conversation of the same client when no header does.
SUBJECT_WINDOW = timedelta(days=30)
SOURCE = "inbox"
MAX_ID = 900  # the Message-ID columns hold 998 characters


@dataclass(frozen=True)
class Received:
    inbound_id: int
    duplicate: bool
    status: Literal["parsed", "failed", "duplicate"]
    conversation_id: int | None = None


def header_message_id(raw: bytes) -> str:
    """The Message-ID from the header block alone (brackets stripped), or the synthetic id the
    parser gives a message without one, so duplicates are recognised before any parsing."""
    headers = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw)
    found = str(headers.get("Message-ID") or "").strip()
    if found.startswith("<") and ">" in found:
        found = found[1 : found.index(">")]
    found = found.strip()
    return storable_id(found or f"{hashlib.sha256(raw).hexdigest()}@goodwill.invalid")


def storable_id(message_id: str) -> str:
    """A Message-ID as stored: one too long for the column is kept as its hash, so a hostile or
    broken header cannot block a mailbox; the same id always gives the same stored id."""
    if len(message_id) <= MAX_ID:
        return message_id
    return f"{hashlib.sha256(message_id.encode()).hexdigest()}@long-id.goodwill.invalid"


def receive(
    store: sessionmaker[Session], settings: Settings, raw: bytes, *, source: str, now: datetime
) -> Received:
    """Keep ``raw``, then read it into a conversation; see the module docstring."""
    message_id = header_message_id(raw)
    with store.begin() as session:
        dialect: Any = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        inbound_id = session.execute(
            dialect.insert(InboundMail)
            .values(
                message_id=message_id,
                source=source,
                received_at=now,
                sha256=hashlib.sha256(raw).hexdigest(),
                raw=raw,
                status="stored",
            )
            .on_conflict_do_nothing(index_elements=["message_id"])
            .returning(InboundMail.id)
        ).scalar_one_or_none()
    if inbound_id is None:
        with store() as session:
            existing = session.execute(
                select(InboundMail.id).where(InboundMail.message_id == message_id)
            ).scalar_one()
        return Received(int(existing), True, "duplicate")
    return _read(store, settings, int(inbound_id), raw, now=now)


def _read(
    store: sessionmaker[Session], settings: Settings, inbound_id: int, raw: bytes, *, now: datetime
) -> Received:
    try:
        parsed = parse_message(raw)
    except MessageUnreadable as exc:
        return _failed(store, inbound_id, str(exc))
    except Exception as exc:  # a parser bug must not lose the message either
        log.exception("inbound %s could not be read", inbound_id)
        return _failed(store, inbound_id, f"{type(exc).__name__}: {exc}")
    with store.begin() as session:
        conversation_id = _file(session, settings, inbound_id, parsed, now=now)
        session.execute(
            update(InboundMail).where(InboundMail.id == inbound_id).values(status="parsed")
        )
    return Received(inbound_id, False, "parsed", conversation_id)


def read_stored(
    store: sessionmaker[Session],
    settings: Settings,
    *,
    now: datetime,
    older_than: timedelta = timedelta(minutes=1),
    limit: int = 500,
) -> int:
    """Read messages kept but never read (the process stopped between keeping and reading, or
    reading hit an error): the worker calls this each round. One that still cannot be filed is
    marked failed with the reason, kept and shown. Returns how many were read."""
    with store() as session:
        pending = list(
            session.execute(
                select(InboundMail.id, InboundMail.raw)
                .where(InboundMail.status == "stored", InboundMail.received_at < now - older_than)
                .order_by(InboundMail.id)
                .limit(limit)
            ).all()
        )
    for inbound_id, raw in pending:
        try:
            _read(store, settings, int(inbound_id), bytes(raw), now=now)
        except Exception as exc:
            log.exception("inbound %s could not be filed", inbound_id)
            _failed(store, int(inbound_id), f"could not be filed: {type(exc).__name__}: {exc}")
    return len(pending)


def _failed(store: sessionmaker[Session], inbound_id: int, reason: str) -> Received:
    with store.begin() as session:
        session.execute(
            update(InboundMail)
            .where(InboundMail.id == inbound_id)
            .values(status="failed", error=reason[:2000])
        )
    return Received(inbound_id, False, "failed")


def _file(
    session: Session, settings: Settings, inbound_id: int, parsed: ParsedMessage, *, now: datetime
) -> int:
    """Thread, match, assign and clock one parsed message; returns its conversation id."""
    client_id = _client_for(session, settings, parsed, now=now)
    sent_at = parsed.sent_at if parsed.sent_at and parsed.sent_at <= now else now
    subject_key = normalise_subject(parsed.subject)

    def known(ids: Sequence[str]) -> Mapping[str, int]:
        if not ids:
            return {}
        rows = session.execute(
            select(Message.message_id, Message.conversation_id).where(Message.message_id.in_(ids))
        )
        return {str(m): int(c) for m, c in rows}

    def recent_by_subject(key: str) -> int | None:
        return session.execute(
            select(Conversation.id)
            .where(
                Conversation.client_id == client_id,
                Conversation.subject_key == key,
                Conversation.last_message_at >= now - SUBJECT_WINDOW,
            )
            .order_by(Conversation.last_message_at.desc())
            .limit(1)
        ).scalar_one_or_none()

    in_reply_to = storable_id(parsed.in_reply_to) if parsed.in_reply_to else None
    references = tuple(storable_id(r) for r in parsed.references)
    match = find_thread(
        ThreadHeaders(
            message_id=storable_id(parsed.message_id),
            in_reply_to=in_reply_to,
            references=references,
            subject=parsed.subject,
        ),
        known,
        recent_by_subject,
    )
    conversation = (
        session.get(Conversation, match.conversation_id) if match.conversation_id else None
    )
    if conversation is None:
        conversation = Conversation(
            client_id=client_id,
            subject=parsed.subject[:998] or "(no subject)",
            subject_key=subject_key[:998],
            status="closed" if parsed.auto_reply else "open",  # an out-of-office owes nothing
            assignee_id=_assignee(session, settings, client_id, now),
            created_at=now,
            last_message_at=sent_at,
            sla_elapsed_s=0,
            sla_clock=0,
            sla_critical=False,
        )
        session.add(conversation)
        session.flush()
    message = Message(
        conversation_id=conversation.id,
        inbound_id=inbound_id,
        direction="in",
        message_id=storable_id(parsed.message_id),
        in_reply_to=in_reply_to,
        references=list(references),
        from_address=parsed.from_address[:320],
        from_name=parsed.from_name,
        to=list(parsed.to),
        subject=parsed.subject[:998],
        sent_at=sent_at,
        text=parsed.text,
        new_text=parsed.new_text,
        html=parsed.html,
        auto_reply=parsed.auto_reply,
    )
    session.add(message)
    session.flush()
    for attachment in parsed.attachments:
        session.add(
            Attachment(
                message_id=message.id,
                filename=attachment.filename[:500],
                content_type=attachment.content_type[:200],
                size=len(attachment.content),
                content=attachment.content,
            )
        )
    conversation.last_message_at = max(conversation.last_message_at, sent_at)
    if not parsed.auto_reply:  # an out-of-office reply owes nobody an answer
        _client_wrote(session, settings, conversation, client_id, at=now)
    insert_new(
        session,
        Event,
        [
            {
                "type": "message.received",
                "client_id": client_id,
                "occurred_at": sent_at,
                "recorded_at": now,
                "source": SOURCE,
                "external_id": f"message/{parsed.message_id}"[:300],
                "idempotency_key": f"{SOURCE}:message/{parsed.message_id}"[:400],
                "payload": {
                    "conversation_id": conversation.id,
                    "subject": parsed.subject,
                    "threaded": match.how,
                },
            }
        ],
        ["idempotency_key"],
    )
    return conversation.id


def _client_for(
    session: Session, settings: Settings, parsed: ParsedMessage, *, now: datetime
) -> int:
    address = parsed.from_address.lower()
    found = session.execute(
        select(Client.id).where(Client.email == address).order_by(Client.id).limit(1)
    ).scalar_one_or_none()
    if found is None:
        found = session.execute(
            select(Contact.client_id).where(Contact.email == address).limit(1)
        ).scalar_one_or_none()
    if found is not None:
        return int(found)
    record_touch_point(
        session,
        settings,
        type="lead.created",
        client=ClientRef(None, address, parsed.from_name or None),
        occurred_at=parsed.sent_at if parsed.sent_at and parsed.sent_at <= now else now,
        source=SOURCE,
        payload={"via": "email", "subject": parsed.subject},
        now=now,
        external_id=f"lead/{address}",
    )
    return int(
        session.execute(
            select(Client.id).where(Client.email == address).order_by(Client.id).limit(1)
        ).scalar_one()
    )


# -- assignment and the clock ------------------------------------------------------------------


def _assignee(session: Session, settings: Settings, client_id: int, at: datetime) -> int | None:
    client = session.get(Client, client_id)
    owner = session.get(StaffUser, client.owner_id) if client and client.owner_id else None
    overrides = [
        Override(person=o.person, starts_at=o.starts_at, ends_at=o.ends_at)
        for o in session.execute(
            select(RotaOverride).where(RotaOverride.ends_at > at, RotaOverride.starts_at <= at)
        ).scalars()
    ]
    business = calendar_for(settings)
    rota = rota_for(settings)
    email_ = assignee_for_new(
        at,
        owner=owner.email if owner is not None and owner.active else None,
        business=business,
        rota=rota,
        overrides=overrides,
    )
    outside = not business.is_open(at) and not any(o.covers(at) for o in overrides)
    if rota is None and settings.on_call and outside:
        email_ = settings.on_call  # outside hours with no rota: the on-call setting
    staff = {u.email.lower(): u for u in session.execute(select(StaffUser)).scalars()}
    chosen = staff.get((email_ or "").lower())
    if chosen is None:
        fallback = (settings.on_call or settings.owner or "").lower()
        chosen = staff.get(fallback) or next(
            (u for u in staff.values() if u.role == "owner" and u.active), None
        )
    return chosen.id if chosen is not None else None


def _facts(session: Session, settings: Settings, client_id: int, at: datetime) -> ClientFacts:
    client = session.get(Client, client_id)
    if client is None:
        raise NotFound(f"no client {client_id}")
    today = at.astimezone(settings.zone).date()
    overview = overviews_for(session, settings, [client_id], today=today).get(client_id)
    return ClientFacts(
        client_id=client.external_id,
        tier=overview.tier if overview else None,
        tags=frozenset(client.tags or []),
        timezone=client.timezone,
    )


def _client_wrote(
    session: Session,
    settings: Settings,
    conversation: Conversation,
    client_id: int,
    *,
    at: datetime,
) -> None:
    """The client wrote: a paused clock resumes; otherwise a new one starts (first response
    while nobody has answered yet, next response after)."""
    if conversation.status == "waiting" and conversation.sla_target_s is not None:
        clock = clock_of(conversation, settings)
        if clock is not None:
            _store_clock(conversation, clock.resume(at))
        conversation.status = "open"
        return
    if conversation.status == "open" and conversation.sla_running_since is not None:
        return  # already owed an answer; the running clock stands
    conversation.status = "open"
    policies = policies_for(settings)
    kind: Literal["first", "next"] = "first" if conversation.first_response_at is None else "next"
    target = (
        policies.target_for(
            _facts(session, settings, client_id, at),
            kind,
            at,
            business=calendar_for(settings),
        )
        if policies is not None
        else None
    )
    if target is None:
        _clear_clock(conversation)
        return
    conversation.sla_clock += 1
    conversation.sla_policy = target.policy
    conversation.sla_kind = kind
    conversation.sla_critical = target.critical
    conversation.sla_target_s = int(target.duration.total_seconds())
    conversation.sla_calendar = "24/7" if target.calendar.name == "24/7" else "business"
    conversation.sla_warn_fraction = target.warn_fraction
    conversation.sla_started_at = at
    _store_clock(
        conversation, Clock(target=target, started_at=at, elapsed=timedelta(0), running_since=at)
    )


def _clear_clock(conversation: Conversation) -> None:
    conversation.sla_critical = False
    conversation.sla_running_since = None
    conversation.sla_due_at = None
    conversation.sla_warn_at = None


def _store_clock(conversation: Conversation, clock: Clock) -> None:
    conversation.sla_elapsed_s = int(clock.elapsed.total_seconds())
    conversation.sla_running_since = clock.running_since
    conversation.sla_due_at = clock.due_at()
    conversation.sla_warn_at = clock.warn_at()


def clock_of(conversation: Conversation, settings: Settings) -> Clock | None:
    """The conversation's stored clock, rebuilt for arithmetic (None when it has none)."""
    if conversation.sla_target_s is None or conversation.sla_started_at is None:
        return None
    calendar: BusinessCalendar = (
        always_open(settings.zone)
        if conversation.sla_calendar == "24/7"
        else calendar_for(settings)
    )
    target = Target(
        policy=conversation.sla_policy or "",
        kind="first" if conversation.sla_kind == "first" else "next",
        duration=timedelta(seconds=conversation.sla_target_s),
        calendar=calendar,
        critical=conversation.sla_critical,
        warn_fraction=conversation.sla_warn_fraction or 0.75,
    )
    return Clock(
        target=target,
        started_at=conversation.sla_started_at,
        elapsed=timedelta(seconds=conversation.sla_elapsed_s),
        running_since=conversation.sla_running_since,
    )


# -- staff actions -------------------------------------------------------------------------------


def check(session: Session, conversation_id: int, text: str) -> list[Finding]:
    """The guardrails' findings on a draft reply in this conversation (nothing is stored)."""
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise NotFound(f"no conversation {conversation_id}")
    client = session.get(Client, conversation.client_id)
    assert client is not None
    context = context_for_client(session, client, waiting=conversation.status == "open")
    return check_reply(text, context)


def reply(
    session: Session,
    settings: Settings,
    conversation_id: int,
    *,
    text: str,
    author_email: str,
    now: datetime,
    override_reason: str | None = None,
) -> int:
    """Queue a reply in the client's thread and stop the clock; returns the message's row id.

    The guardrails check it first: a blocking finding (another client's name, a wrong partner, a
    placeholder left in) stops it; warnings need ``override_reason``, stored with the findings
    on the sent copy. Both raise InvalidInput carrying ``findings``.

    The mail carries In-Reply-To and References so the client's mail program threads it; the
    sent copy is stored on the conversation, and the outbox row is written in the same
    transaction (the caller's, on ``session``), so the reply is sent once (the outbox retries,
    and a failure stays visible). Nothing is written when it raises.
    """
    if not text.strip():
        raise InvalidInput("a reply needs some text", field="text")
    if not settings.mail.get("from_address"):
        raise ConfigError("set mail.from_address to send replies", key="mail.from_address")
    findings = check(session, conversation_id, text)
    blocking = [f for f in findings if f.severity == "block"]
    warnings = [f for f in findings if f.severity == "warn"]
    shown = [f.as_dict() for f in findings]
    if blocking:
        raise InvalidInput(
            "the reply was not sent: " + "; ".join(f.message for f in blocking),
            field="text",
            findings=shown,
            blocked=True,
        )
    reason = (override_reason or "").strip() or None
    if warnings and reason is None:
        raise InvalidInput(
            "the reply needs a second look: "
            + "; ".join(f.message for f in warnings)
            + " — change it, or give a reason to send it as it is",
            field="override_reason",
            findings=shown,
            blocked=False,
        )
    if not text.strip():
        raise InvalidInput("a reply needs some text", field="text")
    sender = settings.mail.get("from_address")
    if not sender:
        raise ConfigError("set mail.from_address to send replies", key="mail.from_address")
    conversation = session.get(Conversation, conversation_id, with_for_update=True)
    if conversation is None:
        raise NotFound(f"no conversation {conversation_id}")
    author = session.execute(
        select(StaffUser).where(StaffUser.email == author_email.lower())
    ).scalar_one_or_none()
    if author is None:
        raise NotFound(f"no staff user {author_email!r}")
    client = session.get(Client, conversation.client_id)
    history = list(
        session.execute(
            select(Message)
            .where(Message.conversation_id == conversation.id)
            .order_by(Message.sent_at, Message.id)
        ).scalars()
    )
    last_in = next((m for m in reversed(history) if m.direction == "in"), None)
    to = (last_in.from_address if last_in else None) or (client.email if client else None)
    if not to:
        raise InvalidInput("the client has no email address to reply to", field="to")
    domain = str(sender).rsplit("@", 1)[-1]
    message_id = email.utils.make_msgid(domain=domain)[1:-1]
    references = [m.message_id for m in history][-20:]
    mail = EmailMessage()
    mail["From"] = email.utils.formataddr((author.name, str(sender)))
    mail["To"] = to
    subject = conversation.subject
    mail["Subject"] = subject if subject.lower().startswith("re:") else f"Re: {subject}"
    mail["Date"] = email.utils.format_datetime(now)
    mail["Message-ID"] = f"<{message_id}>"
    if last_in is not None:
        mail["In-Reply-To"] = f"<{last_in.message_id}>"
    if references:
        mail["References"] = " ".join(f"<{r}>" for r in references)
    mail.set_content(text)
    row = Message(
        conversation_id=conversation.id,
        direction="out",
        message_id=message_id,
        in_reply_to=last_in.message_id if last_in else None,
        references=references,
        from_address=str(sender),
        from_name=author.name,
        to=[to],
        subject=str(mail["Subject"]),
        sent_at=now,
        text=text,
        new_text=text,
        author_id=author.id,
        auto_reply=False,
        findings=shown,
        override_reason=reason if warnings else None,
    )
    session.add(row)
    session.flush()
    session.add(
        Outbox(
            key=f"reply:{message_id}",
            kind="email",
            recipients=[to],
            body=mail.as_bytes(),
            message_row_id=row.id,
            status="queued",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
    )
    if conversation.first_response_at is None:
        conversation.first_response_at = now
    conversation.status = "answered"
    conversation.last_message_at = now
    _clear_clock(conversation)
    if conversation.assignee_id is None:
        conversation.assignee_id = author.id
    session.flush()
    return row.id


def set_status(
    session: Session,
    settings: Settings,
    conversation_id: int,
    status: Literal["waiting", "closed", "open"],
    *,
    now: datetime,
) -> None:
    """``waiting``: on the client, the clock pauses; ``closed``: nothing owed; ``open``: owed
    again (a paused clock resumes)."""
    conversation = session.get(Conversation, conversation_id, with_for_update=True)
    if conversation is None:
        raise NotFound(f"no conversation {conversation_id}")
    clock = clock_of(conversation, settings)
    if status == "waiting":
        if clock is not None and clock.running_since is not None:
            _store_clock(conversation, clock.pause(now))
    elif status == "closed":
        _clear_clock(conversation)
        conversation.sla_target_s = None
    elif conversation.status == "waiting" and clock is not None:
        _store_clock(conversation, clock.resume(now))
    conversation.status = status
    session.flush()


def assign(session: Session, conversation_id: int, assignee_email: str, *, now: datetime) -> None:
    """Give the conversation to another staff member (its clock runs on regardless)."""
    conversation = session.get(Conversation, conversation_id, with_for_update=True)
    if conversation is None:
        raise NotFound(f"no conversation {conversation_id}")
    user = session.execute(
        select(StaffUser).where(StaffUser.email == assignee_email.lower())
    ).scalar_one_or_none()
    if user is None or not user.active:
        raise NotFound(f"no active staff user {assignee_email!r}")
    conversation.assignee_id = user.id
    session.flush()
    log.info("conversation %s assigned to user %s at %s", conversation_id, user.id, now)


# -- configuration files -------------------------------------------------------------------------


def policies_for(settings: Settings) -> SlaPolicies | None:
    return _policies(settings.sla, _mtime(settings.sla)) if settings.sla else None


def rota_for(settings: Settings) -> Rota | None:
    return _rota(settings.rota, _mtime(settings.rota)) if settings.rota else None


def _mtime(path: Path | None) -> float:
    try:
        return path.stat().st_mtime if path else 0.0
    except OSError:
        return 0.0


@lru_cache(maxsize=8)
def _policies(path: Path, _mtime: float) -> SlaPolicies:
    return parse_policies(_toml(path), source=str(path))


@lru_cache(maxsize=8)
def _rota(path: Path, _mtime: float) -> Rota:
    return parse_rota(_toml(path), source=str(path))


def _toml(path: Path) -> dict[str, Any]:
    import tomllib

    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})", file=str(path)) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}", file=str(path)) from exc
