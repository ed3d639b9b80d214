"""Erasing one person (GDPR article 17), and purging raw mail past its retention.

An erasure removes who the client is and what was said: their name (the row keeps
"Erased client #ID"), emails, phones, postal address, hometown, birthday, tags, language and
contact window; their other emails, phones and ids, contacts, facts, calls, visits and notes,
and feedback answers; their conversations with every message, attachment and raw
message; raw mail naming their addresses that was never filed; what import runs kept of their
rows (a preview, problems); the outbox mail of those conversations or addressed to them; event
payloads; follow-up titles and outcomes; incident texts and step notes. What the business must
keep for its books stays without the person: orders, their lines and refunds, invoices and
payments, with amounts and dates. The audit log keeps that the erasure happened
(``client.erased``, who, when, why) and forgets what its earlier entries about the client held.

On SQLite the deletes run with ``secure_delete`` on, then the WAL is checkpointed and truncated
and the file rebuilt (VACUUM), so no byte of what was erased stays in the file or its WAL. On
PostgreSQL the touched tables get a plain VACUUM; ``VACUUM (FULL)`` (docs/security.md) rewrites
them so the old row versions leave the data files too.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from goodwill.domain.audit import Actor
from goodwill.errors import InvalidInput, NotFound
from goodwill.store.audit import forget_client_details, record
from goodwill.store.models import (
    Attachment,
    Client,
    ClientFact,
    ClientIdentity,
    Contact,
    Conversation,
    Event,
    FeedbackAnswer,
    FollowUp,
    ImportRun,
    InboundMail,
    Incident,
    IncidentStep,
    Interaction,
    Message,
    Outbox,
    ThreadId,
)

log = logging.getLogger(__name__)

ERASED_TEXT = "(erased)"
#: Tables an erasure rewrites or deletes from: the ones PostgreSQL vacuums afterwards.
TOUCHED = (
    "clients",
    "contacts",
    "client_facts",
    "client_identities",
    "interactions",
    "events",
    "followups",
    "conversations",
    "thread_ids",
    "messages",
    "attachments",
    "inbound_mail",
    "outbox",
    "incidents",
    "incident_steps",
    "feedback_answers",
    "feedback_themes",
    "audit_log",
    "imports",
)


def erased_name(client_id: int) -> str:
    return f"Erased client #{client_id}"


@dataclass(frozen=True)
class Erasure:
    """What an erasure removed, by kind (counts only: never what it was)."""

    client_id: int
    counts: dict[str, int]
    #: False when a reader kept the old pages from leaving the WAL: run it again later
    #: (``compact``) to be sure no copy remains.
    compacted: bool = True


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def unfiled_mail_about(session: Session, addresses: set[str]) -> list[int]:
    """Raw mail no message was filed from (failed, not yet read, own replies) that names one of
    ``addresses``: it belongs to no conversation, so it is found by its bytes."""
    if not addresses:
        return []
    filed = select(Message.inbound_id).where(Message.inbound_id.is_not(None))
    found = []
    for mail_id, raw in session.execute(
        select(InboundMail.id, InboundMail.raw).where(InboundMail.id.not_in(filed))
    ):
        text = bytes(raw).lower()
        if any(a.encode() in text for a in addresses):
            found.append(int(mail_id))
    return found


def _identifiers(session: Session, client: Client, addresses: set[str]) -> set[str]:
    """What names the person in free text: names, addresses and phones (lower case)."""
    values = {client.name, client.phone, *addresses}
    for name, phone in session.execute(
        select(Contact.name, Contact.phone).where(Contact.client_id == client.id)
    ):
        values |= {name, phone}
    return {v.strip().lower() for v in values if v and len(v.strip()) >= 3}


def _scrubbed(value: Any, identifiers: set[str]) -> Any:
    if isinstance(value, str):
        lowered = value.lower()
        return ERASED_TEXT if any(i in lowered for i in identifiers) else value
    if isinstance(value, list):
        return [_scrubbed(v, identifiers) for v in value]
    if isinstance(value, dict):
        return {k: _scrubbed(v, identifiers) for k, v in value.items()}
    return value


def _scrub_import_summaries(session: Session, identifiers: set[str]) -> int:
    """Import runs keep a preview of rows and the problems found: blank what names the person."""
    changed = 0
    for run in session.scalars(select(ImportRun)):
        summary = _scrubbed(run.summary or {}, identifiers)
        if summary != (run.summary or {}):
            run.summary = summary
            changed += 1
    return changed


def erase_rows(
    session: Session, client_id: int, *, actor: Actor, reason: str, now: datetime
) -> Erasure:
    """Remove the person from the rows, in the caller's transaction (see the module docstring).
    Raises NotFound for an unknown client and InvalidInput for an empty reason."""
    reason = reason.strip()
    if not reason:
        raise InvalidInput("an erasure needs a reason", field="reason")
    client = session.get(Client, client_id)
    if client is None:
        raise NotFound(f"no client #{client_id}", client=client_id)
    addresses = {a.lower() for a in [client.email] if a}
    addresses |= {
        e.lower()
        for e in session.scalars(select(Contact.email).where(Contact.client_id == client_id))
        if e
    }
    identifiers = _identifiers(session, client, addresses)
    counts: dict[str, int] = {}
    counts["unfiled_mail"] = 0
    for mail_id in unfiled_mail_about(session, addresses):
        counts["unfiled_mail"] += _count(
            session.execute(delete(InboundMail).where(InboundMail.id == mail_id))
        )
    counts["import_summaries"] = _scrub_import_summaries(session, identifiers)
    conversations = select(Conversation.id).where(Conversation.client_id == client_id)
    messages = select(Message.id).where(Message.conversation_id.in_(conversations))
    inbound = [
        i
        for i in session.scalars(select(Message.inbound_id).where(Message.id.in_(messages)))
        if i is not None
    ]
    outbox = delete(Outbox).where(Outbox.message_row_id.in_(messages))
    counts["outbox"] = _count(session.execute(outbox))
    if addresses:
        # Mail to them that belongs to no conversation (a feedback question): recipients is JSON.
        rows = session.execute(select(Outbox.id, Outbox.recipients).where(Outbox.kind == "email"))
        for row in rows.all():
            if {str(r).lower() for r in row.recipients or []} & addresses:
                session.execute(delete(Outbox).where(Outbox.id == row.id))
                counts["outbox"] += 1
    counts["attachments"] = _count(
        session.execute(delete(Attachment).where(Attachment.message_id.in_(messages)))
    )
    counts["messages"] = _count(session.execute(delete(Message).where(Message.id.in_(messages))))
    counts["conversations"] = _count(
        session.execute(delete(Conversation).where(Conversation.client_id == client_id))
    )
    # What threading kept of their mail in other conversations: their subjects, and who wrote.
    session.execute(
        update(ThreadId)
        .where(ThreadId.client_id == client_id)
        .values(client_id=None, subject_key=None)
    )
    counts["raw_mail"] = 0
    for start in range(0, len(inbound), 500):
        counts["raw_mail"] += _count(
            session.execute(
                delete(InboundMail).where(InboundMail.id.in_(inbound[start : start + 500]))
            )
        )
    counts["contacts"] = _count(
        session.execute(delete(Contact).where(Contact.client_id == client_id))
    )
    counts["facts"] = _count(
        session.execute(delete(ClientFact).where(ClientFact.client_id == client_id))
    )
    counts["identities"] = _count(
        session.execute(delete(ClientIdentity).where(ClientIdentity.client_id == client_id))
    )
    # Calls, visits and notes are what people said: gone. A counter sale's order stays (books).
    counts["interactions"] = _count(
        session.execute(delete(Interaction).where(Interaction.client_id == client_id))
    )
    counts["feedback_answers"] = _count(
        session.execute(delete(FeedbackAnswer).where(FeedbackAnswer.client_id == client_id))
    )
    counts["event_payloads"] = _count(
        session.execute(update(Event).where(Event.client_id == client_id).values(payload={}))
    )
    counts["followups"] = _count(
        session.execute(
            update(FollowUp)
            .where(FollowUp.client_id == client_id)
            .values(title=ERASED_TEXT, outcome=None)
        )
    )
    incidents = select(Incident.id).where(Incident.client_id == client_id)
    session.execute(
        update(IncidentStep).where(IncidentStep.incident_id.in_(incidents)).values(note=None)
    )
    counts["incidents"] = _count(
        session.execute(
            update(Incident)
            .where(Incident.client_id == client_id)
            .values(
                what=ERASED_TEXT,
                message=None,
                restatement=None,
                outcome=None,
                close_reason=None,
            )
        )
    )
    name = erased_name(client_id)
    client.name = name
    client.name_key = name.lower()
    client.email = None
    client.phone = None
    client.hometown = None
    client.timezone = None
    client.birthday_day = client.birthday_month = client.birthday_year = None
    client.tags = []
    client.contact_window = None
    client.company = client.street = client.postcode = client.city = client.region = None
    client.country = client.language = client.preferred_channel = None
    client.consent_how = None
    client.updated_at = now
    session.flush()
    counts["audit_entries_blanked"] = forget_client_details(session, client_id)
    record(
        session,
        actor,
        "client.erased",
        at=now,
        object_type="client",
        object_id=client_id,
        client_id=client_id,
        detail=reason,
    )
    log.info("erased client %s: %s", client_id, counts)
    return Erasure(client_id=client_id, counts=counts)


def erase_client(
    sessions: sessionmaker[Session],
    client_id: int,
    *,
    actor: Actor,
    reason: str,
    now: datetime,
) -> Erasure:
    """Erase a client in one transaction, then leave no copy of the old bytes in the database
    files (SQLite: secure_delete, checkpoint, VACUUM; PostgreSQL: VACUUM of the touched tables)."""
    engine = sessions.kw.get("bind")
    if not isinstance(engine, Engine):
        raise TypeError("the session factory has no engine bound")
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        if sqlite:  # freed space is zeroed as the rows go, not left in free pages
            connection.exec_driver_sql("PRAGMA secure_delete=ON")
            connection.commit()
        session = Session(bind=connection)
        try:
            erasure = erase_rows(session, client_id, actor=actor, reason=reason, now=now)
            session.commit()
        finally:
            session.close()
        if sqlite:
            connection.exec_driver_sql("PRAGMA secure_delete=OFF")
            connection.commit()
    return Erasure(erasure.client_id, erasure.counts, compacted=compact(engine))


def compact(engine: Engine) -> bool:
    """Leave no freed page with old bytes: rebuild the file and empty the WAL (SQLite), or vacuum
    the tables an erasure touches (PostgreSQL). False when a reader held the WAL open."""
    with engine.connect() as connection:
        raw = connection.execution_options(isolation_level="AUTOCOMMIT")
        if engine.dialect.name == "sqlite":
            raw.exec_driver_sql("PRAGMA secure_delete=ON")
            raw.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            raw.exec_driver_sql("VACUUM")
            busy = raw.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()[0]
            raw.exec_driver_sql("PRAGMA secure_delete=OFF")
            if busy:
                log.warning("a reader kept the WAL from being emptied; compact again later")
            return not busy
        for table in TOUCHED:
            raw.exec_driver_sql(f"VACUUM {table}")
        return True


@dataclass(frozen=True)
class Purge:
    raw_mail: int
    attachments: int
    outbox: int

    def as_dict(self) -> dict[str, int]:
        return {"raw_mail": self.raw_mail, "attachments": self.attachments, "outbox": self.outbox}


def purge_old_mail(sessions: sessionmaker[Session], *, days: int, now: datetime) -> Purge:
    """Delete raw mail, attachments and sent outbox bodies older than ``days`` (0: keep all).

    The parsed messages stay (the conversation still reads), they only lose the raw bytes they
    were parsed from and their attachments. A raw message not yet read (status stored) is kept.
    """
    if days <= 0:
        return Purge(0, 0, 0)
    cutoff = now - timedelta(days=days)
    engine = sessions.kw.get("bind")
    sqlite = isinstance(engine, Engine) and engine.dialect.name == "sqlite"
    with sessions.begin() as session:
        if sqlite:
            session.connection().exec_driver_sql("PRAGMA secure_delete=ON")
        old = select(Message.id).where(Message.sent_at < cutoff)
        attachments = _count(
            session.execute(delete(Attachment).where(Attachment.message_id.in_(old)))
        )
        expired = (InboundMail.received_at < cutoff, InboundMail.status != "stored")
        session.execute(
            update(Message)
            .where(Message.inbound_id.in_(select(InboundMail.id).where(*expired)))
            .values(inbound_id=None)
        )
        raw = _count(session.execute(delete(InboundMail).where(*expired)))
        outbox = _count(
            session.execute(
                delete(Outbox).where(
                    Outbox.status == "sent",
                    or_(Outbox.sent_at < cutoff, Outbox.created_at < cutoff),
                )
            )
        )
    if sqlite and isinstance(engine, Engine):
        with engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                "PRAGMA wal_checkpoint(TRUNCATE)"
            )
    purge = Purge(raw, attachments, outbox)
    log.info("purged mail older than %d days: %s", days, purge.as_dict())
    return purge
