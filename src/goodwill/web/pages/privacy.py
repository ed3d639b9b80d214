"""The owner's audit page, a client's "Changes by staff", and their export and erasure buttons."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from goodwill.domain.audit import Actor
from goodwill.errors import InvalidInput, NotAllowed
from goodwill.store.audit_view import AuditFilter, in_words, read_entries
from goodwill.store.erasure import erase_client
from goodwill.store.export import export_audited
from goodwill.store.queries import find_client
from goodwill.web.auth import PageStaff, Staff
from goodwill.web.rendering import client_url, render
from goodwill.web.state import Db, State

router = APIRouter(include_in_schema=False)

#: Entries the audit page and a client's section show.
PAGE_ENTRIES = 200
CLIENT_ENTRIES = 20


def actor_of(request: Request, staff: Staff) -> Actor:
    return Actor.user(
        staff.id, staff.email, address=request.client.host if request.client else None
    )


def owner_only(staff: Staff, what: str) -> None:
    if not staff.is_owner:
        raise NotAllowed(f"only the owner may {what}")


def client_privacy(db: Session, staff: Staff, client_id: int) -> dict[str, Any]:
    """What the client page's "Changes by staff" section and the owner's buttons need."""
    rows = read_entries(db, AuditFilter(client_id=client_id), limit=CLIENT_ENTRIES)
    return {
        "staff_changes": [(row, in_words(row)) for row in rows],
        "may_erase": staff.is_owner,
    }


def zip_response(data: bytes, client_id: int) -> Response:
    return Response(
        data,
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="client-{client_id}.zip"',
            "Cache-Control": "no-store",
        },
    )


@router.post("/clients/{ref:path}/export")
def export_page(request: Request, staff: PageStaff, db: Db, state: State, ref: str) -> Response:
    owner_only(staff, "export a client's data")
    client = find_client(db, ref)
    data = export_audited(db, client.id, actor=actor_of(request, staff), now=state.now())
    return zip_response(data, client.id)


@router.post("/clients/{ref:path}/erase")
def erase_page(
    request: Request,
    staff: PageStaff,
    state: State,
    ref: str,
    reason: Annotated[str, Form(max_length=500)] = "",
    confirm: Annotated[str, Form()] = "",
) -> Response:
    owner_only(staff, "erase a client")
    with state.sessions() as session:
        client_id = find_client(session, ref).id
    if confirm != "yes":
        raise InvalidInput("tick the box to confirm the erasure", field="confirm")
    erase_client(
        state.sessions, client_id, actor=actor_of(request, staff), reason=reason, now=state.now()
    )
    return RedirectResponse(client_url(f"#{client_id}"), status_code=303)


@router.get("/audit")
def audit_page(
    request: Request,
    staff: PageStaff,
    db: Db,
    state: State,
    client: Annotated[str, Query(max_length=200)] = "",
    user: Annotated[str, Query(max_length=320)] = "",
    action: Annotated[str, Query(max_length=60)] = "",
    since: Annotated[str, Query(max_length=40)] = "",
) -> Response:
    owner_only(staff, "read the audit log")
    filters = AuditFilter.parse(
        db,
        state.settings,
        client=client or None,
        user=user or None,
        action=action or None,
        since=since or None,
    )
    rows = read_entries(db, filters, limit=PAGE_ENTRIES)
    response = render(
        request,
        "audit.html",
        {
            "section": "audit",
            "rows": rows,
            "zone": state.settings.zone,
            "filters": {"client": client, "user": user, "action": action, "since": since},
        },
    )
    response.headers["Cache-Control"] = "no-store"
    return response
