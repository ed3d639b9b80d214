"""Each user's follow-ups as a subscribable calendar, at a secret, revocable URL.

``GET /calendar/{token}.ics`` needs no login: calendar apps (and Google's servers) cannot log
in, so the token is the credential. It is random, one per user, and "new link" replaces it,
which revokes every old subscription at once.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from goodwill.errors import NotFound
from goodwill.feeds import followups_calendar
from goodwill.store.followups import list_followups
from goodwill.store.models import StaffUser
from goodwill.store.staff import calendar_token, user_for_calendar_token
from goodwill.web.auth import PageStaff
from goodwill.web.pages.followups import FLASH_KEY
from goodwill.web.state import Db, State

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

#: Open follow-ups due within this window are in the feed (overdue ones always are).
WINDOW = timedelta(days=60)
MEDIA_TYPE = "text/calendar; charset=utf-8"


def base_url(request: Request) -> str:
    """The public_url setting when set (behind a proxy), else the address of the request."""
    configured = request.app.state.goodwill.settings.public_url
    return str(configured or request.base_url).rstrip("/")


def feed_urls(request: Request, token: str) -> tuple[str, str]:
    """The feed's https (or http) address and the same as ``webcal://`` for calendar apps."""
    url = f"{base_url(request)}/calendar/{token}.ics"
    return url, "webcal://" + url.split("://", 1)[1]


@router.get("/calendar/{token}.ics")
def calendar_feed(request: Request, db: Db, state: State, token: str) -> Response:
    user = user_for_calendar_token(db, token)
    if user is None:
        raise NotFound("no calendar at this address; the link may have been replaced")
    now = state.now()
    items = list_followups(db, assignee=user.email, due_before=now + WINDOW, status="open")
    body = followups_calendar(
        items,
        name=f"goodwill: {user.name}",
        now=now,
        base_url=base_url(request),
        host=request.url.hostname or "goodwill",
    )
    return Response(
        body,
        media_type=MEDIA_TYPE,
        headers={
            "Content-Disposition": 'inline; filename="goodwill-follow-ups.ics"',
            "X-Robots-Tag": "noindex",
        },
    )


@router.post("/calendar/new-link")
def new_calendar_link(request: Request, staff: PageStaff, db: Db) -> Response:
    """Replace the user's feed URL; subscriptions to the old one stop working."""
    user = db.get(StaffUser, staff.id)
    assert user is not None  # page_staff has just read this user
    calendar_token(db, user, rotate=True)
    log.info("staff user %s replaced their calendar link", staff.id)
    request.session[FLASH_KEY] = (
        "Your calendar link is new; the old one no longer works. Subscribe again with this one."
    )
    return RedirectResponse("/today#calendar", status_code=303)
