"""The support inbox: a message arrives, is kept, threaded, assigned and put on the clock; a reply
goes out through the outbox; the clock is scanned for warnings and breaches.

Arrival is two transactions. The first stores the raw bytes, whatever they hold, under the
Message-ID the parser gives them (a second delivery stops there, stored once; a different message
reusing a stored id is kept under a key of its own, noted, and filed); only then is the message
read, so one that cannot be read or filed is kept, marked failed with the reason and the moment,
and shown (`goodwill mail failed`), never dropped. The second threads it (any id the thread
carries, its own included, merging conversations it shows to be one; the subject only where the
headers say nothing; domain/threading.py), matches the sender to a client (a lead
when unknown), assigns the conversation at once (the client's owner in business hours, the
on-call person outside them) and starts or resumes the response clock of the client's SLA
policy. goodwill's own reply coming back is recognised by its Message-ID and kept as such.
"""

from __future__ import annotations

import email.utils
import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any, Literal

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from goodwill.actions.conversation_clock import clear_clock, clock_of, put_on_target, store_clock
from goodwill.actions.conversation_merge import merge_conversations
from goodwill.actions.sla_in_force import policies_for, rota_for
from goodwill.actions.touches import hand_back_bounced
from goodwill.domain.audit import Actor
from goodwill.domain.guardrails import Finding, check_reply
from goodwill.domain.records import ClientRef
from goodwill.domain.rota import Override, assignee_for_new
from goodwill.domain.sla import ClientFacts
from goodwill.domain.threading import ThreadHeaders, find_thread, normalise_subject
from goodwill.domain.threading import subject_key as subject_key_of
from goodwill.engine.configuration import calendar_for
from goodwill.errors import ConfigError, InvalidInput, NotFound
from goodwill.mail.bounces import read_bounce
from goodwill.mail.parse import (
    SYNTHETIC_DOMAIN,
    MessageUnreadable,
    ParsedMessage,
    message_id_of,
    parse_message,
)
from goodwill.mail.storable import storable_text
from goodwill.settings import Settings
from goodwill.store.audit import record
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
from goodwill.store.thread_index import (
    keep_ids,
    known_ids,
    same_subject,
    unused_id,
)

log = logging.getLogger(__name__)

#: How far back a subject may join a conversation of the same client when no header does.
SUBJECT_WINDOW = timedelta(days=30)
SOURCE = "inbox"
#: The domain of the key a different message reusing a stored Message-ID is kept under.
REUSED_DOMAIN = "reused-id.goodwill.invalid"
#: How a lead its first message makes came to us, by that message's source (else "email").
VIA = {"form": "web_form"}

Status = Literal["parsed", "failed", "duplicate", "own-reply", "stored"]


@dataclass(frozen=True)
class Received:
    """What became of one arrival: ``parsed`` (filed into a conversation), ``failed`` (kept,
    with the reason), ``duplicate`` (the same message stored before), ``own-reply``
    (goodwill's own reply coming back; kept, noted) or ``stored`` (kept; the store was busy
    while filing it, and the worker's next round files it)."""

    inbound_id: int
    duplicate: bool
    status: Status
    conversation_id: int | None = None


def receive(
    store: sessionmaker[Session], settings: Settings, raw: bytes, *, source: str, now: datetime
) -> Received:
    """Keep ``raw``, then file it into a conversation; see the module docstring.

    Raises only when the bytes could not be stored (the store unreachable or locked): once it
    returns, the message is kept, whatever bytes it holds, and is filed, marked failed with
    the reason, or left stored for the next round.
    """
    try:
        message_id = message_id_of(raw)
    except Exception:  # a parser bug must not keep the bytes out of the store
        log.exception("no Message-ID could be read; the message is kept under its hash")
        message_id = f"{hashlib.sha256(raw).hexdigest()}@{SYNTHETIC_DOMAIN}"
    kept = _keep(store, raw, message_id, source=source, now=now)
    if kept.duplicate:
        return kept
    return _file_raw(store, settings, kept.inbound_id, raw, now=now)


def _keep(
    store: sessionmaker[Session], raw: bytes, message_id: str, *, source: str, now: datetime
) -> Received:
    """Store the bytes under their Message-ID, in a transaction of their own. The same id
    with the same body is a second delivery (stored once); with another body it is a
    different message reusing the id, kept under ``{sha256}@reused-id.goodwill.invalid``."""
    sha256 = hashlib.sha256(raw).hexdigest()
    inbound_id = _insert(store, raw, message_id, sha256, source=source, now=now, note=None)
    if inbound_id is not None:
        return Received(inbound_id, False, "stored")
    with store() as session:
        first_id, first_sha256, first_raw = session.execute(
            select(InboundMail.id, InboundMail.sha256, InboundMail.raw).where(
                InboundMail.message_id == message_id
            )
        ).one()
    if first_sha256 == sha256 or _body(bytes(first_raw)) == _body(raw):
        return Received(int(first_id), True, "duplicate")
    key = f"{sha256}@{REUSED_DOMAIN}"
    note = f"its Message-ID is also that of inbound {first_id}, a different message"
    inbound_id = _insert(store, raw, key, sha256, source=source, now=now, note=note)
    if inbound_id is None:  # this very message, kept before under its hash
        with store() as session:
            again = session.execute(
                select(InboundMail.id).where(InboundMail.message_id == key)
            ).scalar_one()
        return Received(int(again), True, "duplicate")
    log.warning("inbound %s reuses the Message-ID of inbound %s", inbound_id, first_id)
    return Received(inbound_id, False, "stored")


def _insert(
    store: sessionmaker[Session],
    raw: bytes,
    key: str,
    sha256: str,
    *,
    source: str,
    now: datetime,
    note: str | None,
) -> int | None:
    with store.begin() as session:
        dialect: Any = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        found = session.execute(
            dialect.insert(InboundMail)
            .values(
                message_id=key,
                source=storable_text(source, limit=20),
                received_at=now,
                sha256=sha256,
                raw=raw,
                status="stored",
                note=note,
            )
            .on_conflict_do_nothing(index_elements=["message_id"])
            .returning(InboundMail.id)
        ).scalar_one_or_none()
    return int(found) if found is not None else None


def _digest(text: str) -> str:
    return "sha256-" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def _body(raw: bytes) -> bytes:
    """The bytes after the header block, line endings made alike: what a second delivery of a
    message shares with the first, whatever trace headers its path added."""
    ends = [i for i in (raw.find(b"\r\n\r\n"), raw.find(b"\n\n")) if i >= 0]
    return raw[min(ends) :].replace(b"\r\n", b"\n").strip(b"\n") if ends else b""


def file_stored(
    store: sessionmaker[Session], settings: Settings, inbound_id: int, *, now: datetime
) -> Received:
    """File a kept message again (one left stored, or one that failed): see ``receive``."""
    with store() as session:
        raw = session.execute(
            select(InboundMail.raw).where(InboundMail.id == inbound_id)
        ).scalar_one_or_none()
    if raw is None:
        raise NotFound(f"no inbound message {inbound_id}")
    return _file_raw(store, settings, inbound_id, bytes(raw), now=now)


def _file_raw(
    store: sessionmaker[Session], settings: Settings, inbound_id: int, raw: bytes, *, now: datetime
) -> Received:
    try:
        parsed = parse_message(raw)
    except MessageUnreadable as exc:
        return _failed(store, inbound_id, str(exc), now=now)
    except Exception as exc:  # a parser bug must not lose the message either
        log.exception("inbound %s could not be read", inbound_id)
        return _failed(store, inbound_id, f"{type(exc).__name__}: {exc}", now=now)
    try:
        with store.begin() as session:
            filed = _file_checked(session, settings, inbound_id, parsed, now=now)
            bounce = read_bounce(raw) if filed.status == "parsed" else None
            if bounce is not None:
                hand_back_bounced(session, bounce, now=now)
            return filed
    except OperationalError:  # locked or unreachable: kept, and the next round files it
        log.warning("inbound %s kept, not filed yet: the store was busy", inbound_id)
        return Received(inbound_id, False, "stored")
    except Exception as exc:  # whatever the message holds, it stays kept and shown
        log.exception("inbound %s could not be filed", inbound_id)
        reason = f"could not be filed: {type(exc).__name__}: {exc}"
        return _failed(store, inbound_id, reason, now=now)


def _file_checked(
    session: Session, settings: Settings, inbound_id: int, parsed: ParsedMessage, *, now: datetime
) -> Received:
    """File ``parsed``, unless it is goodwill's own reply coming back (kept and noted)."""
    inbound = session.get(InboundMail, inbound_id, with_for_update=True)
    if inbound is None:
        raise NotFound(f"no inbound message {inbound_id}")
    if inbound.status not in ("stored", "failed"):  # another process filed it meanwhile
        return Received(inbound_id, True, "duplicate")
    same = session.execute(
        select(Message.id, Message.direction, Message.conversation_id).where(
            Message.message_id == parsed.message_id
        )
    ).first()
    inbound.error, inbound.failed_at = None, None
    if same is not None and same.direction == "out":
        inbound.status = "own-reply"
        inbound.note = f"goodwill's own reply (message {same.id}) came back"
        log.info("inbound %s is the reply %s coming back", inbound_id, same.id)
        return Received(inbound_id, False, "own-reply", int(same.conversation_id))
    key = inbound.message_id
    if same is not None and key == parsed.message_id:  # filed before from another raw message
        key = f"{inbound.sha256}@{REUSED_DOMAIN}"
        inbound.note = f"its Message-ID is also that of message {same.id}, a different message"
    via = VIA.get(inbound.source, "email")
    conversation_id = _file(session, settings, inbound_id, key, parsed, now=now, via=via)
    inbound.status = "parsed"
    return Received(inbound_id, False, "parsed", conversation_id)


def read_stored(
    store: sessionmaker[Session],
    settings: Settings,
    *,
    now: datetime,
    older_than: timedelta = timedelta(minutes=1),
    limit: int = 500,
) -> int:
    """File messages kept but never filed (the process stopped between keeping and filing, or
    the store was busy): the worker calls this each round. One that cannot be filed is marked
    failed with the reason, kept and shown. Returns how many were tried."""
    with store() as session:
        pending = list(
            session.execute(
                select(InboundMail.id)
                .where(InboundMail.status == "stored", InboundMail.received_at < now - older_than)
                .order_by(InboundMail.id)
                .limit(limit)
            ).scalars()
        )
    for inbound_id in pending:
        file_stored(store, settings, int(inbound_id), now=now)
    return len(pending)


def _failed(
    store: sessionmaker[Session], inbound_id: int, reason: str, *, now: datetime
) -> Received:
    with store.begin() as session:
        session.execute(
            update(InboundMail)
            .where(InboundMail.id == inbound_id)
            .values(status="failed", error=storable_text(reason, limit=2000), failed_at=now)
        )
    log.warning("inbound %s kept, marked failed", inbound_id)
    return Received(inbound_id, False, "failed")


def _file(
    session: Session,
    settings: Settings,
    inbound_id: int,
    message_key: str,
    parsed: ParsedMessage,
    *,
    now: datetime,
    via: str = "email",
) -> int:
    """Thread, match, assign and clock one parsed message, stored under ``message_key`` (its
    Message-ID, unless another message has it); returns its conversation id."""
    client_id = _client_for(session, settings, parsed, now=now, via=via)
    sent_at = parsed.sent_at if parsed.sent_at and parsed.sent_at <= now else now
    subject_key = normalise_subject(parsed.subject)
    headers = ThreadHeaders(
        message_id=message_key,
        in_reply_to=parsed.in_reply_to,
        references=parsed.references,
        subject=parsed.subject,
    )

    def similar(key: str, headerless_only: bool) -> set[int]:
        return same_subject(
            session,
            client_id=client_id,
            key=key,
            headerless_only=headerless_only,
            sent_at=sent_at,
            window=SUBJECT_WINDOW,
        )

    match = find_thread(headers, lambda ids: known_ids(session, ids), similar)
    if match.conversation_id is not None and match.merged:
        merge_conversations(
            session,
            settings,
            match.conversation_id,
            match.merged,
            now=now,
            actor=Actor.engine(),
            because=f"message {message_key}"[:300],
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
        instead = unused_id(session, conversation.id)
        if instead is not None:
            conversation.id = instead
            session.flush()
    keep_ids(
        session,
        conversation.id,
        message_id=message_key,
        parents=headers.parents,
        client_id=client_id,
        subject_key=subject_key_of(parsed.subject),
        sent_at=sent_at,
    )
    message = Message(
        conversation_id=conversation.id,
        inbound_id=inbound_id,
        direction="in",
        message_id=message_key,
        in_reply_to=parsed.in_reply_to,
        references=list(parsed.references),
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
                "external_id": f"message/{message_key}"[:300],
                "idempotency_key": f"{SOURCE}:message/{message_key}"[:400],
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
    session: Session, settings: Settings, parsed: ParsedMessage, *, now: datetime, via: str
) -> int:
    address = parsed.from_address.lower()
    found = client_of(session, address)
    if found is not None:
        return found
    record_touch_point(
        session,
        settings,
        type="lead.created",
        client=ClientRef(None, address, parsed.from_name or None),
        occurred_at=parsed.sent_at if parsed.sent_at and parsed.sent_at <= now else now,
        source=SOURCE,
        payload={"via": via, "subject": parsed.subject},
        now=now,
        external_id=f"lead/{address}" if len(address) <= 250 else f"lead/{_digest(address)}",
    )
    return int(
        session.execute(
            select(Client.id).where(Client.email == address).order_by(Client.id).limit(1)
        ).scalar_one()
    )


def client_of(session: Session, address: str) -> int | None:
    """The client a sender's address is: a client's email, else a contact's (their business)."""
    found = session.execute(
        select(Client.id).where(Client.email == address).order_by(Client.id).limit(1)
    ).scalar_one_or_none()
    if found is None:
        found = session.execute(
            select(Contact.client_id).where(Contact.email == address).limit(1)
        ).scalar_one_or_none()
    return int(found) if found is not None else None


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
            store_clock(conversation, clock.resume(at))
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
        clear_clock(conversation)
        return
    conversation.sla_clock += 1
    conversation.sla_started_at = at
    conversation.sla_elapsed_s = 0
    conversation.sla_running_since = at
    put_on_target(conversation, target)


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


def _sentences(findings: list[Finding]) -> str:
    """The findings' messages as one paragraph: each already ends with its full stop."""
    return " ".join(f.message if f.message.endswith(".") else f"{f.message}." for f in findings)


def reply(
    session: Session,
    settings: Settings,
    conversation_id: int,
    *,
    text: str,
    author_email: str,
    now: datetime,
    actor: Actor,
    override_reason: str | None = None,
) -> int:
    """Queue a reply in the client's thread and stop the clock; returns the message's row id.

    The guardrails check it first: a blocking finding (another client's name, a wrong partner, a
    placeholder left in) stops it; warnings need ``override_reason``, stored with the findings
    on the sent copy. Both raise InvalidInput carrying ``findings``. The audit log gets
    ``reply.sent`` and, when warnings were overridden, ``reply.override`` with their codes.

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
            "the reply was not sent: " + _sentences(blocking),
            field="text",
            findings=shown,
            blocked=True,
        )
    reason = (override_reason or "").strip() or None
    if warnings and reason is None:
        raise InvalidInput(
            "the reply needs a second look: "
            + _sentences(warnings)
            + " Change it, or give a reason to send it as it is",
            field="override_reason",
            findings=shown,
            blocked=False,
        )
    sender = settings.mail["from_address"]
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
    keep_ids(
        session,
        conversation.id,
        message_id=message_id,
        parents=(),
        client_id=None,
        subject_key=None,
        sent_at=now,
    )
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
    clear_clock(conversation)
    if conversation.assignee_id is None:
        conversation.assignee_id = author.id
    session.flush()
    _audit(session, actor, "reply.sent", conversation, now, after={"message_id": row.id})
    if warnings:
        codes = sorted({f.code for f in warnings})
        after = {"message_id": row.id, "findings": codes, "reason": reason}
        _audit(session, actor, "reply.override", conversation, now, after=after)
    return row.id


def _audit(
    session: Session,
    actor: Actor,
    action: str,
    conversation: Conversation,
    now: datetime,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    record(
        session,
        actor,
        action,
        at=now,
        object_type="conversation",
        object_id=conversation.id,
        client_id=conversation.client_id,
        before=before,
        after=after,
    )


def set_status(
    session: Session,
    settings: Settings,
    conversation_id: int,
    status: Literal["waiting", "closed", "open"],
    *,
    now: datetime,
    actor: Actor,
) -> None:
    """``waiting``: on the client, the clock pauses; ``closed``: nothing owed; ``open``: owed
    again (a paused clock resumes)."""
    conversation = session.get(Conversation, conversation_id, with_for_update=True)
    if conversation is None:
        raise NotFound(f"no conversation {conversation_id}")
    clock = clock_of(conversation, settings)
    if status == "waiting":
        if clock is not None and clock.running_since is not None:
            store_clock(conversation, clock.pause(now))
    elif status == "closed":
        clear_clock(conversation)
        conversation.sla_target_s = None
    elif conversation.status == "waiting" and clock is not None:
        store_clock(conversation, clock.resume(now))
    before, conversation.status = conversation.status, status
    session.flush()
    moved = {"status": before}, {"status": status}
    _audit(session, actor, "conversation.status", conversation, now, *moved)


def assign(
    session: Session, conversation_id: int, assignee_email: str, *, now: datetime, actor: Actor
) -> None:
    """Give the conversation to another staff member (its clock runs on regardless)."""
    conversation = session.get(Conversation, conversation_id, with_for_update=True)
    if conversation is None:
        raise NotFound(f"no conversation {conversation_id}")
    user = session.execute(
        select(StaffUser).where(StaffUser.email == assignee_email.lower())
    ).scalar_one_or_none()
    if user is None or not user.active:
        raise NotFound(f"no active staff user {assignee_email!r}")
    was = session.get(StaffUser, conversation.assignee_id) if conversation.assignee_id else None
    conversation.assignee_id = user.id
    session.flush()
    moved = {"assignee": was.email if was else None}, {"assignee": user.email}
    _audit(session, actor, "conversation.assigned", conversation, now, *moved)
    log.info("conversation %s assigned to user %s at %s", conversation_id, user.id, now)
