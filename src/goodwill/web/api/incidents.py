"""Service recovery over JSON: assess, open, list and read incidents, take the steps.

The same actions as the dashboard and ``goodwill incident``: an assessment stores nothing,
opening stores the assessment as it was made, and a step, a confirmation, a resolution or a
closing is taken as the token's staff member. Closing with a step missing needs a ``reason``
(409 otherwise); choosing an option that needs the owner's authority needs an owner's token.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, BeforeValidator, Field, StrictBool, WithJsonSchema

from goodwill.actions import incidents as actions
from goodwill.domain.stakes import assess
from goodwill.errors import Conflict, NotAllowed
from goodwill.store.incidents import get_incident, list_incidents
from goodwill.store.queries import find_client
from goodwill.web.api.schemas import API_ERRORS, NOT_BLANK, ErrorBody, Instant, RecordId
from goodwill.web.auth import ApiStaff, actor
from goodwill.web.state import Db, State

router = APIRouter(prefix="/api/v1", tags=["incidents"], responses=API_ERRORS)
#: Assessing or opening names a client that must exist.
NO_CLIENT: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "No client with this id or email."}
}

#: What acting on an incident may answer besides 200: no such incident, or not in that state.
#: The longest free text a field takes (the client's words, a restatement), in characters.
MAX_TEXT = 20_000
#: The largest amount of money a field takes.
MAX_AMOUNT = Decimal(10) ** 12

ACTING: dict[int | str, dict[str, Any]] = {404: {"model": ErrorBody}, 409: {"model": ErrorBody}}


#: Money written as a JSON number or as decimal text ("12.50"), never empty or in words.
_AMOUNT_TEXT = r"^[0-9]+(\.[0-9]+)?$"


def _amount(value: object) -> object:
    if isinstance(value, str) and not re.fullmatch(_AMOUNT_TEXT, value):
        raise ValueError("write the amount as digits, e.g. 12.50")
    return value


Amount = Annotated[
    Decimal,
    BeforeValidator(_amount),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0},
                {"type": "string", "pattern": _AMOUNT_TEXT},
            ]
        }
    ),
]


class IncidentIn(BaseModel):
    client: str = Field(
        min_length=1, max_length=320, description="The client's id as imported, or their email."
    )
    what: str = Field(min_length=1, max_length=2000, description="What went wrong.")
    message: str | None = Field(
        default=None, max_length=MAX_TEXT, description="The client's own words."
    )
    message_time: Instant | None = Field(
        default=None, description="When the client wrote (ISO 8601 with offset; default: now)."
    )
    deadline: Instant | None = Field(
        default=None,
        description="The client's deadline (ISO 8601 with offset; default: from their words).",
    )
    cost: Amount | None = Field(
        default=None,
        ge=0,
        le=MAX_AMOUNT,
        description="What the mistake cost: a number, or one as text.",
    )
    partner: str | None = Field(
        default=None, max_length=200, description="The partner acting for us, if any."
    )
    stranded: StrictBool | None = Field(
        default=None, description="Stranded or blocked now (default: from the words)."
    )


class IncidentOpen(IncidentIn):
    cause: str = Field(
        min_length=1,
        max_length=200,
        pattern=NOT_BLANK,
        description="A short label of the cause.",
    )


class RestateIn(BaseModel):
    """The restatement step: our own words for the problem are the step."""

    step: Literal["restate"]
    note: str = Field(
        min_length=1,
        max_length=MAX_TEXT,
        pattern=NOT_BLANK,
        description="The problem restated in our own words.",
    )


class OtherStepIn(BaseModel):
    step: Literal["listen", "own", "offer", "follow_up"]
    note: str | None = Field(default=None, max_length=MAX_TEXT, description="Kept with the step.")


StepIn = Annotated[RestateIn | OtherStepIn, Field(discriminator="step")]


class ResolveIn(BaseModel):
    outcome: str = Field(
        min_length=1, max_length=5000, pattern=NOT_BLANK, description="How it ended."
    )
    option: str | None = Field(
        default=None,
        max_length=200,
        description="The option chosen: one the incident offered (409 for another).",
    )


class CloseIn(BaseModel):
    reason: str | None = Field(
        default=None, max_length=5000, description="Needed when a step is missing."
    )


@router.post("/incidents/assess", responses=NO_CLIENT)
def assess_api(body: IncidentIn, staff: ApiStaff, db: Db, state: State) -> dict[str, Any]:
    """The tier, score, factors in plain words and options for an incident; stores nothing."""
    weights, catalog = actions.recovery_files(state.settings)
    client = find_client(db, body.client)
    context = actions.read_context(
        db,
        state.settings,
        client,
        what=body.what,
        message=body.message,
        message_time=body.message_time,
        deadline=body.deadline,
        cost=body.cost,
        partner=body.partner,
        stranded=body.stranded,
        now=state.now(),
    )
    return assess(context, weights, catalog).as_dict()


@router.post("/incidents", status_code=201, responses=NO_CLIENT)
def open_api(
    request: Request, body: IncidentOpen, staff: ApiStaff, db: Db, state: State
) -> dict[str, Any]:
    """Open an incident as the token's staff member; the stored incident, with its assessment."""
    made = actions.open_incident(
        db,
        state.settings,
        client_ref=body.client,
        what=body.what,
        message=body.message,
        message_time=body.message_time,
        deadline=body.deadline,
        cost=body.cost,
        partner=body.partner,
        stranded=body.stranded,
        cause=body.cause,
        by=staff.email,
        actor=actor(request, staff),
        now=state.now(),
    )
    return _read(db, made)


@router.get("/incidents")
def list_api(
    staff: ApiStaff,
    db: Db,
    status: Annotated[
        Literal["open", "resolved", "closed"] | None, Query(description="open, resolved or closed")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[dict[str, Any]]:
    """Incidents, newest first, with the steps done and missing."""
    return [v.as_dict() for v in list_incidents(db, status=status, limit=limit)]


@router.get("/incidents/{incident_id:int}", responses={404: {"model": ErrorBody}})
def get_api(incident_id: RecordId, staff: ApiStaff, db: Db) -> dict[str, Any]:
    return _read(db, incident_id)


@router.post(
    "/incidents/{incident_id:int}/steps",
    responses=ACTING,
)
def step_api(
    request: Request, incident_id: RecordId, body: StepIn, staff: ApiStaff, db: Db, state: State
) -> dict[str, Any]:
    """Mark a step done (``resolve`` has its own endpoint)."""
    actions.record_step(
        db,
        incident_id,
        body.step,
        by=staff.email,
        actor=actor(request, staff),
        note=body.note,
        now=state.now(),
    )
    return _read(db, incident_id)


@router.post(
    "/incidents/{incident_id:int}/confirm",
    responses=ACTING,
)
def confirm_api(
    request: Request, incident_id: RecordId, staff: ApiStaff, db: Db, state: State
) -> dict[str, Any]:
    """The client confirmed our restatement of the problem."""
    actions.confirm_restatement(
        db, incident_id, by=staff.email, actor=actor(request, staff), now=state.now()
    )
    return _read(db, incident_id)


@router.post(
    "/incidents/{incident_id:int}/resolve",
    responses={403: {"model": ErrorBody}, **ACTING},
)
def resolve_api(
    request: Request, incident_id: RecordId, body: ResolveIn, staff: ApiStaff, db: Db, state: State
) -> dict[str, Any]:
    """How it ended and the option chosen; the engine then creates the follow-up."""
    offered = get_incident(db, incident_id).incident.options
    names = [str(o.get("name")) for o in offered]
    if body.option is not None and body.option not in names:
        raise Conflict(
            f"{body.option!r} was not offered for incident {incident_id} "
            f"(offered: {', '.join(names)})",
            field="option",
        )
    if not staff.may("incidents.owner_authority") and any(
        o.get("name") == body.option and o.get("authority") == "owner" for o in offered
    ):
        raise NotAllowed(
            f"{body.option!r} needs the owner's authority; an owner's token grants it",
            role=staff.role,
        )
    actions.resolve(
        db,
        state.settings,
        incident_id,
        outcome=body.outcome,
        chosen_option=body.option,
        by=staff.email,
        actor=actor(request, staff),
        now=state.now(),
    )
    return _read(db, incident_id)


@router.post(
    "/incidents/{incident_id:int}/close",
    responses=ACTING,
)
def close_api(
    request: Request, incident_id: RecordId, body: CloseIn, staff: ApiStaff, db: Db, state: State
) -> dict[str, Any]:
    """Close it; with a step missing only with a ``reason``."""
    actions.close(
        db,
        incident_id,
        reason=body.reason,
        by=staff.email,
        actor=actor(request, staff),
        now=state.now(),
    )
    return _read(db, incident_id)


def _read(db: Db, incident_id: int) -> dict[str, Any]:
    db.flush()
    db.expire_all()  # the action's writes, read back as stored
    return get_incident(db, incident_id).as_dict()


__all__ = ["router"]
