"""Writing what staff learn about a client: facts, notes and logged interactions.

Every write checks its input first (``goodwill.domain.facts``), so a refused one changes
nothing; then it writes the row, appends its event (``fact.added``, ``note.added``,
``service.interaction``) and an audit entry with before and after, all in the caller's
transaction. An edit carries the version it was made on: on a mismatch it is refused with what
changed since, read from the audit entries of that row. A note or an interaction sent twice with
the same request key (a form resent, an API retry) is written once; a fact is one per client,
kind and text, so a resent fact finds the one already kept.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from goodwill.domain.audit import Actor, changed
from goodwill.domain.facts import (
    FactInput,
    InteractionInput,
    check_fact,
    check_note,
    fact_label,
)
from goodwill.errors import Conflict, InvalidInput, NotFound
from goodwill.store import audit
from goodwill.store.ingest import insert_new
from goodwill.store.models import AuditEntry, Client, ClientFact, Event, Interaction, StaffUser

log = logging.getLogger(__name__)

#: Where a write came from; the events name it, and their idempotency keys start with it.
SOURCES = ("web", "api", "cli")
#: The longest request key (the column's width).
KEY_MAX = 200
#: A call logged a little ahead of the server's clock is a clock skew, not the future.
CLOCK_SKEW = timedelta(minutes=5)
SUMMARY_CHARS = 200


@dataclass(frozen=True)
class Author:
    """Who wrote it, as the timeline names them: a staff user, else the actor's label."""

    id: int | None
    name: str

    @classmethod
    def of(cls, session: Session, actor: Actor, *, by: str | None = None) -> Author:
        """The author of a write: the staff user named by email ``by`` (the CLI's ``--by``),
        else the acting user, else the actor's label (the command line)."""
        if by is not None and by.strip():
            user = session.execute(
                select(StaffUser).where(StaffUser.email == by.strip().lower())
            ).scalar_one_or_none()
            if user is None:
                raise InvalidInput(f"by: no staff user has the email {by.strip()!r}", field="by")
            return cls(user.id, user.name)
        if actor.user_id is not None:
            user = session.get(StaffUser, actor.user_id)
            if user is not None:
                return cls(user.id, user.name)
        return cls(None, actor.label)

    def payload(self) -> dict[str, Any]:
        return {"by": self.name, "by_id": self.id}


@dataclass(frozen=True)
class FactView:
    id: int
    kind: str
    label: str
    text: str
    on_date: date | None
    source: str
    source_ref: str | None
    quote: str | None
    learned_on: date | None
    author: str | None
    version: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "text": self.text,
            "on_date": self.on_date.isoformat() if self.on_date else None,
            "source": self.source,
            "source_ref": self.source_ref,
            "quote": self.quote,
            "learned_on": self.learned_on.isoformat() if self.learned_on else None,
            "author": self.author,
            "version": self.version,
        }


@dataclass(frozen=True)
class InteractionView:
    id: int
    kind: str
    text: str
    outcome: str | None
    occurred_at: datetime
    pinned: bool
    author: str
    version: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "text": self.text,
            "outcome": self.outcome,
            "occurred_at": self.occurred_at.isoformat(),
            "pinned": self.pinned,
            "author": self.author,
            "version": self.version,
        }


def fact_view(fact: ClientFact) -> FactView:
    return FactView(
        id=fact.id,
        kind=fact.kind,
        label=fact_label(fact.kind),
        text=fact.text,
        on_date=fact.on_date,
        source=fact.source,
        source_ref=fact.source_ref,
        quote=fact.quote,
        learned_on=fact.learned_on,
        author=fact.author_label,
        version=fact.version,
    )


def interaction_view(row: Interaction) -> InteractionView:
    return InteractionView(
        id=row.id,
        kind=row.kind,
        text=row.text,
        outcome=row.outcome,
        occurred_at=row.occurred_at,
        pinned=row.pinned,
        author=row.author_label,
        version=row.version,
    )


def list_facts(session: Session, client_id: int) -> list[FactView]:
    """The client's facts, dated ones by their day, the rest in the order they were learned."""
    rows = session.execute(
        select(ClientFact).where(ClientFact.client_id == client_id).order_by(ClientFact.id)
    ).scalars()
    return [fact_view(f) for f in rows]


def list_notes(session: Session, client_id: int, *, limit: int = 50) -> list[InteractionView]:
    """Notes, pinned first, then newest first."""
    rows = session.execute(
        select(Interaction)
        .where(Interaction.client_id == client_id, Interaction.kind == "note")
        .order_by(Interaction.pinned.desc(), Interaction.occurred_at.desc(), Interaction.id.desc())
        .limit(limit)
    ).scalars()
    return [interaction_view(r) for r in rows]


def list_interactions(
    session: Session, client_id: int, *, limit: int = 20
) -> list[InteractionView]:
    """Calls, visits, services and meetings, newest first."""
    rows = session.execute(
        select(Interaction)
        .where(Interaction.client_id == client_id, Interaction.kind != "note")
        .order_by(Interaction.occurred_at.desc(), Interaction.id.desc())
        .limit(limit)
    ).scalars()
    return [interaction_view(r) for r in rows]


# -- shared -------------------------------------------------------------------------------------


def _check_source(source: str) -> None:
    if source not in SOURCES:
        raise ValueError(f"source must be one of {', '.join(SOURCES)}")


def check_key(key: str | None) -> str | None:
    """A request key as given (blank is none), or InvalidInput naming ``request_key``."""
    if key is None or not key.strip():
        return None
    key = key.strip()
    if len(key) > KEY_MAX or any(ord(ch) < 33 for ch in key):
        raise InvalidInput(
            f"request_key: at most {KEY_MAX} characters with no spaces", field="request_key"
        )
    return key


def append_event(
    session: Session,
    *,
    type: str,
    client_id: int,
    occurred_at: datetime,
    source: str,
    external_id: str,
    payload: dict[str, Any],
    now: datetime,
) -> None:
    """One event, keyed ``{source}:{type}/{external_id}``: appending it twice adds nothing."""
    insert_new(
        session,
        Event,
        [
            {
                "type": type,
                "client_id": client_id,
                "occurred_at": occurred_at,
                "recorded_at": now,
                "source": source,
                "external_id": external_id,
                "idempotency_key": f"{source}:{type}/{external_id}",
                "payload": payload,
            }
        ],
        ["idempotency_key"],
    )


def changes_since(
    session: Session, object_type: str, object_id: int, version: int
) -> list[dict[str, Any]]:
    """What changed on a row after ``version``: one item per field (field, before, after, who,
    when), oldest first, from the audit entries of its edits."""
    entries = session.execute(
        select(AuditEntry)
        .where(AuditEntry.object_type == object_type, AuditEntry.object_id == str(object_id))
        .order_by(AuditEntry.id)
    ).scalars()
    out: list[dict[str, Any]] = []
    for entry in entries:
        after = entry.after or {}
        if not isinstance(after.get("version"), int) or after["version"] <= version:
            continue
        before = entry.before or {}
        for field, value in after.items():
            if field == "version":
                continue
            out.append(
                {
                    "field": field,
                    "before": before.get(field),
                    "after": value,
                    "who": entry.actor_label,
                    "when": entry.at.isoformat(),
                }
            )
    return out


def check_fresh(
    session: Session, object_type: str, object_id: int, *, current: int, given: int | None
) -> None:
    """Refuse an edit made on an older version (Conflict with what changed since)."""
    if given is None or given == current:
        return
    changes = changes_since(session, object_type, object_id, given)
    named = "; ".join(f"{c['field']} by {c['who']}" for c in changes) or "it was changed"
    raise Conflict(
        f"version: this {object_type} changed since you opened it (version {given}, now "
        f"{current}): {named}. Reload to see it, then make your change again.",
        field="version",
        version=current,
        changes=changes,
    )


# -- facts --------------------------------------------------------------------------------------


def _fact_state(fact: ClientFact) -> dict[str, Any]:
    return {
        "kind": fact.kind,
        "text": fact.text,
        "on_date": fact.on_date.isoformat() if fact.on_date else None,
    }


def add_fact(
    session: Session,
    client: Client,
    fact: FactInput,
    *,
    author: Author,
    actor: Actor,
    source: str,
    now: datetime,
    learned_on: date | None = None,
    source_ref: str | None = None,
) -> tuple[FactView, bool]:
    """Keep a checked fact; (the fact, whether it is new). The same kind and text again finds
    the one kept (a resent form), with no second event."""
    _check_source(source)
    existing = session.execute(
        select(ClientFact).where(
            ClientFact.client_id == client.id,
            ClientFact.kind == fact.kind,
            ClientFact.text == fact.text,
        )
    ).scalar_one_or_none()
    if existing is not None:
        return fact_view(existing), False
    row = ClientFact(
        client_id=client.id,
        kind=fact.kind,
        text=fact.text,
        recorded_at=now,
        source=fact.source,
        on_date=fact.on_date,
        learned_on=learned_on or now.date(),
        source_ref=source_ref,
        quote=fact.quote,
        author_id=author.id,
        author_label=author.name,
        updated_at=now,
        version=1,
    )
    session.add(row)
    session.flush()
    append_event(
        session,
        type="fact.added",
        client_id=client.id,
        occurred_at=now,
        source=source,
        external_id=str(row.id),
        payload={"fact_id": row.id, "kind": row.kind, **author.payload()},
        now=now,
    )
    after = {**_fact_state(row), "source": row.source, "source_ref": source_ref, "version": 1}
    audit.record(
        session,
        actor,
        "fact.added",
        at=now,
        object_type="fact",
        object_id=row.id,
        client_id=client.id,
        after=after,
    )
    log.info("fact %s added to client %s (%s)", row.id, client.id, source)
    return fact_view(row), True


def _fact(session: Session, client: Client, fact_id: int) -> ClientFact:
    row = session.get(ClientFact, fact_id)
    if row is None or row.client_id != client.id:
        raise NotFound(f"fact_id: this client has no fact {fact_id}", field="fact_id")
    return row


def edit_fact(
    session: Session,
    client: Client,
    fact_id: int,
    *,
    version: int | None,
    kind: str | None = None,
    text: str | None = None,
    on_date: str | date | None = None,
    clear_date: bool = False,
    actor: Actor,
    now: datetime,
) -> FactView:
    """Change a fact's kind, text or day (None keeps each; ``clear_date`` removes the day)."""
    row = _fact(session, client, fact_id)
    check_fresh(session, "fact", row.id, current=row.version, given=version)
    day: str | date | None = None if clear_date else (on_date or row.on_date)
    checked = check_fact(
        kind if kind is not None else row.kind,
        text if text is not None else row.text,
        day,
        source=row.source,
        quote=row.quote,
    )
    if (checked.kind, checked.text) != (row.kind, row.text):
        other = session.execute(
            select(ClientFact.id).where(
                ClientFact.client_id == client.id,
                ClientFact.kind == checked.kind,
                ClientFact.text == checked.text,
            )
        ).scalar_one_or_none()
        if other is not None:
            raise Conflict(f"text: the client already has this fact (fact {other})", field="text")
    before = _fact_state(row)
    row.kind, row.text, row.on_date = checked.kind, checked.text, checked.on_date
    was, now_state = changed(before, _fact_state(row))
    if not now_state:
        return fact_view(row)
    _edited(session, actor, "fact.edited", "fact", row, client.id, was, now_state, now)
    return fact_view(row)


def _edited(
    session: Session,
    actor: Actor,
    action: str,
    object_type: str,
    row: ClientFact | Interaction,
    client_id: int,
    was: dict[str, Any],
    after: dict[str, Any],
    now: datetime,
) -> None:
    """Raise an edited row's version and audit the change with the versions before and after."""
    row.version += 1
    row.updated_at = now
    audit.record(
        session,
        actor,
        action,
        at=now,
        object_type=object_type,
        object_id=row.id,
        client_id=client_id,
        before={**was, "version": row.version - 1},
        after={**after, "version": row.version},
    )


def remove_fact(
    session: Session,
    client: Client,
    fact_id: int,
    *,
    version: int | None,
    actor: Actor,
    now: datetime,
) -> None:
    row = _fact(session, client, fact_id)
    check_fresh(session, "fact", row.id, current=row.version, given=version)
    audit.record(
        session,
        actor,
        "fact.removed",
        at=now,
        object_type="fact",
        object_id=row.id,
        client_id=client.id,
        before={**_fact_state(row), "version": row.version},
    )
    session.delete(row)
    session.flush()


# -- notes and interactions ---------------------------------------------------------------------


def _by_key(session: Session, client: Client, key: str | None, kind: str) -> Interaction | None:
    if key is None:
        return None
    row = session.execute(
        select(Interaction).where(Interaction.request_key == key)
    ).scalar_one_or_none()
    if row is not None and (row.client_id != client.id or (row.kind == "note") != (kind == "note")):
        raise Conflict(
            "request_key: this key was already used for another write", field="request_key"
        )
    return row


def _interaction_state(row: Interaction) -> dict[str, Any]:
    return {"kind": row.kind, "text": row.text, "outcome": row.outcome, "pinned": row.pinned}


def _new_interaction(
    session: Session,
    client: Client,
    *,
    kind: str,
    text: str,
    outcome: str | None,
    pinned: bool,
    occurred_at: datetime,
    author: Author,
    now: datetime,
    key: str | None,
) -> Interaction:
    row = Interaction(
        client_id=client.id,
        kind=kind,
        text=text,
        outcome=outcome,
        occurred_at=occurred_at,
        pinned=pinned,
        author_id=author.id,
        author_label=author.name,
        created_at=now,
        updated_at=now,
        version=1,
        request_key=key,
    )
    session.add(row)
    session.flush()
    return row


def add_note(
    session: Session,
    client: Client,
    text: str | None,
    *,
    pinned: bool = False,
    author: Author,
    actor: Actor,
    source: str,
    now: datetime,
    key: str | None = None,
) -> tuple[InteractionView, bool]:
    """A free note (pinned to the top of the page or not); (the note, whether it is new)."""
    _check_source(source)
    cleaned, key = check_note(text), check_key(key)
    existing = _by_key(session, client, key, "note")
    if existing is not None:
        return interaction_view(existing), False
    row = _new_interaction(
        session,
        client,
        kind="note",
        text=cleaned,
        outcome=None,
        pinned=pinned,
        occurred_at=now,
        author=author,
        now=now,
        key=key,
    )
    append_event(
        session,
        type="note.added",
        client_id=client.id,
        occurred_at=now,
        source=source,
        external_id=str(row.id),
        payload={"interaction_id": row.id, **author.payload()},
        now=now,
    )
    audit.record(
        session,
        actor,
        "note.added",
        at=now,
        object_type="note",
        object_id=row.id,
        client_id=client.id,
        after={**_interaction_state(row), "version": 1},
    )
    log.info("note %s added to client %s (%s)", row.id, client.id, source)
    return interaction_view(row), True


def log_interaction(
    session: Session,
    client: Client,
    checked: InteractionInput,
    *,
    occurred_at: datetime | None = None,
    author: Author,
    actor: Actor,
    source: str,
    now: datetime,
    key: str | None = None,
) -> tuple[InteractionView, bool]:
    """A call, visit, service or meeting that happened: the ``service.interaction`` touch
    point. (the interaction, whether it is new)."""
    _check_source(source)
    key = check_key(key)
    when = occurred_at or now
    if when.tzinfo is None:
        raise InvalidInput("occurred_at: give the time zone or offset", field="occurred_at")
    if when > now + CLOCK_SKEW:
        raise InvalidInput(
            "occurred_at: log what happened, not what is planned", field="occurred_at"
        )
    existing = _by_key(session, client, key, checked.kind)
    if existing is not None:
        return interaction_view(existing), False
    row = _new_interaction(
        session,
        client,
        kind=checked.kind,
        text=checked.text,
        outcome=checked.outcome,
        pinned=False,
        occurred_at=when,
        author=author,
        now=now,
        key=key,
    )
    append_event(
        session,
        type="service.interaction",
        client_id=client.id,
        occurred_at=when,
        source=source,
        external_id=str(row.id),
        payload={
            "interaction_id": row.id,
            "kind": row.kind,
            "summary": row.text[:SUMMARY_CHARS],
            "outcome": row.outcome,
            **author.payload(),
        },
        now=now,
    )
    audit.record(
        session,
        actor,
        "interaction.logged",
        at=now,
        object_type="interaction",
        object_id=row.id,
        client_id=client.id,
        after={**_interaction_state(row), "occurred_at": when.isoformat(), "version": 1},
    )
    log.info("%s %s logged for client %s (%s)", row.kind, row.id, client.id, source)
    return interaction_view(row), True


def _interaction(session: Session, client: Client, row_id: int, *, note: bool) -> Interaction:
    row = session.get(Interaction, row_id)
    what = "note" if note else "interaction"
    if row is None or row.client_id != client.id or (row.kind == "note") != note:
        raise NotFound(f"{what}_id: this client has no {what} {row_id}", field=f"{what}_id")
    return row


def edit_note(
    session: Session,
    client: Client,
    note_id: int,
    *,
    version: int | None,
    text: str | None = None,
    pinned: bool | None = None,
    actor: Actor,
    now: datetime,
) -> InteractionView:
    """Change a note's text or pin it (to the top of the page) or unpin it."""
    row = _interaction(session, client, note_id, note=True)
    check_fresh(session, "note", row.id, current=row.version, given=version)
    cleaned = check_note(text) if text is not None else row.text
    before = _interaction_state(row)
    row.text = cleaned
    if pinned is not None:
        row.pinned = pinned
    was, after = changed(before, _interaction_state(row))
    if not after:
        return interaction_view(row)
    action = (
        "note.edited" if "text" in after else ("note.pinned" if row.pinned else "note.unpinned")
    )
    _edited(session, actor, action, "note", row, client.id, was, after, now)
    return interaction_view(row)


def remove_note(
    session: Session,
    client: Client,
    note_id: int,
    *,
    version: int | None,
    actor: Actor,
    now: datetime,
) -> None:
    row = _interaction(session, client, note_id, note=True)
    check_fresh(session, "note", row.id, current=row.version, given=version)
    audit.record(
        session,
        actor,
        "note.removed",
        at=now,
        object_type="note",
        object_id=row.id,
        client_id=client.id,
        before={**_interaction_state(row), "version": row.version},
    )
    session.delete(row)
    session.flush()
