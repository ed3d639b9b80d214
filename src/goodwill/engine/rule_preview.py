"""A rule's preview over the stored touch points of the last days: read what the engine would
read (the events, the clients' tier and tenure, who is on call), then run the pure steps in
domain/rule_preview.py. Only reads: nothing is created, linked or moved.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from goodwill.domain.calendars import BusinessCalendar
from goodwill.domain.playbooks import ClientContext, Rule
from goodwill.domain.rule_preview import PREVIEW_DAYS, Occurrence, RulePreview, would_create
from goodwill.engine.frames import client_frame
from goodwill.engine.staff import Staff
from goodwill.settings import Settings
from goodwill.store.models import Client, EngineCursor, Event, FollowUp, StaffUser
from goodwill.store.queries import overviews_for


def _who(session: Session, rule: Rule, staff: Staff) -> list[int | None]:
    """The people a team rule takes in turn, from where the engine's turn stands now."""
    members = staff.teams.get(rule.assignee.team or "", [])
    if not members:
        return [staff.owner_id]
    position = session.execute(
        select(EngineCursor.position).where(EngineCursor.name == f"team:{rule.assignee.team}")
    ).scalar_one_or_none()
    start = int(position or 0)
    return [members[(start + i) % len(members)] for i in range(len(members))]


def preview_rule_events(
    session: Session,
    settings: Settings,
    rule: Rule,
    *,
    calendar: BusinessCalendar,
    now: datetime,
    days: int = PREVIEW_DAYS,
) -> RulePreview:
    """What ``rule`` would have made from the touch points of the last ``days`` before ``now``,
    had it been in force when each happened (archived clients excepted, as in the engine)."""
    since = now - timedelta(days=days)
    rows = session.execute(
        select(Event.client_id, Event.occurred_at, Event.payload, Client)
        .join(Client, Client.id == Event.client_id)
        .where(
            Event.type == rule.on,
            Event.occurred_at >= since,
            Event.occurred_at <= now,
            Client.archived_at.is_(None),
        )
        .order_by(Event.occurred_at, Event.id)
    ).all()
    clients = {row[3].id: row[3] for row in rows}
    today = now.astimezone(settings.zone).date()
    overviews = overviews_for(session, settings, set(clients), today=today)
    staff = Staff.load(session, settings)
    names = {row[0]: row[1] for row in session.execute(select(StaffUser.id, StaffUser.name))}
    turns = _who(session, rule, staff) if rule.assignee.kind == "team" else []
    occurrences = []
    for n, (client_id, occurred_at, payload, client) in enumerate(rows):
        kind = rule.assignee.kind
        person = {
            "client_owner": client.owner_id or staff.owner_id,
            "on_call": staff.on_call_id,
            "business_owner": staff.owner_id,
        }.get(kind, turns[n % len(turns)] if turns else staff.owner_id)
        overview = overviews.get(client_id)
        occurrences.append(
            Occurrence(
                client_id=client_id,
                occurred_at=occurred_at,
                payload=payload or {},
                client=ClientContext(
                    name=client.name,
                    tier=overview.tier if overview else None,
                    tenure_years=overview.tenure_years if overview else 0.0,
                    tags=frozenset(client.tags or []),
                ),
                frame=client_frame(client, settings),
                who=names.get(person, "nobody yet") if person is not None else "nobody yet",
                has_email=bool(client.email),
            )
        )
    closed: dict[int, list[datetime]] = {}
    if rule.quiet_days and clients:
        for client_id, closed_at in session.execute(
            select(FollowUp.client_id, FollowUp.closed_at).where(
                FollowUp.client_id.in_(set(clients)),
                FollowUp.reason == rule.reason,
                FollowUp.closed_at.is_not(None),
                FollowUp.closed_at >= since - timedelta(days=rule.quiet_days),
            )
        ):
            if closed_at is not None:
                closed.setdefault(client_id, []).append(closed_at)
    return would_create(rule, occurrences, calendar=calendar, closed=closed, days=days)
