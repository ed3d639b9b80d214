"""Follow-ups as people meet them: listed, grouped for today, completed, snoozed, reassigned."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session

from goodwill.domain.audit import Actor
from goodwill.domain.playbooks import PersonalLevel
from goodwill.errors import Conflict, InvalidInput, NotFound
from goodwill.store.audit import record
from goodwill.store.capped_count import cap_past, count_up_to
from goodwill.store.models import Client, Event, FollowUp, FollowUpEvent, StaffUser

Q = TypeVar("Q", bound=Select[*tuple[Any, ...]])
STATUSES = ("open", "done", "closed")
PERFORMERS = ("person", "machine")


@dataclass(frozen=True)
class FollowUpView:
    id: int
    client_id: str
    client_name: str
    client_internal_id: int
    title: str
    reason: str
    rule: str
    event_types: tuple[str, ...]
    events: tuple[dict[str, Any], ...]
    due_at: datetime
    assignee: str | None
    assignee_name: str | None
    channel: str
    personal_level: str
    template: str | None
    status: str
    outcome: str | None
    sequence: int
    created_at: datetime
    updated_at: datetime
    performer: str = "person"
    handed_over: str | None = None

    @property
    def personal_label(self) -> str:
        return PersonalLevel(self.personal_level).label

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "client_id": self.client_id,
            "client_name": self.client_name,
            "title": self.title,
            "reason": self.reason,
            "rule": self.rule,
            "event_types": list(self.event_types),
            "events": list(self.events),
            "due_at": self.due_at.isoformat(),
            "assignee": self.assignee,
            "channel": self.channel,
            "personal_level": self.personal_level,
            "template": self.template,
            "status": self.status,
            "outcome": self.outcome,
            "performer": self.performer,
            "handed_over": self.handed_over,
        }


def list_followups(
    session: Session,
    *,
    assignee: str | None = None,
    due_before: datetime | None = None,
    status: str | None = "open",
    client_id: int | None = None,
    performer: str | None = "person",
    limit: int = 500,
    due_from: datetime | None = None,
    offset: int = 0,
) -> list[FollowUpView]:
    """Follow-ups by due time; ``assignee`` is an email ('' or 'unassigned' for nobody's);
    ``performer`` 'person' (the default: people's lists), 'machine' (automated touches the
    worker will send) or None for both; ``due_from`` <= due time < ``due_before``."""
    query = _filtered(
        select(FollowUp, *_NAMES)
        .join(Client, Client.id == FollowUp.client_id)
        .outerjoin(StaffUser, StaffUser.id == FollowUp.assignee_id)
        .order_by(FollowUp.due_at, FollowUp.id)
        .limit(limit)
        .offset(offset),
        assignee=assignee,
        status=status,
        client_id=client_id,
        performer=performer,
    )
    if due_from is not None:
        query = query.where(FollowUp.due_at >= due_from)
    if due_before is not None:
        query = query.where(FollowUp.due_at < due_before)
    rows = session.execute(query).all()
    events = _events(session, [row[0].id for row in rows])
    return [_view(row[0], row, events.get(row[0].id, [])) for row in rows]


def _filtered(
    query: Q,
    *,
    assignee: str | None,
    status: str | None,
    client_id: int | None,
    performer: str | None,
) -> Q:
    """``query`` (which joins StaffUser on the assignee) narrowed as ``list_followups`` says."""
    if status is not None:
        if status not in STATUSES:
            raise InvalidInput(f"status must be one of {', '.join(STATUSES)}", field="status")
        query = query.where(FollowUp.status == status)
    if assignee is not None:
        if assignee in ("", "unassigned"):
            query = query.where(FollowUp.assignee_id.is_(None))
        else:
            # The id first, so the follow-ups are read down ix_followups_assignee_list.
            email = assignee.strip().lower()
            staff = select(StaffUser.id).where(StaffUser.email == email).scalar_subquery()
            query = query.where(FollowUp.assignee_id == staff)
    if client_id is not None:
        query = query.where(FollowUp.client_id == client_id)
    if performer is not None:
        if performer not in PERFORMERS:
            raise InvalidInput(
                f"performer must be one of {', '.join(PERFORMERS)}", field="performer"
            )
        query = query.where(FollowUp.performer == performer)
    return query


def get_followup(session: Session, followup_id: int) -> FollowUpView:
    row = session.execute(
        select(FollowUp, *_NAMES)
        .join(Client, Client.id == FollowUp.client_id)
        .outerjoin(StaffUser, StaffUser.id == FollowUp.assignee_id)
        .where(FollowUp.id == followup_id)
    ).first()
    if row is None:
        raise NotFound(f"no follow-up with id {followup_id}", followup=followup_id)
    followup = row[0]
    return _view(followup, row, _events(session, [followup.id]).get(followup.id, []))


#: The client's and the assignee's names beside a follow-up: columns, not whole records (a list
#: page of 150 rows builds no Client or StaffUser objects).
_NAMES = (
    Client.id.label("client_pk"),
    Client.external_id.label("client_ref"),
    Client.name.label("client_name"),
    StaffUser.email.label("user_email"),
    StaffUser.name.label("user_name"),
)


def _events(session: Session, ids: Sequence[int]) -> dict[int, list[Any]]:
    """Each follow-up's events (type, occurred_at, payload), oldest first."""
    found: dict[int, list[Any]] = {}
    if not ids:
        return found
    for row in session.execute(
        select(FollowUpEvent.followup_id, Event.type, Event.occurred_at, Event.payload)
        .join(Event, Event.id == FollowUpEvent.event_id)
        .where(FollowUpEvent.followup_id.in_(ids))
        .order_by(Event.occurred_at, Event.id)
    ).all():
        found.setdefault(row.followup_id, []).append(row)
    return found


def _view(f: FollowUp, names: Any, events: list[Any]) -> FollowUpView:
    """``names``: a row with the ``_NAMES`` columns; ``events``: rows of ``_events``."""
    return FollowUpView(
        id=f.id,
        client_id=names.client_ref or f"#{names.client_pk}",
        client_name=names.client_name,
        client_internal_id=names.client_pk,
        title=f.title,
        reason=f.reason,
        rule=f.rule,
        event_types=tuple(dict.fromkeys(e.type for e in events)),
        events=tuple(
            {"type": e.type, "occurred_at": e.occurred_at.isoformat(), "payload": e.payload}
            for e in events
        ),
        due_at=f.due_at,
        assignee=names.user_email,
        assignee_name=names.user_name if names.user_email else None,
        channel=f.channel,
        personal_level=f.personal_level,
        template=f.template,
        status=f.status,
        outcome=f.outcome,
        sequence=f.sequence,
        created_at=f.created_at,
        updated_at=f.updated_at,
        performer=f.performer,
        handed_over=f.handed_over,
    )


GROUPS = ("overdue", "today", "upcoming")


@dataclass(frozen=True)
class Today:
    overdue: list[FollowUpView]
    today: list[FollowUpView]
    upcoming: list[FollowUpView]
    #: How many each group holds in all (the lists hold at most ``limit`` of them).
    counts: dict[str, int] = field(default_factory=dict)
    #: The groups counted only so far (``count_step``): they hold more than their count.
    more: frozenset[str] = frozenset()

    def as_dict(self) -> dict[str, Any]:
        return {
            "overdue": [f.as_dict() for f in self.overdue],
            "today": [f.as_dict() for f in self.today],
            "upcoming": [f.as_dict() for f in self.upcoming],
        }


def today_list(
    session: Session,
    *,
    now: datetime,
    zone: ZoneInfo,
    assignee: str | None,
    days: int = 7,
    limit: int = 500,
    offsets: Mapping[str, int] | None = None,
    count_step: int | None = None,
) -> Today:
    """Open follow-ups grouped: overdue (due before now), today (the rest of today in the
    business's zone), upcoming (the next ``days`` days); each group at most ``limit`` of them
    from its offset in ``offsets``, with every group's count, in a fixed number of queries.
    ``count_step``: count each group only to the next multiple of it past the rows shown (a
    group that holds more is in ``more``): a count of hundreds of thousands of follow-ups
    takes the database longer than the rest of the page."""
    local = now.astimezone(zone).date()
    end_of_today = _start(local + timedelta(days=1), zone)
    horizon = _start(local + timedelta(days=days + 1), zone)
    bounds = {
        "overdue": (None, now),
        "today": (now, end_of_today),
        "upcoming": (end_of_today, horizon),
    }
    chosen = offsets or {}
    lists = {
        group: list_followups(
            session,
            assignee=assignee,
            due_from=start,
            due_before=end,
            limit=limit,
            offset=chosen.get(group, 0),
        )
        for group, (start, end) in bounds.items()
    }
    due = FollowUp.due_at
    if count_step is None:
        counted = _filtered(
            select(
                # Counting 1s, not ids: the index alone answers (no follow-up's row is read).
                func.count(case((due < now, 1))),
                func.count(case(((due >= now) & (due < end_of_today), 1))),
                func.count(case((due >= end_of_today, 1))),
            )
            .select_from(FollowUp)
            .where(due < horizon),
            assignee=assignee,
            status="open",
            client_id=None,
            performer="person",
        )
        found = session.execute(counted).one()
        counts = dict(zip(GROUPS, (int(n) for n in found), strict=True))
        return Today(lists["overdue"], lists["today"], lists["upcoming"], counts)
    caps = {group: cap_past(chosen.get(group, 0) + limit, count_step) for group in GROUPS}
    counted = select(
        *(
            _count_up_to(
                caps[group],
                (due >= start) if start is not None else None,
                due < end,
                assignee=assignee,
            )
            for group, (start, end) in bounds.items()
        )
    )
    found = session.execute(counted).one()
    counts = {group: min(int(n), caps[group]) for group, n in zip(GROUPS, found, strict=True)}
    more = frozenset(g for g, n in zip(GROUPS, found, strict=True) if n > caps[g])
    return Today(lists["overdue"], lists["today"], lists["upcoming"], counts, more)


def _count_up_to(cap: int, *conditions: Any, assignee: str | None) -> Any:
    """How many of a group's follow-ups there are, counting no further than ``cap + 1``."""
    rows = _filtered(
        select(FollowUp.id).where(*(c for c in conditions if c is not None)),
        assignee=assignee,
        status="open",
        client_id=None,
        performer="person",
    )
    return count_up_to(rows, cap).scalar_subquery()


def _start(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time()).replace(tzinfo=zone)


def _open(session: Session, followup_id: int) -> FollowUp:
    followup = session.get(FollowUp, followup_id)
    if followup is None:
        raise NotFound(f"no follow-up with id {followup_id}", followup=followup_id)
    if followup.status != "open":
        raise Conflict(
            f"follow-up {followup_id} is already {followup.status}", status=followup.status
        )
    return followup


def _audit(
    session: Session,
    actor: Actor,
    action: str,
    followup: FollowUp,
    before: dict[str, Any],
    after: dict[str, Any],
    now: datetime,
) -> None:
    record(
        session,
        actor,
        action,
        at=now,
        object_type="followup",
        object_id=followup.id,
        client_id=followup.client_id,
        before=before,
        after=after,
    )


def complete(
    session: Session, followup_id: int, *, outcome: str, now: datetime, actor: Actor
) -> None:
    """Mark done with what happened; the outcome is required (it is the history)."""
    if not outcome.strip():
        raise InvalidInput("say what happened: an outcome is required", field="outcome")
    followup = _open(session, followup_id)
    followup.status, followup.open_reason, followup.outcome = "done", None, outcome.strip()
    followup.closed_at = followup.updated_at = now
    followup.sequence += 1
    done = {"status": "done", "outcome": followup.outcome}
    _audit(session, actor, "followup.done", followup, {"status": "open"}, done, now)


def snooze(
    session: Session, followup_id: int, *, until: datetime, now: datetime, actor: Actor
) -> None:
    if until <= now:
        raise InvalidInput("snooze until a time in the future", field="until")
    followup = _open(session, followup_id)
    before = {"due_at": followup.due_at.isoformat()}
    followup.due_at, followup.updated_at = until, now
    followup.sequence += 1
    after = {"due_at": until.isoformat()}
    _audit(session, actor, "followup.snoozed", followup, before, after, now)


def reassign(session: Session, followup_id: int, *, to: str, now: datetime, actor: Actor) -> None:
    user = session.execute(
        select(StaffUser).where(StaffUser.email == to.strip().lower(), StaffUser.active.is_(True))
    ).scalar_one_or_none()
    if user is None:
        raise NotFound(f"no active user with email {to!r}", field="to")
    followup = _open(session, followup_id)
    was = session.get(StaffUser, followup.assignee_id) if followup.assignee_id else None
    before = {"assignee": was.email if was else None}
    followup.assignee_id, followup.updated_at = user.id, now
    followup.sequence += 1
    after = {"assignee": user.email}
    _audit(session, actor, "followup.reassigned", followup, before, after, now)
