"""Follow-ups and touch points over JSON: list, read, act on follow-ups; record events.

The same rule as on the pages: staff act on their own and unassigned follow-ups, the owner on
all of them. Recording an event is idempotent: a retry with the same ``external_id`` (or the
same content, when there is none) answers 200 with ``created: false`` instead of 201.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response

from goodwill.domain.records import ClientRef
from goodwill.errors import InvalidInput
from goodwill.store import followups
from goodwill.store.events import record_touch_point
from goodwill.store.followups import FollowUpView
from goodwill.store.queries import find_client
from goodwill.web.api.schemas import (
    API_ERRORS,
    CompleteIn,
    ErrorBody,
    EventIn,
    EventRecorded,
    FollowUpOut,
    Instant,
    ReassignIn,
    RecordId,
    SnoozeIn,
    TodayOut,
)
from goodwill.web.auth import ApiStaff, Staff, actor
from goodwill.web.followup_access import (
    check_may_act,
    check_may_read,
    check_may_read_list,
    visible,
)
from goodwill.web.state import Db, State

log = logging.getLogger(__name__)
MAX_LIMIT = 500

router = APIRouter(prefix="/api/v1", tags=["follow-ups"], responses=API_ERRORS)
_one: dict[int | str, dict[str, Any]] = {
    403: {"model": ErrorBody, "description": "The follow-up is someone else's."},
    404: {"model": ErrorBody, "description": "No follow-up with this id."},
    409: {"model": ErrorBody, "description": "The follow-up is no longer open."},
}


def _out(item: FollowUpView) -> FollowUpOut:
    return FollowUpOut.model_validate(item)


@router.get(
    "/followups",
    response_model=list[FollowUpOut],
    responses={
        403: {"model": ErrorBody, "description": "Someone else's follow-ups, as staff."},
        404: {"model": ErrorBody, "description": "No client with this id."},
    },
)
def list_followups_api(
    staff: ApiStaff,
    db: Db,
    assignee: Annotated[
        str | None,
        Query(max_length=320, description="An email, or 'unassigned'."),
    ] = None,
    due_before: Annotated[
        Instant | None, Query(description="Only those due before this instant (ISO 8601).")
    ] = None,
    status: Annotated[
        Literal["open", "done", "closed"], Query(description="open, done or closed.")
    ] = "open",
    client: Annotated[
        str | None, Query(max_length=200, description="A client id from imported files.")
    ] = None,
    performer: Annotated[
        Literal["person", "machine", "all"],
        Query(
            description="person: people's follow-ups; machine: the touches goodwill sends "
            "itself (docs/automation.md); all: both."
        ),
    ] = "person",
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = MAX_LIMIT,
) -> list[FollowUpOut]:
    """Follow-ups by due time, earliest first.

    Without ``assignee``: everyone's for the owner and managers, the caller's own for staff (with
    ``client``: staff get their own and the unassigned ones of that client). Staff asking for
    another user's follow-ups are refused (403), with or without ``client``.
    """
    if assignee is None and not staff.may("followups.everyone"):
        assignee = None if client else staff.email
    if assignee is not None:
        check_may_read_list(staff, assignee)
    client_id = find_client(db, client).id if client else None
    items = followups.list_followups(
        db,
        assignee=assignee,
        due_before=due_before,
        status=status,
        client_id=client_id,
        performer=None if performer == "all" else performer,
        limit=limit,
    )
    return [_out(item) for item in visible(staff, items)]


@router.get("/followups/{followup_id}", response_model=FollowUpOut, responses=_one)
def get_followup_api(staff: ApiStaff, db: Db, followup_id: RecordId) -> FollowUpOut:
    """One follow-up; staff read only their own and unassigned ones (403 otherwise)."""
    item = followups.get_followup(db, followup_id)
    check_may_read(staff, item)
    return _out(item)


def _acted(db: Db, staff: Staff, followup_id: int) -> FollowUpView:
    item = followups.get_followup(db, followup_id)
    check_may_act(staff, item)
    return item


@router.post("/followups/{followup_id}/complete", response_model=FollowUpOut, responses=_one)
def complete_api(
    request: Request, staff: ApiStaff, db: Db, state: State, followup_id: RecordId, body: CompleteIn
) -> FollowUpOut:
    """Mark done with what happened (required): the outcome becomes the client's history."""
    _acted(db, staff, followup_id)
    followups.complete(
        db, followup_id, outcome=body.outcome, now=state.now(), actor=actor(request, staff)
    )
    log.info("follow-up %s done by staff user %s (api)", followup_id, staff.id)
    return _out(followups.get_followup(db, followup_id))


@router.post("/followups/{followup_id}/snooze", response_model=FollowUpOut, responses=_one)
def snooze_api(
    request: Request, staff: ApiStaff, db: Db, state: State, followup_id: RecordId, body: SnoozeIn
) -> FollowUpOut:
    """Move the due time to a later instant (it must be in the future)."""
    _acted(db, staff, followup_id)
    followups.snooze(
        db, followup_id, until=body.until, now=state.now(), actor=actor(request, staff)
    )
    log.info("follow-up %s snoozed by staff user %s (api)", followup_id, staff.id)
    return _out(followups.get_followup(db, followup_id))


@router.post("/followups/{followup_id}/reassign", response_model=FollowUpOut, responses=_one)
def reassign_api(
    request: Request, staff: ApiStaff, db: Db, state: State, followup_id: RecordId, body: ReassignIn
) -> FollowUpOut:
    """Give the follow-up to another active staff member (404 when there is no such user)."""
    _acted(db, staff, followup_id)
    followups.reassign(db, followup_id, to=body.to, now=state.now(), actor=actor(request, staff))
    log.info("follow-up %s reassigned by staff user %s (api)", followup_id, staff.id)
    return _out(followups.get_followup(db, followup_id))


@router.get(
    "/today",
    response_model=TodayOut,
    responses={403: {"model": ErrorBody, "description": "Someone else's list, not the owner."}},
)
def today_api(
    staff: ApiStaff,
    db: Db,
    state: State,
    assignee: Annotated[
        str | None,
        Query(max_length=320, description="Another user's email (owner only), or 'unassigned'."),
    ] = None,
) -> TodayOut:
    """The caller's open follow-ups: overdue, due later today, due in the next 7 days."""
    who = staff.email if assignee is None else assignee
    check_may_read_list(staff, who)
    groups = followups.today_list(db, now=state.now(), zone=state.settings.zone, assignee=who)
    return TodayOut(
        overdue=[_out(f) for f in groups.overdue],
        today=[_out(f) for f in groups.today],
        upcoming=[_out(f) for f in groups.upcoming],
    )


@router.post(
    "/events",
    response_model=EventRecorded,
    status_code=201,
    responses={200: {"model": EventRecorded, "description": "Already recorded (a retry)."}},
)
def record_event_api(
    staff: ApiStaff, db: Db, state: State, body: EventIn, response: Response
) -> EventRecorded:
    """Record a touch point; the engine turns it into follow-ups on its next pass."""
    if not (body.client_id or body.email):
        raise InvalidInput("say who the event is about: client_id or email", field="client_id")
    event_id, created = record_touch_point(
        db,
        state.settings,
        type=body.type,
        client=ClientRef(
            client_id=body.client_id or None,
            email=(body.email or "").strip().lower() or None,
            name=body.name or None,
        ),
        occurred_at=body.occurred_at,
        source=body.source,
        payload=body.payload,
        now=state.now(),
        external_id=body.external_id or None,
    )
    if not created:
        response.status_code = 200
    log.info("event %s recorded by staff user %s (new: %s)", event_id, staff.id, created)
    return EventRecorded(id=event_id, created=created)
