"""One client's export and erasure over JSON (owner only)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from goodwill.store.erasure import erase_client
from goodwill.store.export import export_audited
from goodwill.store.queries import find_client
from goodwill.web.api.schemas import API_ERRORS, ErrorBody
from goodwill.web.auth import ApiStaff, ApiStaffAlone, Staff
from goodwill.web.pages.privacy import actor_of, owner_only, zip_response
from goodwill.web.state import Db, State

router = APIRouter(
    prefix="/api/v1",
    tags=["privacy"],
    responses={
        **API_ERRORS,
        403: {"model": ErrorBody, "description": "Only the owner may do this."},
        404: {"model": ErrorBody, "description": "No client with this id."},
        503: {"model": ErrorBody, "description": "The database is busy; retry after a moment."},
    },
)


class EraseIn(BaseModel):
    reason: str = Field(min_length=1, max_length=500, description="Why (kept in the audit log).")


class ErasureOut(BaseModel):
    client_id: int
    counts: dict[str, int]
    compacted: bool


_zip: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
        "description": "The archive: client.json, summary.txt and the files.",
    }
}


@router.get("/clients/{ref:path}/export", response_class=Response, responses=_zip)
def export_api(request: Request, staff: ApiStaff, db: Db, state: State, ref: str) -> Response:
    """Everything held about the client as one zip archive (audited as client.exported)."""
    owner_only(staff, "export a client's data")
    client = find_client(db, ref)
    return zip_response(
        export_audited(db, client.id, actor=actor_of(request, staff), now=state.now()), client.id
    )


def _eraser(staff: ApiStaffAlone) -> Staff:
    """The owner, checked before the body is read (and with no request session held: the
    erasure works in transactions of its own)."""
    owner_only(staff, "erase a client")
    return staff


@router.post("/clients/{ref:path}/erase", response_model=ErasureOut)
def erase_api(
    request: Request,
    staff: Annotated[Staff, Depends(_eraser)],
    state: State,
    ref: str,
    body: EraseIn,
) -> dict[str, object]:
    """Erase the client's personal data and mail; amounts for the books stay."""
    with state.sessions() as session:
        client_id = find_client(session, ref).id
    erasure = erase_client(
        state.sessions,
        client_id,
        actor=actor_of(request, staff),
        reason=body.reason,
        now=state.now(),
    )
    return {"client_id": client_id, "counts": erasure.counts, "compacted": erasure.compacted}
