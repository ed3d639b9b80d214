"""Reading incidents: lists, one incident with its recovery steps, and counts by client and cause.

A step is done when its row exists, with two exceptions the reads work out: ``restate`` counts
only once the client has confirmed the restatement, and ``follow_up`` is also done when the
follow-up the engine created from the incident's ``incident.resolved`` touch point is completed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from goodwill.errors import InvalidInput, NotFound
from goodwill.store.models import (
    Client,
    Event,
    FollowUp,
    FollowUpEvent,
    Incident,
    IncidentStep,
    Order,
)

#: The recovery steps, in the order they are taken.
STEPS = ("listen", "restate", "own", "offer", "resolve", "follow_up")
STATUSES = ("open", "resolved", "closed")
#: The ``source`` of the events incidents write; their keys are ``incidents:<type>/<id>``.
SOURCE = "incidents"


def normalise_cause(text: str) -> str:
    """A cause label as stored and compared: lower-case, single spaces."""
    cause = " ".join(text.lower().split())
    if not cause:
        raise InvalidInput("name the cause in a few words (e.g. 'wrong address')", field="cause")
    if len(cause) > 200:
        raise InvalidInput("a cause is a short label (200 characters at most)", field="cause")
    return cause


def resolved_key(incident_id: int) -> str:
    """The idempotency key of an incident's ``incident.resolved`` touch point."""
    return f"{SOURCE}:incident.resolved/incident-{incident_id}"


@dataclass(frozen=True)
class StepView:
    step: str
    done_at: datetime
    by: str
    note: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "done_at": self.done_at.isoformat(),
            "by": self.by,
            "note": self.note,
        }


@dataclass(frozen=True)
class IncidentView:
    """An incident as stored, with its client's reference, steps done and steps missing."""

    incident: Incident
    client: str  # the client's imported id, or #internal-id
    steps: tuple[StepView, ...]
    missing: tuple[str, ...]
    follow_up_id: int | None

    def as_dict(self) -> dict[str, Any]:
        i = self.incident
        at = {
            name: value.isoformat() if value else None
            for name, value in (
                ("message_time", i.message_time),
                ("deadline", i.deadline),
                ("opened_at", i.opened_at),
                ("resolved_at", i.resolved_at),
                ("closed_at", i.closed_at),
                ("confirmed_at", i.confirmed_at),
            )
        }
        return {
            "id": i.id,
            "client": self.client,
            "status": i.status,
            "cause": i.cause,
            "what": i.what,
            "message": i.message,
            "cost_minor": i.cost_minor,
            "currency": i.currency,
            "partner": i.partner,
            "ours": i.ours,
            "stranded": i.stranded,
            "tier": i.tier,
            "score": i.score,
            "factors": i.factors,
            "options": i.options,
            "chosen_option": i.chosen_option,
            "opened_by": i.opened_by,
            "close_reason": i.close_reason,
            "outcome": i.outcome,
            "restatement": i.restatement,
            **at,
            "steps": [s.as_dict() for s in self.steps],
            "missing": list(self.missing),
            "follow_up_id": self.follow_up_id,
        }


def _client_ref(client: Client) -> str:
    return client.external_id or f"#{client.id}"


def _follow_ups(session: Session, ids: Sequence[int]) -> dict[int, FollowUp]:
    """The follow-up created from each incident's ``incident.resolved`` touch point, if any."""
    if not ids:
        return {}
    keys = {resolved_key(i): i for i in ids}
    rows = session.execute(
        select(Event.idempotency_key, FollowUp)
        .join(FollowUpEvent, FollowUpEvent.event_id == Event.id)
        .join(FollowUp, FollowUp.id == FollowUpEvent.followup_id)
        .where(Event.idempotency_key.in_(keys))
        .order_by(FollowUp.id)
    ).all()
    return {keys[key]: followup for key, followup in rows}


def _views(session: Session, rows: Sequence[tuple[Incident, Client]]) -> list[IncidentView]:
    ids = [incident.id for incident, _ in rows]
    steps: dict[int, list[StepView]] = {}
    if ids:
        for s in session.execute(
            select(IncidentStep).where(IncidentStep.incident_id.in_(ids)).order_by(IncidentStep.id)
        ).scalars():
            steps.setdefault(s.incident_id, []).append(StepView(s.step, s.done_at, s.by, s.note))
    follow_ups = _follow_ups(session, ids)
    out: list[IncidentView] = []
    for incident, client in rows:
        done = {s.step: s for s in steps.get(incident.id, [])}
        followup = follow_ups.get(incident.id)
        if "follow_up" not in done and followup is not None and followup.status == "done":
            note = f"follow-up {followup.id}: {followup.outcome or 'done'}"
            at = followup.closed_at or followup.updated_at
            done["follow_up"] = StepView("follow_up", at, "follow-up", note)
        missing = [
            step
            for step in STEPS
            if step not in done or (step == "restate" and incident.confirmed_at is None)
        ]
        ordered = tuple(done[step] for step in STEPS if step in done)
        out.append(
            IncidentView(
                incident,
                _client_ref(client),
                ordered,
                tuple(missing),
                followup.id if followup else None,
            )
        )
    return out


def list_incidents(
    session: Session,
    *,
    status: str | None = None,
    client_id: int | None = None,
    cause: str | None = None,
    limit: int = 200,
) -> list[IncidentView]:
    """Incidents, newest first, optionally by status, client and cause."""
    query = select(Incident, Client).join(Client, Client.id == Incident.client_id)
    if status is not None:
        if status not in STATUSES:
            raise InvalidInput(f"status is one of {', '.join(STATUSES)}", field="status")
        query = query.where(Incident.status == status)
    if client_id is not None:
        query = query.where(Incident.client_id == client_id)
    if cause is not None:
        query = query.where(Incident.cause == normalise_cause(cause))
    query = query.order_by(Incident.opened_at.desc(), Incident.id.desc()).limit(limit)
    return _views(session, [(i, c) for i, c in session.execute(query)])


def get_incident(session: Session, incident_id: int) -> IncidentView:
    row = session.execute(
        select(Incident, Client)
        .join(Client, Client.id == Incident.client_id)
        .where(Incident.id == incident_id)
    ).one_or_none()
    if row is None:
        raise NotFound(f"no incident with id {incident_id}", incident=incident_id)
    return _views(session, [(row[0], row[1])])[0]


def earlier_incidents(session: Session, client_id: int, *, before: datetime) -> int:
    """How many incidents the client had, opened before ``before``."""
    found = session.execute(
        select(func.count(Incident.id)).where(
            Incident.client_id == client_id, Incident.opened_at < before
        )
    ).scalar_one()
    return int(found)


def recent_by_cause(
    session: Session, cause: str, *, since: datetime, until: datetime
) -> list[Incident]:
    """Incidents of ``cause`` opened in [since, until], oldest first."""
    return list(
        session.execute(
            select(Incident)
            .where(
                Incident.cause == normalise_cause(cause),
                Incident.opened_at >= since,
                Incident.opened_at <= until,
            )
            .order_by(Incident.opened_at, Incident.id)
        ).scalars()
    )


# -- the dashboard's reads ----------------------------------------------------------------------

#: How a recovery ended, in the order the chart stacks them.
OUTCOMES = (
    ("recovered", "Recovered: every step taken"),
    ("follow_up_due", "Resolved, follow-up to come"),
    ("closed_short", "Closed with steps missing"),
    ("open", "Still open"),
)


def outcome_of(view: IncidentView) -> str:
    """Which of :data:`OUTCOMES` an incident is in now."""
    status = view.incident.status
    if status == "open":
        return "open"
    if not view.missing:
        return "recovered"
    if status == "resolved" and view.missing == ("follow_up",):
        return "follow_up_due"
    return "closed_short" if status == "closed" else "follow_up_due"


@dataclass(frozen=True)
class MonthOutcomes:
    month: date  # the first day of the month, in the business's zone
    by_outcome: dict[str, int]
    by_tier: dict[int, int]

    @property
    def total(self) -> int:
        return sum(self.by_outcome.values())


@dataclass(frozen=True)
class Outcomes:
    """Incidents opened per month over a span, by how they ended and by tier; and of the clients
    whose incident was resolved, how many bought again after it."""

    months: tuple[MonthOutcomes, ...]
    resolved: int
    bought_again: int


def _month(day: date, shift: int = 0) -> date:
    index = day.year * 12 + day.month - 1 + shift
    return date(index // 12, index % 12 + 1, 1)


def recovery_outcomes(
    session: Session, *, zone: ZoneInfo, today: date, months: int = 12
) -> Outcomes:
    """The last ``months`` calendar months (this one included) of incidents, by month opened.

    Incidents are few (a business records tens a month, not thousands), so they are read with
    their steps and bucketed here; "bought again" is one EXISTS per resolved incident, in SQL.
    """
    first = _month(today, -(months - 1))
    since = datetime.combine(first, time(), zone)
    rows = session.execute(
        select(Incident, Client)
        .join(Client, Client.id == Incident.client_id)
        .where(Incident.opened_at >= since)
        .order_by(Incident.opened_at, Incident.id)
    ).all()
    views = _views(session, [(i, c) for i, c in rows])
    buckets = {
        _month(first, k): MonthOutcomes(
            _month(first, k), {key: 0 for key, _ in OUTCOMES}, {1: 0, 2: 0, 3: 0}
        )
        for k in range(months)
    }
    for view in views:
        bucket = buckets.get(_month(view.incident.opened_at.astimezone(zone).date()))
        if bucket is None:
            continue
        bucket.by_outcome[outcome_of(view)] += 1
        bucket.by_tier[view.incident.tier] = bucket.by_tier.get(view.incident.tier, 0) + 1
    later = (
        select(Order.id)
        .where(Order.client_id == Incident.client_id, Order.occurred_at > Incident.resolved_at)
        .exists()
    )
    resolved, bought = session.execute(
        select(func.count(Incident.id), func.count(Incident.id).filter(later)).where(
            Incident.opened_at >= since, Incident.resolved_at.is_not(None)
        )
    ).one()
    return Outcomes(tuple(buckets[m] for m in sorted(buckets)), int(resolved), int(bought or 0))


@dataclass(frozen=True)
class SystemicAlert:
    """A cause that recurred past the threshold, with the incidents that made it one."""

    cause: str
    at: datetime
    count: int
    days: int
    incidents: tuple[IncidentView, ...]


def systemic_alerts(session: Session, *, since: datetime) -> list[SystemicAlert]:
    """The ``recovery.systemic`` alerts raised since ``since``, newest first."""
    events = session.execute(
        select(Event.occurred_at, Event.payload)
        .where(Event.type == "recovery.systemic", Event.occurred_at >= since)
        .order_by(Event.occurred_at.desc(), Event.id.desc())
    ).all()
    ids = {int(i) for _, payload in events for i in payload.get("incident_ids", [])}
    found: dict[int, IncidentView] = {}
    if ids:
        rows = session.execute(
            select(Incident, Client)
            .join(Client, Client.id == Incident.client_id)
            .where(Incident.id.in_(ids))
        ).all()
        found = {v.incident.id: v for v in _views(session, [(i, c) for i, c in rows])}
    return [
        SystemicAlert(
            cause=str(payload.get("cause", "")),
            at=at,
            count=int(payload.get("count", 0)),
            days=int(payload.get("days", 0)),
            incidents=tuple(
                found[int(i)] for i in payload.get("incident_ids", []) if int(i) in found
            ),
        )
        for at, payload in events
    ]


__all__ = [
    "OUTCOMES",
    "SOURCE",
    "STATUSES",
    "STEPS",
    "IncidentView",
    "MonthOutcomes",
    "Outcomes",
    "StepView",
    "SystemicAlert",
    "earlier_incidents",
    "get_incident",
    "list_incidents",
    "normalise_cause",
    "outcome_of",
    "recent_by_cause",
    "recovery_outcomes",
    "resolved_key",
    "systemic_alerts",
]


def of_conversation(session: Session, conversation_id: int) -> list[Incident]:
    """The incidents opened from a conversation, the open ones first (at most 20)."""
    return list(
        session.execute(
            select(Incident)
            .where(Incident.conversation_id == conversation_id)
            .order_by((Incident.status == "closed"), Incident.opened_at.desc())
            .limit(20)
        ).scalars()
    )
