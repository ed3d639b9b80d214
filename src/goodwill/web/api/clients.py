"""Clients over JSON: the list with derived figures, one profile, one value (the timeline is
web/api/client_timeline.py)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from goodwill.store.client_record import client_ref, record_of
from goodwill.store.queries import Sort, client_profile, find_client, list_clients
from goodwill.store.value import client_value
from goodwill.web.api.schemas import (
    API_ERRORS,
    MAX_ID,
    ClientPage,
    ClientProfile,
    ClientValueOut,
    ErrorBody,
)
from goodwill.web.auth import ApiStaff
from goodwill.web.state import Db, State

MAX_LIMIT = 500

router = APIRouter(prefix="/api/v1", tags=["clients"], responses=API_ERRORS)
_not_found: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "No client with this id."}
}


@router.get("/clients", response_model=ClientPage)
def list_clients_api(
    staff: ApiStaff,
    db: Db,
    state: State,
    q: Annotated[
        str | None, Query(max_length=200, description="Part of a name or email, or an exact id.")
    ] = None,
    sort: Sort = "name",
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
) -> dict[str, object]:
    """One page of clients with their figures; ``total`` counts every match."""
    clients, total = list_clients(
        db, state.settings, today=state.today(), search=q, sort=sort, offset=offset, limit=limit
    )
    return {
        "total": total,
        "offset": offset,
        "limit": limit,
        "clients": [c.as_dict() for c in clients],
    }


@router.get("/clients/{ref:path}/value", response_model=ClientValueOut, responses=_not_found)
def client_value_api(staff: ApiStaff, db: Db, state: State, ref: str) -> dict[str, object]:
    """The client's rhythm, P(alive), expected purchases and spend, and 3-year CLV.

    Null fields are unknown: a lead has none, a client with fewer purchases than
    ``cadence.min_purchases`` has no rhythm, and the model figures appear after the engine's
    first pass (it refits the models once a day).
    """
    client = find_client(db, ref)
    return client_value(db, state.settings, client.id, today=state.today()).as_dict()


# The profile's path swallows everything after /clients/, so it is declared after its subpaths.
@router.get("/clients/{ref:path}", response_model=ClientProfile, responses=_not_found)
def client_profile_api(staff: ApiStaff, db: Db, state: State, ref: str) -> dict[str, object]:
    """Who the client is: figures, personal facts, contacts and channels.

    ``ref`` is the id from imported files, an email address, or ``#<internal id>``.
    """
    client = find_client(db, ref)
    profile = client_profile(db, state.settings, client, today=state.today()).as_dict()
    return {**profile, "record": {"id": client_ref(client), **record_of(db, client)}}
