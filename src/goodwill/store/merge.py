"""Two records of one person become one: everything of the other moves to the record kept.

What moves: orders, invoices (their lines, refunds and payments hang on them), events,
conversations (and their messages), incidents, facts, interactions and notes, contacts,
follow-ups, feedback requests and answers, identities, and the import items that say which
import brought the other record. A fact the kept record already has (same kind and text) is
dropped, not doubled; an open follow-up whose reason the kept record already has open is closed
("merged"), since one client is owed one such follow-up. The other's import id, emails and phones
become identities of the kept record (``source`` merged), so a re-import of either record's files
finds the one kept. The kept record's empty fields are filled from the other (its own values win);
"client since" takes the earlier of the two. The other record is then deleted, ``client.merged``
is appended on the kept one, and the audit log keeps the counts.

Refused: a merge of a record with itself, and keeping an archived record (restore it first, or
keep the other). An archived record may be merged into an active one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from goodwill.domain.audit import Actor
from goodwill.domain.identifiers import IdentifierError, normalize_email, phone_key
from goodwill.errors import Conflict, InvalidInput, NotFound
from goodwill.store.audit import record
from goodwill.store.client_figures import forget_figures, mark_stale
from goodwill.store.duplicates import ref_of
from goodwill.store.models import (
    Client,
    ClientFact,
    ClientIdentity,
    Contact,
    Conversation,
    Event,
    FeedbackAnswer,
    FeedbackRequest,
    FollowUp,
    ImportItem,
    Incident,
    Interaction,
    Invoice,
    Order,
    ThreadId,
)

log = logging.getLogger(__name__)

#: Tables whose rows move as they are, by the name the counts use.
MOVED: tuple[tuple[str, Any], ...] = (
    ("orders", Order),
    ("invoices", Invoice),
    ("events", Event),
    ("conversations", Conversation),
    ("incidents", Incident),
    ("interactions", Interaction),
    ("contacts", Contact),
    ("feedback_requests", FeedbackRequest),
    ("feedback_answers", FeedbackAnswer),
    ("identities", ClientIdentity),
)
#: Fields filled on the kept record when empty there; groups move together.
FILLED: tuple[tuple[str, ...], ...] = (
    ("email",),
    ("phone",),
    ("timezone",),
    ("hometown",),
    ("birthday_day", "birthday_month", "birthday_year"),
    ("owner_id",),
    ("contact_window",),
    ("company",),
    ("street", "postcode", "city", "region", "country"),
    ("language",),
    ("preferred_channel",),
    ("partner_id",),
    ("marketing_consent", "consent_at", "consent_how"),
)
#: What the preview shows of each record, side by side.
SHOWN = (
    "name",
    "external_id",
    "email",
    "phone",
    "company",
    "street",
    "postcode",
    "city",
    "country",
    "timezone",
    "hometown",
    "language",
    "preferred_channel",
    "client_since",
)


@dataclass(frozen=True)
class MergePlan:
    """What a merge of ``other`` into ``keep`` would do (the preview), or did."""

    keep_id: int
    other_id: int
    keep_ref: str
    other_ref: str
    keep_name: str
    other_name: str
    #: Rows each record holds now, by kind (the side-by-side counts).
    keep_counts: dict[str, int]
    other_counts: dict[str, int]
    #: Rows that move, by kind; facts already held and follow-ups closed are counted apart.
    moved: dict[str, int]
    duplicate_facts: int
    closed_followups: int
    #: Fields of the kept record filled from the other: field -> value (as text).
    filled: dict[str, str]
    #: (kind, value) identifiers the kept record takes from the other.
    identities: list[tuple[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "keep": {"id": self.keep_id, "ref": self.keep_ref, "name": self.keep_name},
            "other": {"id": self.other_id, "ref": self.other_ref, "name": self.other_name},
            "moved": self.moved,
            "duplicate_facts": self.duplicate_facts,
            "closed_followups": self.closed_followups,
            "filled": self.filled,
            "identities": [{"kind": k, "value": v} for k, v in self.identities],
        }


def _text(value: object) -> str:
    return "" if value is None else value.isoformat() if hasattr(value, "isoformat") else str(value)


def shown_fields(client: Client) -> dict[str, str]:
    """The fields the preview shows, as text ("" when empty)."""
    return {name: _text(getattr(client, name)) for name in SHOWN}


def _counts(session: Session, client_id: int) -> dict[str, int]:
    counts = {}
    for name, model in (*MOVED, ("facts", ClientFact), ("followups", FollowUp)):
        counts[name] = int(
            session.execute(
                select(func.count()).select_from(model).where(model.client_id == client_id)
            ).scalar_one()
        )
    return counts


def _duplicate_facts(session: Session, keep: Client, other: Client) -> list[int]:
    held = {
        (kind, text)
        for kind, text in session.execute(
            select(ClientFact.kind, ClientFact.text).where(ClientFact.client_id == keep.id)
        )
    }
    return [
        fact_id
        for fact_id, kind, text in session.execute(
            select(ClientFact.id, ClientFact.kind, ClientFact.text).where(
                ClientFact.client_id == other.id
            )
        )
        if (kind, text) in held
    ]


def _followups_to_close(session: Session, keep: Client, other: Client) -> list[int]:
    open_reasons = select(FollowUp.open_reason).where(
        FollowUp.client_id == keep.id, FollowUp.open_reason.is_not(None)
    )
    return list(
        session.execute(
            select(FollowUp.id).where(
                FollowUp.client_id == other.id, FollowUp.open_reason.in_(open_reasons)
            )
        ).scalars()
    )


def _fills(keep: Client, other: Client) -> dict[str, Any]:
    """Fields of the kept record that take the other's value (empty on the kept one)."""
    out: dict[str, Any] = {}
    for group in FILLED:
        if all(getattr(keep, name) is None for name in group) and any(
            getattr(other, name) is not None for name in group
        ):
            out.update({name: getattr(other, name) for name in group})
    if other.client_since is not None and (
        keep.client_since is None or other.client_since < keep.client_since
    ):
        out["client_since"] = other.client_since
    if keep.external_id is None and other.external_id is not None:
        out["external_id"] = other.external_id
    tags = sorted(set(keep.tags or []) | set(other.tags or []))
    if tags != sorted(keep.tags or []):
        out["tags"] = tags
    return out


def _identities(
    session: Session, keep: Client, other: Client, fills: dict[str, Any], region: str | None
) -> list[tuple[str, str]]:
    """The other's primary identifiers the kept record does not already carry."""
    found: list[tuple[str, str]] = []
    if other.external_id and "external_id" not in fills and other.external_id != keep.external_id:
        found.append(("external_id", other.external_id))
    if other.email and "email" not in fills:
        try:
            email = normalize_email(other.email)
        except IdentifierError:
            email = other.email.strip().lower()
        if email != (keep.email or "").strip().lower():
            found.append(("email", email))
    if other.phone and "phone" not in fills:
        phone = phone_key(other.phone, region)
        if phone and phone != phone_key(keep.phone, region):
            found.append(("phone", phone))
    if not found:
        return []
    # Held already: by one of the two (it moves along), or, against the rules, by a third.
    held = {
        (kind, value)
        for kind, value in session.execute(
            select(ClientIdentity.kind, ClientIdentity.value).where(
                ClientIdentity.value.in_({value for _, value in found})
            )
        )
    }
    return [item for item in found if item not in held]


def _pair(session: Session, keep_id: int, other_id: int, *, lock: bool) -> tuple[Client, Client]:
    if keep_id == other_id:
        raise InvalidInput("a client cannot be merged with itself: name another", field="other")
    keep = session.get(Client, keep_id, with_for_update=lock)
    other = session.get(Client, other_id, with_for_update=lock)
    if keep is None or other is None:
        missing = keep_id if keep is None else other_id
        raise NotFound(f"no client #{missing}", field="keep" if keep is None else "other")
    if keep.archived_at is not None:
        raise InvalidInput(
            f"client {ref_of(keep.id, keep.external_id)} is archived: restore it first, "
            "or keep the other record",
            field="keep",
        )
    return keep, other


def plan_merge(
    session: Session, keep_id: int, other_id: int, *, region: str | None = None
) -> MergePlan:
    """What merging ``other_id`` into ``keep_id`` would do; writes nothing."""
    keep, other = _pair(session, keep_id, other_id, lock=False)
    return _plan(session, keep, other, region)


def _plan(session: Session, keep: Client, other: Client, region: str | None) -> MergePlan:
    other_counts = _counts(session, other.id)
    duplicates = _duplicate_facts(session, keep, other)
    closing = _followups_to_close(session, keep, other)
    fills = _fills(keep, other)
    identities = _identities(session, keep, other, fills, region)
    moved = {name: other_counts[name] for name, _ in MOVED}
    moved["facts"] = other_counts["facts"] - len(duplicates)
    moved["followups"] = other_counts["followups"]
    return MergePlan(
        keep_id=keep.id,
        other_id=other.id,
        keep_ref=ref_of(keep.id, keep.external_id),
        other_ref=ref_of(other.id, other.external_id),
        keep_name=keep.name,
        other_name=other.name,
        keep_counts=_counts(session, keep.id),
        other_counts=other_counts,
        moved=moved,
        duplicate_facts=len(duplicates),
        closed_followups=len(closing),
        filled={name: _text(value) for name, value in fills.items()},
        identities=identities,
    )


def _check_version(client: Client, version: int | None, field_name: str) -> None:
    if version is not None and client.version != version:
        raise Conflict(
            f"client {ref_of(client.id, client.external_id)} changed since the preview "
            f"(version {version}, now {client.version}): look at the merge again",
            field=field_name,
            version=client.version,
        )


def merge_clients(
    session: Session,
    keep_id: int,
    other_id: int,
    *,
    actor: Actor,
    source: str,
    by: str,
    by_id: int | None,
    now: datetime,
    region: str | None = None,
    keep_version: int | None = None,
    other_version: int | None = None,
) -> MergePlan:
    """Merge ``other_id`` into ``keep_id`` in the caller's transaction; returns what it did.

    ``source`` (web | api | cli) keys the ``client.merged`` event; ``by``/``by_id`` name the
    person in its payload. A version given and no longer current is refused (Conflict)."""
    keep, other = _pair(session, keep_id, other_id, lock=True)
    _check_version(keep, keep_version, "keep_version")
    _check_version(other, other_version, "other_version")
    plan = _plan(session, keep, other, region)
    before = {**shown_fields(keep), "version": keep.version}
    duplicates = _duplicate_facts(session, keep, other)
    if duplicates:
        session.execute(delete(ClientFact).where(ClientFact.id.in_(duplicates)))
    closing = _followups_to_close(session, keep, other)
    if closing:
        session.execute(
            update(FollowUp)
            .where(FollowUp.id.in_(closing))
            .values(
                status="closed",
                open_reason=None,
                closed_at=now,
                updated_at=now,
                outcome=f"closed: merged into {plan.keep_ref}, where the same reason is open",
            )
        )
    for _, model in (*MOVED, ("facts", ClientFact), ("followups", FollowUp)):
        session.execute(update(model).where(model.client_id == other.id).values(client_id=keep.id))
    # The ids their mail carried go too, so a reply by subject finds the kept record's thread.
    session.execute(
        update(ThreadId).where(ThreadId.client_id == other.id).values(client_id=keep.id)
    )
    _move_import_items(session, keep.id, other.id)
    forget_figures(session, [other.id])
    mark_stale(session, [keep.id])
    other_fields = {**shown_fields(other), "id": other.id, "version": other.version}
    fills = _fills(keep, other)
    session.execute(delete(Client).where(Client.id == other.id))
    session.flush()
    session.expunge(other)
    for name, value in fills.items():
        setattr(keep, name, value)
    for kind, value in plan.identities:
        session.add(
            ClientIdentity(
                client_id=keep.id, kind=kind, value=value, source="merged", created_at=now
            )
        )
    keep.version += 1
    keep.updated_at = now
    entry = record(
        session,
        actor,
        "client.merged",
        at=now,
        object_type="client",
        object_id=keep.id,
        client_id=keep.id,
        before={"keep": before, "other": other_fields},
        after={
            **{k: _text(v) for k, v in fills.items()},
            "version": keep.version,
            "moved": plan.moved,
            "duplicate_facts": plan.duplicate_facts,
            "closed_followups": plan.closed_followups,
            "identities": [f"{k}:{v}" for k, v in plan.identities],
        },
        detail=f"merged {plan.other_ref} into {plan.keep_ref}",
    )
    session.flush()
    session.add(
        Event(
            type="client.merged",
            client_id=keep.id,
            occurred_at=now,
            recorded_at=now,
            source=source,
            external_id=str(entry.id),
            idempotency_key=f"{source}:client.merged/{entry.id}",
            payload={
                "other_id": other_id,
                "other_name": plan.other_name,
                "other_ref": plan.other_ref,
                "by": by,
                "by_id": by_id,
                "moved": plan.moved,
            },
        )
    )
    session.flush()
    log.info("client %s merged into %s: %s", other_id, keep.id, plan.moved)
    return plan


def _move_import_items(session: Session, keep_id: int, other_id: int) -> None:
    """The imports that brought the other record now name the kept one (as found, not created:
    undoing such an import must not take the kept record with it)."""
    both = select(ImportItem.import_id).where(
        ImportItem.entity == "client", ImportItem.entity_id == keep_id
    )
    session.execute(
        delete(ImportItem).where(
            ImportItem.entity == "client",
            ImportItem.entity_id == other_id,
            ImportItem.import_id.in_(both),
        )
    )
    session.execute(
        update(ImportItem)
        .where(ImportItem.entity == "client", ImportItem.entity_id == other_id)
        .values(entity_id=keep_id, created=False)
    )
