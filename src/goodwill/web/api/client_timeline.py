"""One client's timeline over JSON, a page at a time, with the same filters as the page."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from goodwill.store.queries import find_client
from goodwill.store.timeline import DEFAULT_LIMIT, MAX_LIMIT, timeline
from goodwill.web.api.schemas import API_ERRORS, ErrorBody, TimelineItem, TimelineKind
from goodwill.web.auth import ApiStaff
from goodwill.web.state import Db

router = APIRouter(prefix="/api/v1", tags=["clients"], responses=API_ERRORS)

_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "No client with this id."},
    422: {
        "model": ErrorBody,
        "description": "An unknown kind, a cursor this API did not give, or a limit out of range.",
    },
}


@router.get("/clients/{ref:path}/timeline", response_model=list[TimelineItem], responses=_ERRORS)
def client_timeline_api(
    staff: ApiStaff,
    db: Db,
    request: Request,
    response: Response,
    ref: str,
    kind: Annotated[
        TimelineKind, Query(description="Only entries of this kind: purchases, conversations, ...")
    ] = "all",
    before: Annotated[
        str | None,
        Query(
            max_length=60,
            pattern=r"^[0-9]{1,19}-[1-4]-[0-9]{1,19}$",
            description="An entry's `cursor`: only entries older than it (the next page).",
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> list[dict[str, object]]:
    """The client's history, newest first, one page at a time.

    Each entry carries a ``cursor``; pass the last one as ``before`` for the next page. When
    there is one, the ``Link`` header names it (``rel="next"``).
    """
    client = find_client(db, ref)
    page = timeline(db, client, kind=kind, before=before, limit=limit)
    if page.older is not None:
        following = request.url.include_query_params(before=page.older)
        response.headers["Link"] = f'<{following}>; rel="next"'
    return [entry.as_dict() for entry in page.entries]
