"""The likely duplicates, and the side-by-side preview of a merge with its confirm button."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from goodwill.domain.access import check
from goodwill.errors import InvalidInput
from goodwill.store.duplicates import find_duplicates, phone_region
from goodwill.store.merge import SHOWN, merge_clients, plan_merge, shown_fields
from goodwill.store.queries import find_client
from goodwill.web.auth import PageStaff, actor
from goodwill.web.pages.followups import FLASH_KEY
from goodwill.web.rendering import client_url, render
from goodwill.web.state import Db, State

router = APIRouter(include_in_schema=False)

#: Pairs the duplicates page lists, best first.
PAGE_PAIRS = 200
#: The preview's field names in words.
LABELS = {
    "name": "Name",
    "external_id": "Id in your files",
    "email": "Email",
    "phone": "Phone",
    "company": "Company",
    "street": "Street",
    "postcode": "Postcode",
    "city": "City",
    "country": "Country",
    "timezone": "Time zone",
    "hometown": "Hometown",
    "language": "Language",
    "preferred_channel": "Preferred channel",
    "client_since": "Client since",
}
#: Related rows in words, in the order the preview lists them.
KINDS = {
    "orders": "orders",
    "invoices": "invoices",
    "events": "timeline events",
    "conversations": "conversations",
    "incidents": "incidents",
    "facts": "facts",
    "interactions": "notes and calls",
    "contacts": "contacts",
    "followups": "follow-ups",
    "feedback_requests": "feedback requests",
    "feedback_answers": "feedback answers",
    "identities": "other emails, phones and ids",
}


@router.get("/clients/duplicates")
def duplicates_page(request: Request, staff: PageStaff, db: Db, state: State) -> Response:
    pairs = find_duplicates(db, state.settings, limit=PAGE_PAIRS)
    return render(
        request,
        "client_duplicates.html",
        {"section": "clients", "pairs": pairs, "may_merge": staff.may("clients.manage")},
    )


def _other_ref(other: str) -> str:
    if not other.strip():
        raise InvalidInput("name the other client to merge into this one", field="other")
    return other


@router.get("/clients/{ref:path}/merge")
def merge_preview(
    request: Request,
    staff: PageStaff,
    db: Db,
    state: State,
    ref: str,
    other: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    check(staff.role, "clients.manage", "merge two clients")
    keep = find_client(db, ref)
    dropped = find_client(db, _other_ref(other))
    plan = plan_merge(db, keep.id, dropped.id, region=phone_region(state.settings))
    return render(
        request,
        "client_merge.html",
        {
            "section": "clients",
            "ref": ref,
            "other": other,
            "plan": plan,
            "keep_fields": shown_fields(keep),
            "other_fields": shown_fields(dropped),
            "keep_version": keep.version,
            "other_version": dropped.version,
            "fields": [(name, LABELS[name]) for name in SHOWN],
            "kinds": KINDS,
        },
    )


@router.post("/clients/{ref:path}/merge")
def merge_confirm(
    request: Request,
    staff: PageStaff,
    db: Db,
    state: State,
    ref: str,
    other: Annotated[str, Form(max_length=200)] = "",
    keep_version: Annotated[int | None, Form(ge=1)] = None,
    other_version: Annotated[int | None, Form(ge=1)] = None,
) -> Response:
    check(staff.role, "clients.manage", "merge two clients")
    keep = find_client(db, ref)
    dropped = find_client(db, _other_ref(other))
    plan = merge_clients(
        db,
        keep.id,
        dropped.id,
        actor=actor(request, staff),
        source="web",
        by=staff.name,
        by_id=staff.id,
        now=state.now(),
        region=phone_region(state.settings),
        keep_version=keep_version,
        other_version=other_version,
    )
    moved = sum(plan.moved.values())
    request.session[FLASH_KEY] = (
        f"Merged {plan.other_name} ({plan.other_ref}) into this record: {moved} records moved."
    )
    return RedirectResponse(client_url(f"#{plan.keep_id}"), status_code=303)
