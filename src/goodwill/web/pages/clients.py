"""The client list (search, sort, paging; the table alone for htmx) and one client's page."""

from __future__ import annotations

from typing import Annotated, cast, get_args

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from goodwill.store.capped_count import cap_past
from goodwill.store.followups import list_followups
from goodwill.store.incidents import list_incidents
from goodwill.store.queries import Sort, client_profile, find_client, list_clients
from goodwill.store.value import client_value
from goodwill.web.auth import PageStaff
from goodwill.web.followup_access import visible
from goodwill.web.pages.client_memory import client_memory
from goodwill.web.pages.client_record import record_buttons
from goodwill.web.pages.client_timeline import timeline_context
from goodwill.web.pages.feedback import client_feedback
from goodwill.web.pages.followups import pop_flash, row_context
from goodwill.web.pages.privacy import client_privacy
from goodwill.web.rendering import client_url, render
from goodwill.web.state import Db, State
from goodwill.web.value_words import value_panel

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
#: Clients are counted in steps of this many past the page shown ("more than 10,000"): a
#: count of a million clients would take the database longer than the rest of the page.
COUNTED = 10_000
#: From this many years a client's tenure gets a badge: the relationship is the headline.
LONG_TENURE_YEARS = 10


def _sort(value: str) -> Sort:
    """A known sort order; anything else (an old bookmark, a typo) falls back to name."""
    return cast(Sort, value) if value in get_args(Sort) else "name"


def _partial(request: Request) -> bool:
    """An htmx request for the table alone (a history restore needs the whole page)."""
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


@router.get("/clients")
def clients_page(
    request: Request,
    staff: PageStaff,
    db: Db,
    state: State,
    q: Annotated[str, Query(max_length=200)] = "",
    sort: str = "name",
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    archived: bool = False,
) -> Response:
    chosen = _sort(sort)
    offset = (page - 1) * PAGE_SIZE
    counted = cap_past(offset + PAGE_SIZE, COUNTED)
    clients, total = list_clients(
        db,
        state.settings,
        today=state.today(),
        search=q or None,
        sort=chosen,
        offset=offset,
        limit=PAGE_SIZE,
        archived=archived,
        count_up_to=counted,
    )
    more = total > counted
    total = min(total, counted)
    context = {
        "archived": archived,
        "may_add": staff.may("clients.write"),
        "section": "clients",
        "clients": clients,
        "total": total,
        "more": more,
        "q": q,
        "sort": chosen,
        "page": page,
        "first": offset + 1 if clients else 0,
        "last": offset + len(clients),
        "has_next": more or offset + len(clients) < total,
        "pages": max(1, -(-total // PAGE_SIZE)),
        "long_tenure_years": LONG_TENURE_YEARS,
    }
    name = "_clients_table.html" if _partial(request) else "clients.html"
    response = render(request, name, context)
    response.headers["Vary"] = "HX-Request"
    return response


@router.get("/clients/{ref:path}")
def client_page(
    request: Request,
    staff: PageStaff,
    db: Db,
    state: State,
    ref: str,
    kind: str = "all",
    before: str | None = None,
) -> Response:
    client = find_client(db, ref)
    today = state.today()
    profile = client_profile(db, state.settings, client, today=today)
    panel = value_panel(
        client_value(db, state.settings, client.id, today=today),
        purchases=profile.overview.figures.purchase_count,
    )
    context = row_context(db, state, staff, back=client_url(ref))
    context |= record_buttons(db, staff, client)
    return render(
        request,
        "client.html",
        {
            **context,
            "followups": visible(
                staff, list_followups(db, client_id=client.id, status="open", performer=None)
            ),
            "page_flash": pop_flash(request),
            "section": "clients",
            "profile": profile,
            "client": profile.overview,
            "panel": panel,
            "ref": ref,
            **timeline_context(db, client, ref, kind=kind, before=before),
            "long_tenure": profile.overview.tenure_years >= LONG_TENURE_YEARS,
            **client_feedback(db, state, client),
            **client_privacy(db, staff, client.id),
            **client_memory(db, state, staff, client),
            "incidents": list_incidents(db, client_id=client.id, limit=20),
        },
    )
