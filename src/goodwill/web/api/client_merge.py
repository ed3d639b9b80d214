"""Likely duplicates and merging two client records, over JSON.

Declared before the client profile's ``/clients/{ref:path}``, which would take
``/clients/duplicates`` for a client id.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from goodwill.domain.access import check
from goodwill.store.duplicates import find_duplicates, phone_region
from goodwill.store.merge import merge_clients
from goodwill.store.queries import find_client
from goodwill.web.api.schemas import API_ERRORS, ErrorBody
from goodwill.web.auth import ApiStaff, Staff, actor
from goodwill.web.state import Db, State

router = APIRouter(prefix="/api/v1", tags=["clients"], responses=API_ERRORS)

MAX_PAIRS = 1000


class SideOut(BaseModel):
    id: int
    ref: str = Field(description="The client's id from imported files, or '#<internal id>'.")
    name: str
    email: str | None
    phone: str | None
    postcode: str | None
    company: str | None


class ReasonOut(BaseModel):
    kind: str = Field(description="email, phone, name_postcode or name_company.")
    text: str = Field(description="The reason in words, e.g. 'same email anna@example.com'.")


class PairOut(BaseModel):
    keep: SideOut = Field(description="The record suggested to keep (the older one).")
    other: SideOut
    score: float = Field(description="How likely one person, 0-100.")
    reasons: list[ReasonOut]


class DuplicatesOut(BaseModel):
    pairs: list[PairOut]


class MergeIn(BaseModel):
    other: str = Field(
        min_length=1,
        max_length=200,
        description="The record merged into this one and then deleted: id, email or '#id'.",
    )
    keep_version: int | None = Field(
        default=None, ge=1, description="The kept record's version the merge was decided on."
    )
    other_version: int | None = Field(
        default=None, ge=1, description="The other record's version the merge was decided on."
    )


class ClientRefOut(BaseModel):
    id: int
    ref: str
    name: str


class IdentityOut(BaseModel):
    kind: str = Field(description="email, phone or external_id.")
    value: str


class MergeOut(BaseModel):
    keep: ClientRefOut
    other: ClientRefOut = Field(description="The record merged in; it no longer exists.")
    moved: dict[str, int] = Field(description="Rows moved to the kept record, by kind.")
    duplicate_facts: int = Field(description="Facts the kept record held already (dropped).")
    closed_followups: int = Field(
        description="Open follow-ups closed because the kept record has the same reason open."
    )
    filled: dict[str, str] = Field(description="Empty fields of the kept record filled in.")
    identities: list[IdentityOut] = Field(
        description="The other's identifiers now identifying the kept record."
    )


_MERGE_ERRORS: dict[int | str, dict[str, Any]] = {
    403: {"model": ErrorBody, "description": "Only the owner or a manager may merge."},
    404: {"model": ErrorBody, "description": "No client with this id (or the other's)."},
    409: {"model": ErrorBody, "description": "A record changed since the version given."},
}


@router.get("/clients/duplicates", response_model=DuplicatesOut)
def duplicates_api(
    staff: ApiStaff,
    db: Db,
    state: State,
    limit: Annotated[int, Query(ge=1, le=MAX_PAIRS)] = 200,
) -> dict[str, object]:
    """Likely pairs of records of one person, best first: the same email or phone, or a
    similar name with the same postcode or company."""
    pairs = find_duplicates(db, state.settings, limit=limit)
    return {"pairs": [pair.as_dict() for pair in pairs]}


def _merger(staff: ApiStaff) -> Staff:
    """The owner or a manager, checked before the body is read."""
    check(staff.role, "clients.manage", "merge two clients")
    return staff


@router.post("/clients/{ref:path}/merge", response_model=MergeOut, responses=_MERGE_ERRORS)
def merge_api(
    request: Request,
    staff: Annotated[Staff, Depends(_merger)],
    db: Db,
    state: State,
    ref: str,
    body: MergeIn,
) -> dict[str, object]:
    """Merge ``other`` into this client: every order, invoice, event, conversation, incident,
    fact, note, follow-up and feedback answer moves here; the other record is deleted and its
    identifiers find this one. A merge of a client with itself is refused (422)."""
    keep = find_client(db, ref)
    other = find_client(db, body.other)
    plan = merge_clients(
        db,
        keep.id,
        other.id,
        actor=actor(request, staff),
        source="api",
        by=staff.name,
        by_id=staff.id,
        now=state.now(),
        region=phone_region(state.settings),
        keep_version=body.keep_version,
        other_version=body.other_version,
    )
    return plan.as_dict()
