"""Touch points: the event types that deserve attention, and how they are derived from history.

Base facts arrive in the event log from imports and the API (``order.placed``,
``payment.received``, ``lead.created``, ...). The engine derives touch points from them
(``purchase.first``, ``purchase.repeat`` with its ordinal, ``payment.late`` with the client's late
count, milestones) and from the calendar (birthday month, anniversary, the day of a dated
fact). Each derived event has an idempotency key built from what it is about — the order, the
payment, the client and year — so the same history always yields the same events, once.

Ordinals are fixed when the event is derived: the log is append-only, so history imported later
that predates an event does not rewrite it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

#: Every touch-point type a playbook rule may react to, with what its payload carries.
TOUCH_POINTS: dict[str, str] = {
    "lead.created": "a new lead (payload: via = call | email | web_form)",
    "email.link_clicked": "a lead or client clicked a link in an email (payload: url)",
    "lead.info_requested": "an existing lead asked for information (payload: topic)",
    "purchase.first": "a client's first purchase (payload: order_id, amount, channel, n = 1)",
    "purchase.repeat": "a repeat purchase (payload: order_id, amount, channel, n = ordinal)",
    "service.interaction": "a conversation, a visit or a repair (payload: kind, summary)",
    "payment.on_time": "an invoice paid by its due date (payload: invoice_id, n = on-time count)",
    "payment.late": "an invoice paid after its due date (payload: invoice_id, days_late, "
    "n = the client's late count)",
    "invoice.overdue": "an invoice still unpaid past its due date (payload: invoice_id, "
    "due_date, n = the client's late count)",
    "purchase.missed": "a regular client missed their usual purchase (payload: expected_at, "
    "days_overdue, category)",
    "client.birthday_month": "the client's birthday month has begun (payload: birthday)",
    "client.anniversary": "years as a client (payload: years, since)",
    "client.life_event": "the day of a dated fact the team wrote down: a wedding, a launch, a "
    "move, someone's birthday (payload: fact_id, kind, text, on_date, what)",
    "client.milestone": "a milestone: the 10th, 25th, 50th, 100th order (payload: n, what)",
    "incident.opened": "a mistake by us or a partner acting for us (payload: incident_id)",
    "incident.resolved": "an incident was resolved (payload: incident_id)",
    "recovery.systemic": "the same incident cause recurred often enough to be a systemic "
    "failure (payload: cause, count, days, incident_ids)",
    "sla.warning": "a client's message nears its response target (payload: conversation_id, "
    "subject, due_at, policy, critical)",
    "sla.breach": "a client's message passed its response target unanswered (payload: "
    "conversation_id, subject, due_at, policy, critical)",
}

#: What a message template can fill, as data beside TOUCH_POINTS (docs/playbooks.md): every
#: touch point fills the ``client``, ``business`` and ``staff`` groups; the ones named below
#: also fill ``order``, ``incident`` and ``touch`` (the touch point's own values). A field with
#: ``?`` may be empty for some clients or events, so a template guards it with ``{% if
#: client.hometown is defined %}``; the others are always filled.
TEMPLATE_FIELDS_EVERYWHERE: dict[str, str] = {
    "client": "name greeting first_name? email? hometown? tenure_years? tier?",
    "business": "name?",
    "staff": "name first_name",
}
_ORDER = "id amount items?"
TEMPLATE_FIELDS: dict[str, dict[str, str]] = {
    "lead.created": {"touch": "via?"},
    "email.link_clicked": {"touch": "url?"},
    "lead.info_requested": {"touch": "topic?"},
    "purchase.first": {"order": _ORDER, "touch": "n"},
    "purchase.repeat": {"order": _ORDER, "touch": "n"},
    "service.interaction": {"touch": "kind? summary?"},
    "payment.on_time": {"touch": "invoice_id n"},
    "payment.late": {"touch": "invoice_id days_late n"},
    "invoice.overdue": {"touch": "invoice_id due_date n"},
    "purchase.missed": {"touch": "expected_at days_overdue category?"},
    "client.birthday_month": {"touch": "birthday"},
    "client.anniversary": {"touch": "years since"},
    "client.life_event": {"touch": "what text on_date kind?"},
    "client.milestone": {"order": _ORDER, "touch": "n what"},
    "incident.opened": {"incident": "what partner?"},
    "incident.resolved": {"incident": "what partner?"},
    "recovery.systemic": {"touch": "cause count days"},
    "sla.warning": {"touch": "subject due_at"},
    "sla.breach": {"touch": "subject due_at"},
}
#: Every placeholder group a template may name; a group a touch point does not fill is empty.
TEMPLATE_GROUPS = ("client", "business", "staff", "order", "incident", "touch")


def template_fields(kind: str) -> dict[str, dict[str, bool]]:
    """The placeholders a template can use for touch point ``kind``: {group: {field: always}}."""
    out: dict[str, dict[str, bool]] = {group: {} for group in TEMPLATE_GROUPS}
    for group, names in (TEMPLATE_FIELDS_EVERYWHERE | TEMPLATE_FIELDS.get(kind, {})).items():
        for name in names.split():
            out[group][name.rstrip("?")] = not name.endswith("?")
    return out


#: Base facts in the log that are not touch points themselves but are the source of some.
BASE_FACTS = ("order.placed", "invoice.issued", "payment.received")

ORDER_MILESTONES = (10, 25, 50, 100, 250, 500, 1000)


@dataclass(frozen=True)
class Derived:
    """A touch point to append to the log; ``key`` makes appending it idempotent."""

    type: str
    key: str
    payload: dict[str, object]


def payment_touch_point(invoice_id: str, paid_on: date, days_late: int, count: int) -> Derived:
    """``payment.late`` (n = the client's late count so far) or ``payment.on_time``."""
    kind = "payment.late" if days_late > 0 else "payment.on_time"
    return Derived(
        kind,
        f"derive:payment/{invoice_id}/{paid_on.isoformat()}",
        {"invoice_id": invoice_id, "days_late": days_late, "n": count},
    )


def latest_anniversary(since: date, *, today: date) -> tuple[int, date] | None:
    """The most recent anniversary on or before ``today``: (years, its date); None in year one.

    A relationship that began on 29 February has its anniversary on 28 February in other years.
    The engine emits it when this date is recent, so a day the engine did not run is caught up.
    """
    years = today.year - since.year
    while years >= 1:
        year = since.year + years
        try:
            when = since.replace(year=year)
        except ValueError:
            when = date(year, 2, 28)
        if when <= today:
            return years, when
        years -= 1
    return None


def describe(kind: str, payload: dict[str, object]) -> tuple[str, str]:
    """A touch point in plain words for a timeline: (title, detail)."""
    n = payload.get("n")
    if kind == "payment.late":
        return (
            f"Late payment #{n}",
            f"invoice {payload.get('invoice_id')}, {payload.get('days_late')} days late",
        )
    if kind == "invoice.overdue":
        return (
            "Invoice past due",
            f"invoice {payload.get('invoice_id')}, due {payload.get('due_date')}",
        )
    if kind == "purchase.missed":
        what = f" ({payload['category']})" if payload.get("category") else ""
        return (
            f"Missed a regular purchase{what}",
            f"expected {payload.get('expected_at')}, {payload.get('days_overdue')} days overdue",
        )
    if kind == "client.milestone":
        return f"Milestone: {payload.get('what')}", ""
    if kind == "client.anniversary":
        return f"{payload.get('years')} years as a client", f"since {payload.get('since')}"
    if kind == "client.life_event":
        return f"The day of: {payload.get('text')}", f"on {payload.get('on_date')}"
    if kind == "client.birthday_month":
        return "Birthday month", str(payload.get("birthday") or "")
    if kind == "lead.created":
        return "New lead", f"via {payload['via']}" if payload.get("via") else ""
    words = TOUCH_POINTS.get(kind, kind).split(" (")[0]
    return words[:1].upper() + words[1:], str(payload.get("summary") or "")


#: Derived touch points that restate a base fact already on the timeline.
RESTATING = frozenset({"purchase.first", "purchase.repeat", "payment.on_time"})
