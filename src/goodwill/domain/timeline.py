"""A client's history in plain words: what each entry says, who wrote it, what it links to.

The store reads a page of entries and, for each, the row it is about as that row is NOW (the
order, the fact, the note, the incident, the message); this module only puts them into words,
so a fact edited since reads as it is and a removed one says so without its text. ``row`` is
``None`` when the entry names a row that no longer exists.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from goodwill.domain.facts import fact_label
from goodwill.domain.touchpoints import RESTATING, TOUCH_POINTS, describe

#: The filters people choose from, in the order shown, with their labels.
FILTERS: dict[str, str] = {
    "all": "Everything",
    "purchases": "Purchases",
    "conversations": "Conversations",
    "notes": "Notes and calls",
    "facts": "Facts",
    "incidents": "Incidents",
    "followups": "Follow-ups",
}

#: The event types behind each filter ("all" takes every type not hidden).
FILTER_TYPES: dict[str, frozenset[str]] = {
    "purchases": frozenset(
        {
            "order.placed",
            "order.refunded",
            "invoice.issued",
            "payment.received",
            "payment.late",
            "invoice.overdue",
            "purchase.missed",
            "client.milestone",
        }
    ),
    "conversations": frozenset(
        {
            "message.received",
            "reply.sent",
            "sla.breach",
            "lead.created",
            "lead.info_requested",
            "email.link_clicked",
            "feedback.answered",
        }
    ),
    "notes": frozenset({"note.added", "service.interaction"}),
    "facts": frozenset({"fact.added", "client.life_event", "client.birthday_month"}),
    "incidents": frozenset({"incident.opened", "incident.resolved", "recovery.systemic"}),
    "followups": frozenset({"followup.done", "followup.closed"}),
}

#: Events never shown: a warning before a breach (the breach, or the answer, tells the story),
#: and derived touch points that restate a purchase or payment already on the timeline.
HIDDEN = RESTATING | {"sla.warning"}

#: Entries that come from rows of their own rather than the event log: a reply sent from the
#: inbox, a feedback answer, a follow-up done or closed.
ROW_TYPES = frozenset({"reply.sent", "feedback.answered", "followup.done", "followup.closed"})

INTERACTIONS = {
    "call": "Call",
    "visit": "Visit",
    "service": "Service or repair",
    "meeting": "Meeting",
    "note": "Note",
}

QUOTE_LIMIT = 140


@dataclass(frozen=True)
class Link:
    """What an entry points at: a conversation, an incident, a follow-up (by its id)."""

    kind: str
    id: int

    def as_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "id": self.id}


@dataclass(frozen=True)
class Words:
    title: str
    detail: str = ""
    by: str | None = None
    link: Link | None = None
    #: The row this entry is about has been removed since: its text is not shown.
    removed: bool = False


def filter_of(kind: str) -> str:
    """The filter an entry type belongs to; 'all' for one no filter names."""
    for name, types in FILTER_TYPES.items():
        if kind in types:
            return name
    return "all"


def quoted(text: str | None, limit: int = QUOTE_LIMIT) -> str:
    """The first line of ``text`` in quotes, cut at a word near ``limit`` characters."""
    first = next((line.strip() for line in (text or "").splitlines() if line.strip()), "")
    if len(first) > limit:
        first = first[:limit].rsplit(" ", 1)[0].rstrip(",.;:") + "…"
    return f"“{first}”" if first else ""


def fact_kind(kind: str) -> str:
    return fact_label(kind)


def interaction_kind(kind: str | None) -> str:
    return INTERACTIONS.get(kind or "", (kind or "interaction").replace("_", " ").capitalize())


def entry_words(kind: str, payload: Mapping[str, Any], row: Mapping[str, Any] | None) -> Words:
    """One entry in words. ``row`` is the current state of what the entry is about (see module
    docstring); entries about nothing but their payload ignore it."""
    by = _text(payload.get("by"))  # the author the event recorded, when it names one
    writer = _WRITERS.get(kind)
    if writer is not None:
        words = writer(payload, row)
        return Words(words.title, words.detail, by or words.by, words.link, words.removed)
    if kind in TOUCH_POINTS:
        title, detail = describe(kind, dict(payload))
        return Words(title, detail, by)
    return Words(kind.replace(".", " ").replace("_", " ").capitalize(), "", by)


def _text(value: object) -> str | None:
    return str(value).strip() or None if value is not None else None


def _join(*parts: str | None, sep: str = " — ") -> str:
    return sep.join(p for p in parts if p)


def _id(value: object) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def _conversation(payload: Mapping[str, Any], row: Mapping[str, Any] | None) -> Link | None:
    found = _id(payload.get("conversation_id") or (row or {}).get("conversation_id"))
    return Link("conversation", found) if found else None


def _order(payload: Mapping[str, Any], row: Mapping[str, Any] | None) -> Words:
    if row is None:
        return Words(f"Purchase {payload.get('order_id')}", "no longer on record", removed=True)
    served = row.get("served_by") or payload.get("served_by")
    detail = _join(
        row.get("items"),
        f"via {row['channel']}" if row.get("channel") else None,
        f"served by {served}" if served else None,
    )
    return Words(f"Purchase {row['id']}: {row['amount']}", detail)


def _invoice(payload: Mapping[str, Any], row: Mapping[str, Any] | None) -> Words:
    if row is None:
        return Words(f"Invoice {payload.get('invoice_id')}", "no longer on record", removed=True)
    detail = f"due {row['due_on']}" if row.get("due_on") else "no due date"
    if row.get("paid_on"):
        detail += f", paid {row['paid_on']}"
    elif row.get("settled"):
        detail += ", paid"
    elif row.get("due_on"):
        detail += ", unpaid"
    return Words(f"Invoice {row['id']}: {row['amount']}", detail)


def _refund(payload: Mapping[str, Any], row: Mapping[str, Any] | None) -> Words:
    amount = f"{payload.get('amount')} {payload.get('currency')}"
    return Words(
        f"Refund on {payload.get('order_id')}: {amount}",
        "money given back; the purchase counts for less",
    )


def _payment(payload: Mapping[str, Any], row: Mapping[str, Any] | None) -> Words:
    days_late = _id(payload.get("days_late")) or 0
    return Words(
        f"Payment for invoice {payload.get('invoice_id')}",
        f"{days_late} days late" if days_late > 0 else "on time",
    )


def _message(payload: Mapping[str, Any], row: Mapping[str, Any] | None) -> Words:
    subject = _text(payload.get("subject")) or _text((row or {}).get("subject"))
    sender = _text((row or {}).get("from")) or "the client"
    said = quoted((row or {}).get("text")) or quoted(subject)
    title = f"Message from {sender}" + (f": {said}" if said else "")
    detail = f"Subject: {subject}" if subject and quoted(subject) != said else ""
    return Words(title, detail, link=_conversation(payload, row))


def _reply(payload: Mapping[str, Any], row: Mapping[str, Any] | None) -> Words:
    row = row or {}
    said = quoted(row.get("text")) or quoted(row.get("subject"))
    by = _text(row.get("by"))
    title = f"Reply from {by}" if by else "Reply sent"
    return Words(title + (f": {said}" if said else ""), "", by, _conversation(payload, row))


def _breach(payload: Mapping[str, Any], row: Mapping[str, Any] | None) -> Words:
    subject = quoted(_text(payload.get("subject")))
    policy = _text(payload.get("policy"))
    detail = _join(
        f"an answer was due {str(payload['due_at'])[:16].replace('T', ' ')} UTC"
        if payload.get("due_at")
        else None,
        f"{policy} target" if policy else None,
        "in the client's critical window" if payload.get("critical") else None,
        sep=", ",
    )
    title = "Waited past our response target" + (f": {subject}" if subject else "")
    return Words(title, detail, link=_conversation(payload, row))


def _lead(payload: Mapping[str, Any], row: Mapping[str, Any] | None) -> Words:
    title, detail = describe("lead.created", dict(payload))
    subject = quoted(_text(payload.get("subject")))
    return Words(title, _join(detail, subject, sep=": "))


def _interaction(payload: Mapping[str, Any], row: Mapping[str, Any] | None) -> Words:
    named = "interaction_id" in payload
    if row is None and named:
        what = interaction_kind(_text(payload.get("kind")))
        return Words(f"{what} (removed)", "", removed=True)
    source = row or {"kind": payload.get("kind"), "text": payload.get("summary")}
    what = interaction_kind(_text(source.get("kind")))
    said = quoted(_text(source.get("text")))
    outcome = _text(source.get("outcome") or payload.get("outcome"))
    return Words(
        what + (f": {said}" if said else ""),
        f"Outcome: {outcome}" if outcome else "",
        _text(source.get("by")),
    )


def _note(payload: Mapping[str, Any], row: Mapping[str, Any] | None) -> Words:
    if row is None:
        return Words("Note (removed)", "", removed=True)
    return Words(
        "Note: " + quoted(_text(row.get("text")), limit=400),
        "pinned to the top of the page" if row.get("pinned") else "",
        _text(row.get("by")),
    )


def _fact(payload: Mapping[str, Any], row: Mapping[str, Any] | None) -> Words:
    if row is None:
        what = fact_kind(str(payload.get("kind") or "fact")).lower()
        return Words(f"A fact ({what}) was noted; it has since been removed", "", removed=True)
    on = f"on {row['on_date']}" if row.get("on_date") else None
    their = quoted(_text(row.get("quote")))
    detail = _join(
        _join(fact_kind(str(row.get("kind"))), on, sep=", "),
        f"in their words: {their}" if their else None,
    )
    return Words(f"Learned: {row.get('text')}", detail, _text(row.get("by")))


def _life_event(payload: Mapping[str, Any], row: Mapping[str, Any] | None) -> Words:
    if row is None and payload.get("fact_id") is not None:
        return Words("The day of a dated fact (the fact has since been removed)", removed=True)
    source = row or payload
    kind = fact_kind(str(source.get("kind") or "event"))
    return Words(
        f"The day came: {source.get('text')}",
        _join(kind, f"on {source['on_date']}" if source.get("on_date") else None, sep=", "),
    )


Writer = Callable[[Mapping[str, Any], Mapping[str, Any] | None], "Words"]


def _incident(opened: bool) -> Writer:
    def words(payload: Mapping[str, Any], row: Mapping[str, Any] | None) -> Words:
        number = _id(payload.get("incident_id"))
        link = Link("incident", number) if number else None
        if row is None:
            verb = "opened" if opened else "resolved"
            return Words(f"Incident #{number} {verb}", "no longer on record", link=link)
        if opened:
            detail = _join(f"tier {row.get('tier')}", _text(row.get("cause")), sep=", ")
            return Words(f"Incident opened: {row.get('what')}", detail, _text(row.get("by")), link)
        outcome = quoted(_text(row.get("outcome")), limit=300)
        return Words(
            f"Incident resolved: {row.get('what')}",
            f"Outcome: {outcome}" if outcome else "",
            _text(row.get("resolved_by")),
            link,
        )

    return words


def _systemic(payload: Mapping[str, Any], row: Mapping[str, Any] | None) -> Words:
    return Words(
        f"The same mistake keeps happening: {payload.get('cause')}",
        f"{payload.get('count')} times in {payload.get('days')} days",
    )


def _created(payload: Mapping[str, Any], row: Mapping[str, Any] | None) -> Words:
    return Words("Added as a client")


def _archived(payload: Mapping[str, Any], row: Mapping[str, Any] | None) -> Words:
    return Words("Archived", "left the lists; the history stays")


def _restored(payload: Mapping[str, Any], row: Mapping[str, Any] | None) -> Words:
    return Words("Restored from the archive")


def _unsubscribed(payload: Mapping[str, Any], row: Mapping[str, Any] | None) -> Words:
    return Words(
        "Unsubscribed from marketing", "through the link in a marketing email", "the client"
    )


#: What a merge moved, in words: (one, many).
MOVED_WORDS = {
    "orders": ("purchase", "purchases"),
    "invoices": ("invoice", "invoices"),
    "events": ("history entry", "history entries"),
    "conversations": ("conversation", "conversations"),
    "incidents": ("incident", "incidents"),
    "interactions": ("call or note", "calls and notes"),
    "contacts": ("contact", "contacts"),
    "feedback_requests": ("question asked", "questions asked"),
    "feedback_answers": ("feedback answer", "feedback answers"),
    "identities": ("identifier", "identifiers"),
    "facts": ("fact", "facts"),
    "followups": ("follow-up", "follow-ups"),
}


def _counted(n: int, what: str) -> str:
    one, many = MOVED_WORDS.get(what, (what.replace("_", " "), what.replace("_", " ")))
    return f"{n} {one if n == 1 else many}"


def _merged(payload: Mapping[str, Any], row: Mapping[str, Any] | None) -> Words:
    other = _text(payload.get("other_name")) or "another record"
    ref = _text(payload.get("other_ref"))
    moved = payload.get("moved") or {}
    counts = ", ".join(
        _counted(n, what)
        for what, n in (moved.items() if isinstance(moved, Mapping) else [])
        if isinstance(n, int) and n
    )
    return Words(
        f"Merged with the record of {other}" + (f" ({ref})" if ref else ""),
        f"moved here: {counts}" if counts else "",
    )


def _feedback(payload: Mapping[str, Any], row: Mapping[str, Any] | None) -> Words:
    row = row or {}
    answer = quoted(_text(row.get("answer")), limit=300)
    question = quoted(_text(row.get("question")))
    channel = _text(row.get("channel"))
    return Words(
        "Feedback" + (f": {answer}" if answer else ""),
        _join(f"asked {question}" if question else None, f"by {channel}" if channel else None),
        _text(row.get("by")),
    )


def _followup(done: bool) -> Writer:
    def words(payload: Mapping[str, Any], row: Mapping[str, Any] | None) -> Words:
        row = row or {}
        outcome = quoted(_text(row.get("outcome")), limit=300)
        number = _id(row.get("id"))
        verb = "done" if done else "closed"
        return Words(
            f"Follow-up {verb}: {row.get('title')}",
            f"Outcome: {outcome}" if outcome else "",
            _text(row.get("by")),
            Link("followup", number) if number else None,
        )

    return words


_WRITERS: dict[str, Writer] = {
    "order.placed": _order,
    "invoice.issued": _invoice,
    "order.refunded": _refund,
    "payment.received": _payment,
    "message.received": _message,
    "reply.sent": _reply,
    "sla.breach": _breach,
    "lead.created": _lead,
    "service.interaction": _interaction,
    "note.added": _note,
    "fact.added": _fact,
    "client.life_event": _life_event,
    "incident.opened": _incident(True),
    "incident.resolved": _incident(False),
    "recovery.systemic": _systemic,
    "client.created": _created,
    "client.archived": _archived,
    "client.restored": _restored,
    "client.unsubscribed": _unsubscribed,
    "client.merged": _merged,
    "feedback.answered": _feedback,
    "followup.done": _followup(True),
    "followup.closed": _followup(False),
}
