"""One client's timeline, a page at a time: the event log plus the replies sent, the feedback
answers and the follow-ups done, newest first.

A page is one query over the client's rows (a UNION of the sources, each limited by the cursor
and the filter, ordered and cut in the database), then a bounded number of lookups by id for the
rows the page's entries are about, read as they are now. Nothing reads the whole history, so a
twenty-year client's page costs what a new client's does.

The cursor names the last entry of a page (its instant, its source and its id) and ``before``
takes the entries strictly older than it, so a page does not shift when new entries arrive.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Integer, Select, and_, literal_column, or_, select, union_all
from sqlalchemy.orm import Session

from goodwill.domain.money import format_money, from_minor
from goodwill.domain.timeline import (
    FILTER_TYPES,
    FILTERS,
    HIDDEN,
    ROW_TYPES,
    Link,
    entry_words,
    filter_of,
)
from goodwill.errors import InvalidInput
from goodwill.store.base import as_utc
from goodwill.store.models import (
    AuditEntry,
    Client,
    ClientFact,
    Conversation,
    Event,
    FeedbackAnswer,
    FollowUp,
    FollowUpEvent,
    Incident,
    IncidentStep,
    Interaction,
    Invoice,
    Message,
    Order,
    OrderLine,
    Partner,
    StaffUser,
)

DEFAULT_LIMIT = 50
MAX_LIMIT = 500

# Where an entry comes from; the number also breaks ties between entries of the same instant.
EVENT, REPLY, FEEDBACK, FOLLOWUP = 1, 2, 3, 4
_CURSOR = re.compile(r"(\d{1,19})-([1-4])-(\d{1,19})")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_TICK = timedelta(microseconds=1)


@dataclass(frozen=True)
class Cursor:
    at: datetime
    source: int
    id: int

    def __str__(self) -> str:
        return f"{(self.at - _EPOCH) // _TICK}-{self.source}-{self.id}"

    @classmethod
    def parse(cls, text: str) -> Cursor:
        """A cursor this module wrote; anything else is refused naming ``before``."""
        match = _CURSOR.fullmatch(text.strip())
        if match is None or int(match.group(1)) > 2**62 or int(match.group(3)) > 2**62:
            raise InvalidInput(
                f"before: {text[:40]!r} is not a timeline cursor (pass an entry's `cursor`)",
                field="before",
            )
        micros, source, number = (int(g) for g in match.groups())
        try:
            at = _EPOCH + micros * _TICK
        except OverflowError:
            raise InvalidInput(f"before: {text[:40]!r} is out of range", field="before") from None
        return cls(at, source, number)

    def including(self) -> Cursor:
        """The cursor whose page starts with this entry itself."""
        return Cursor(self.at, self.source, self.id + 1)


@dataclass(frozen=True)
class FollowUpLink:
    """A follow-up an event led to (or closed), and how it ended."""

    id: int
    title: str
    status: str
    outcome: str | None
    #: Where its own entry is (a done or closed follow-up), for a link to its outcome.
    cursor: str | None

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "title": self.title,
            "status": self.status,
            "outcome": self.outcome,
        }


@dataclass(frozen=True)
class TimelineEntry:
    occurred_at: datetime
    type: str
    title: str
    detail: str
    cursor: str
    by: str | None = None
    link: Link | None = None
    removed: bool = False
    followups: tuple[FollowUpLink, ...] = ()
    payload: dict[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        """The filter the entry belongs to (purchases, conversations, ...; 'all' for none)."""
        return filter_of(self.type)

    @property
    def anchor(self) -> str:
        """The entry's id on the page: 'followup-7' for a follow-up, else 'entry-<cursor>'."""
        if self.link is not None and self.link.kind == "followup":
            return f"followup-{self.link.id}"
        return f"entry-{self.cursor}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "occurred_at": self.occurred_at.isoformat(),
            "type": self.type,
            "kind": self.kind,
            "title": self.title,
            "detail": self.detail,
            "by": self.by,
            "link": self.link.as_dict() if self.link else None,
            "removed": self.removed,
            "followups": [f.as_dict() for f in self.followups],
            "cursor": self.cursor,
            "payload": self.payload,
        }


@dataclass(frozen=True)
class TimelinePage:
    kind: str
    entries: list[TimelineEntry]
    #: Pass as ``before`` for the next, older page; None on the last page.
    older: str | None


def check_kind(kind: str | None) -> str:
    chosen = (kind or "all").strip().lower()
    if chosen not in FILTERS:
        raise InvalidInput(
            f"kind: {kind!r} is not a timeline filter (known: {', '.join(FILTERS)})", field="kind"
        )
    return chosen


def timeline(
    session: Session,
    client: Client,
    *,
    kind: str | None = None,
    before: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> TimelinePage:
    """A page of the client's history, newest first: ``limit`` entries of ``kind`` older than
    the cursor ``before`` (from an entry's ``cursor`` or a page's ``older``)."""
    chosen = check_kind(kind)
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit: must be between 1 and {MAX_LIMIT}", field="limit")
    cursor = Cursor.parse(before) if before else None
    branches = _branches(client.id, chosen, cursor)
    union = (branches[0] if len(branches) == 1 else union_all(*branches)).subquery("entries")
    keys = [
        (int(src), int(number), as_utc(at))
        for src, number, at in session.execute(
            select(union.c.src, union.c.id, union.c.at)
            .order_by(union.c.at.desc(), union.c.src.desc(), union.c.id.desc())
            .limit(limit + 1)
        ).all()
    ]
    more = len(keys) > limit
    keys = keys[:limit]
    entries = _Reader(session, client.id).entries(keys)
    older = entries[-1].cursor if more and entries else None
    return TimelinePage(kind=chosen, entries=entries, older=older)


def _branches(client_id: int, kind: str, cursor: Cursor | None) -> list[Select[Any]]:
    wanted = None if kind == "all" else FILTER_TYPES[kind]

    def takes(entry_type: str) -> bool:
        return wanted is None or entry_type in wanted

    def src(number: int) -> Any:
        return literal_column(str(number), Integer).label("src")

    out: list[Select[Any]] = []
    event_types = None if wanted is None else wanted - ROW_TYPES
    if event_types is None or event_types:
        query = select(src(EVENT), Event.id.label("id"), Event.occurred_at.label("at")).where(
            Event.client_id == client_id, Event.type.not_in(HIDDEN)
        )
        if event_types is not None:
            query = query.where(Event.type.in_(sorted(event_types)))
        out.append(query.where(_older(Event.occurred_at, Event.id, EVENT, cursor)))
    if takes("reply.sent"):
        out.append(
            select(src(REPLY), Message.id.label("id"), Message.sent_at.label("at"))
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(
                Conversation.client_id == client_id,
                Message.direction == "out",
                _older(Message.sent_at, Message.id, REPLY, cursor),
            )
        )
    if takes("feedback.answered"):
        out.append(
            select(
                src(FEEDBACK), FeedbackAnswer.id.label("id"), FeedbackAnswer.answered_at.label("at")
            ).where(
                FeedbackAnswer.client_id == client_id,
                _older(FeedbackAnswer.answered_at, FeedbackAnswer.id, FEEDBACK, cursor),
            )
        )
    if takes("followup.done") or takes("followup.closed"):
        out.append(
            select(src(FOLLOWUP), FollowUp.id.label("id"), FollowUp.closed_at.label("at")).where(
                FollowUp.client_id == client_id,
                FollowUp.status.in_(("done", "closed")),
                FollowUp.closed_at.is_not(None),
                _older(FollowUp.closed_at, FollowUp.id, FOLLOWUP, cursor),
            )
        )
    return out


def _older(at: Any, number: Any, source: int, cursor: Cursor | None) -> ColumnElement[bool]:
    """Rows strictly after ``cursor`` in the order (at, source, id) descending."""
    if cursor is None:
        return and_(True)
    if source < cursor.source:
        return at <= cursor.at  # type: ignore[no-any-return]
    if source > cursor.source:
        return at < cursor.at  # type: ignore[no-any-return]
    return or_(at < cursor.at, and_(at == cursor.at, number < cursor.id))


def _ints(values: Iterable[object]) -> set[int]:
    out: set[int] = set()
    for value in values:
        try:
            out.add(int(str(value)))
        except ValueError:
            continue
    return out


class _Reader:
    """The rows a page's entries are about, read by id in one query per kind of row."""

    def __init__(self, session: Session, client_id: int) -> None:
        self.session, self.client_id = session, client_id
        self.staff_ids: set[int] = set()
        self.staff_emails: set[str] = set()

    def entries(self, keys: Sequence[tuple[int, int, datetime]]) -> list[TimelineEntry]:
        by_source: dict[int, list[int]] = {}
        for src, number, _ in keys:
            by_source.setdefault(src, []).append(number)
        events = self._rows(Event, by_source.get(EVENT))
        replies = self._rows(Message, by_source.get(REPLY))
        answers = self._rows(FeedbackAnswer, by_source.get(FEEDBACK))
        done = self._rows(FollowUp, by_source.get(FOLLOWUP))
        rows = self._about(list(events.values()))
        led_to = self._followups(list(events))
        closers = self._closers(list(done))
        for reply in replies.values():
            self._staff(reply.author_id)
        for answer in answers.values():
            self._staff(answer.staff_id)
        names, by_email = self._names()

        out: list[TimelineEntry] = []
        for src, number, at in keys:
            cursor = str(Cursor(at, src, number))
            if src == EVENT and number in events:
                event = events[number]
                row = rows.get((event.type, number))
                payload = dict(event.payload or {})
                if row is not None:
                    row = _named(row, names, by_email)
                if event.type == "order.placed" and row is not None:
                    payload.update(row.get("_payload", {}))
                out.append(_entry(event.type, at, cursor, payload, row, led_to.get(number, ())))
            elif src == REPLY and number in replies:
                m = replies[number]
                row = {
                    "conversation_id": m.conversation_id,
                    "text": m.new_text or m.text,
                    "subject": m.subject,
                    "by": names.get(m.author_id or -1) or m.from_name,
                }
                out.append(_entry("reply.sent", at, cursor, {}, row))
            elif src == FEEDBACK and number in answers:
                a = answers[number]
                row = {
                    "question": a.question_text,
                    "answer": a.answer,
                    "channel": a.channel if a.channel != "form" else "the feedback form",
                    "by": names.get(a.staff_id or -1),
                }
                out.append(_entry("feedback.answered", at, cursor, {}, row))
            elif src == FOLLOWUP and number in done:
                f = done[number]
                who = closers.get(f.id)
                row = {
                    "id": f.id,
                    "title": f.title,
                    "outcome": f.outcome,
                    "by": (names.get(who[0]) if who[0] else None) or who[1] if who else None,
                }
                kind = "followup.done" if f.status == "done" else "followup.closed"
                out.append(_entry(kind, at, cursor, {"reason": f.reason}, row))
        return out

    def _rows(self, model: Any, ids: list[int] | None) -> dict[int, Any]:
        if not ids:
            return {}
        return {
            row.id: row
            for row in self.session.execute(select(model).where(model.id.in_(ids))).scalars()
        }

    def _staff(self, staff_id: int | None) -> None:
        if staff_id is not None:
            self.staff_ids.add(staff_id)

    def _names(self) -> tuple[dict[int, str], dict[str, str]]:
        if not self.staff_ids and not self.staff_emails:
            return {}, {}
        rows = self.session.execute(
            select(StaffUser.id, StaffUser.email, StaffUser.name).where(
                or_(StaffUser.id.in_(self.staff_ids), StaffUser.email.in_(self.staff_emails))
            )
        ).all()
        return {r[0]: r[2] for r in rows}, {r[1]: r[2] for r in rows}

    def _about(self, events: list[Event]) -> dict[tuple[str, int], dict[str, Any]]:
        """The current row behind each event that names one, as a plain mapping."""
        wanted: dict[str, list[tuple[int, object]]] = {}
        for e in events:
            payload = e.payload or {}
            name = _NAMES.get(e.type)
            if name is not None and payload.get(name) is not None:
                wanted.setdefault(e.type, []).append((e.id, payload[name]))
            elif e.type == "message.received":
                wanted.setdefault(e.type, []).append((e.id, e.external_id))
        found: dict[tuple[str, int], dict[str, Any]] = {}
        orders = wanted.get("order.placed", [])
        if orders:
            rows = self._orders({str(v) for _, v in orders})
            found.update({("order.placed", i): rows[str(v)] for i, v in orders if str(v) in rows})
        invoices = wanted.get("invoice.issued", [])
        if invoices:
            rows = self._invoices({str(v) for _, v in invoices})
            found.update(
                {("invoice.issued", i): rows[str(v)] for i, v in invoices if str(v) in rows}
            )
        facts_wanted = wanted.get("fact.added", []) + wanted.get("client.life_event", [])
        if facts_wanted:
            facts = self._facts(_ints(v for _, v in facts_wanted))
            for kind in ("fact.added", "client.life_event"):
                for i, v in wanted.get(kind, []):
                    if (fact := facts.get(_int(v))) is not None:
                        found[(kind, i)] = fact
        interactions_wanted = wanted.get("note.added", []) + wanted.get("service.interaction", [])
        if interactions_wanted:
            notes = self._interactions(_ints(v for _, v in interactions_wanted))
            for kind in ("note.added", "service.interaction"):
                for i, v in wanted.get(kind, []):
                    if (note := notes.get(_int(v))) is not None:
                        found[(kind, i)] = note
        incidents_wanted = wanted.get("incident.opened", []) + wanted.get("incident.resolved", [])
        if incidents_wanted:
            incidents = self._incidents(_ints(v for _, v in incidents_wanted))
            for kind in ("incident.opened", "incident.resolved"):
                for i, v in wanted.get(kind, []):
                    if (incident := incidents.get(_int(v))) is not None:
                        found[(kind, i)] = incident
        messages = wanted.get("message.received", [])
        if messages:
            texts = self._messages({str(v).removeprefix("message/") for _, v in messages})
            for i, v in messages:
                if (text := texts.get(str(v).removeprefix("message/"))) is not None:
                    found[("message.received", i)] = text
        return found

    def _orders(self, external_ids: set[str]) -> dict[str, dict[str, Any]]:
        orders = list(
            self.session.execute(
                select(Order).where(
                    Order.client_id == self.client_id, Order.external_id.in_(external_ids)
                )
            ).scalars()
        )
        if not orders:
            return {}
        lines: dict[int, list[OrderLine]] = {}
        for line in self.session.execute(
            select(OrderLine)
            .where(OrderLine.order_id.in_([o.id for o in orders]))
            .order_by(OrderLine.id)
        ).scalars():
            lines.setdefault(line.order_id, []).append(line)
        partner_ids = {o.partner_id for o in orders if o.partner_id}
        partners = (
            dict(
                self.session.execute(
                    select(Partner.id, Partner.name).where(Partner.id.in_(partner_ids))
                ).all()
            )
            if partner_ids
            else {}
        )
        out: dict[str, dict[str, Any]] = {}
        for order in orders:
            items = lines.get(order.id, [])
            channel = partners.get(order.partner_id) if order.partner_id else None
            self._staff(order.served_by_id)
            out[order.external_id] = {
                "id": order.external_id,
                "amount": format_money(order.amount_minor, order.currency),
                "items": ", ".join(
                    (f"{line.quantity} × " if line.quantity != 1 else "") + (line.product or "item")
                    for line in items
                ),
                "channel": channel,
                "served_by_id": order.served_by_id,
                "_payload": {
                    "amount": str(from_minor(order.amount_minor, order.currency)),
                    "currency": order.currency,
                    "channel": channel,
                    "items": [
                        {
                            "product": i.product,
                            "category": i.category,
                            "quantity": i.quantity,
                            "amount": str(from_minor(i.amount_minor, order.currency)),
                        }
                        for i in items
                    ],
                },
            }
        return out

    def _invoices(self, external_ids: set[str]) -> dict[str, dict[str, Any]]:
        return {
            i.external_id: {
                "id": i.external_id,
                "amount": format_money(i.amount_minor, i.currency),
                "due_on": i.due_on.isoformat() if i.due_on else None,
                "paid_on": i.paid_on.isoformat() if i.paid_on else None,
                "settled": i.settled,
            }
            for i in self.session.execute(
                select(Invoice).where(
                    Invoice.client_id == self.client_id, Invoice.external_id.in_(external_ids)
                )
            ).scalars()
        }

    def _facts(self, ids: set[int]) -> dict[int, dict[str, Any]]:
        out: dict[int, dict[str, Any]] = {}
        for f in self.session.execute(
            select(ClientFact).where(ClientFact.client_id == self.client_id, ClientFact.id.in_(ids))
        ).scalars():
            self._staff(f.author_id)
            out[f.id] = {
                "kind": f.kind,
                "text": f.text,
                "on_date": f.on_date.isoformat() if f.on_date else None,
                "quote": f.quote,
                "by": f.author_label,
            }
        return out

    def _interactions(self, ids: set[int]) -> dict[int, dict[str, Any]]:
        return {
            i.id: {
                "kind": i.kind,
                "text": i.text,
                "outcome": i.outcome,
                "pinned": i.pinned,
                "by": i.author_label,
            }
            for i in self.session.execute(
                select(Interaction).where(
                    Interaction.client_id == self.client_id, Interaction.id.in_(ids)
                )
            ).scalars()
        }

    def _incidents(self, ids: set[int]) -> dict[int, dict[str, Any]]:
        incidents = list(
            self.session.execute(
                select(Incident).where(Incident.client_id == self.client_id, Incident.id.in_(ids))
            ).scalars()
        )
        resolvers = (
            dict(
                self.session.execute(
                    select(IncidentStep.incident_id, IncidentStep.by).where(
                        IncidentStep.incident_id.in_([i.id for i in incidents]),
                        IncidentStep.step == "resolve",
                    )
                ).all()
            )
            if incidents
            else {}
        )
        out: dict[int, dict[str, Any]] = {}
        for i in incidents:
            self.staff_emails.add(i.opened_by)
            if i.id in resolvers:
                self.staff_emails.add(resolvers[i.id])
            out[i.id] = {
                "what": i.what,
                "tier": i.tier,
                "cause": i.cause,
                "outcome": i.outcome,
                "by_email": i.opened_by,
                "resolved_by_email": resolvers.get(i.id),
            }
        return out

    def _messages(self, keys: set[str]) -> dict[str, dict[str, Any]]:
        return {
            m.message_id: {"from": m.from_name or m.from_address, "text": m.new_text or m.text}
            for m in self.session.execute(
                select(Message).where(Message.message_id.in_(keys), Message.direction == "in")
            ).scalars()
        }

    def _followups(self, event_ids: list[int]) -> dict[int, tuple[FollowUpLink, ...]]:
        """The follow-ups each event led to or closed."""
        if not event_ids:
            return {}
        out: dict[int, list[FollowUpLink]] = {}
        for event_id, f in self.session.execute(
            select(FollowUpEvent.event_id, FollowUp)
            .join(FollowUp, FollowUp.id == FollowUpEvent.followup_id)
            .where(FollowUpEvent.event_id.in_(event_ids))
            .order_by(FollowUp.id)
        ).all():
            where = (
                str(Cursor(f.closed_at, FOLLOWUP, f.id).including())
                if f.closed_at is not None and f.status != "open"
                else None
            )
            out.setdefault(event_id, []).append(
                FollowUpLink(f.id, f.title, f.status, f.outcome, where)
            )
        return {k: tuple(v) for k, v in out.items()}

    def _closers(self, followup_ids: list[int]) -> dict[int, tuple[int | None, str]]:
        """Who marked each follow-up done: (staff id, the label the audit log kept)."""
        if not followup_ids:
            return {}
        out: dict[int, tuple[int | None, str]] = {}
        for object_id, user_id, label in self.session.execute(
            select(AuditEntry.object_id, AuditEntry.actor_user_id, AuditEntry.actor_label)
            .where(
                AuditEntry.object_type == "followup",
                AuditEntry.object_id.in_([str(i) for i in followup_ids]),
                AuditEntry.action == "followup.done",
            )
            .order_by(AuditEntry.id)
        ).all():
            self._staff(user_id)
            out[int(object_id or 0)] = (user_id, label)
        return out


#: The payload field naming the row an event is about.
_NAMES = {
    "order.placed": "order_id",
    "invoice.issued": "invoice_id",
    "fact.added": "fact_id",
    "client.life_event": "fact_id",
    "note.added": "interaction_id",
    "service.interaction": "interaction_id",
    "incident.opened": "incident_id",
    "incident.resolved": "incident_id",
}


def _int(value: object) -> int:
    try:
        return int(str(value))
    except ValueError:
        return -1


def _named(row: dict[str, Any], names: dict[int, str], by_email: dict[str, str]) -> dict[str, Any]:
    """Staff ids and emails in a row as the people's names."""
    named = dict(row)
    if row.get("served_by_id") is not None:
        named["served_by"] = names.get(row["served_by_id"])
    for key in ("by", "resolved_by"):
        email = row.get(f"{key}_email")
        if email:
            named[key] = by_email.get(email, email)
    return named


def _entry(
    kind: str,
    at: datetime,
    cursor: str,
    payload: dict[str, Any],
    row: dict[str, Any] | None,
    followups: tuple[FollowUpLink, ...] = (),
) -> TimelineEntry:
    words = entry_words(kind, payload, row)
    shown = {k: v for k, v in payload.items() if not k.startswith("_")}
    return TimelineEntry(
        occurred_at=at,
        type=kind,
        title=words.title,
        detail=words.detail,
        cursor=cursor,
        by=words.by,
        link=words.link,
        removed=words.removed,
        followups=followups,
        payload=shown,
    )
