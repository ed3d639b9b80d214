"""Each user's follow-ups as a subscribable calendar, at a secret, revocable URL.

``GET /calendar/{token}.ics`` needs no login: calendar apps (and Google's servers) cannot log
in, so the token is the credential. It is random, one per user, and "new link" replaces it,
which revokes every old subscription at once.
"""

from __future__ import annotations

import ipaddress
import logging
from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from goodwill.errors import NotFound
from goodwill.store.followups import list_followups
from goodwill.store.models import StaffUser
from goodwill.store.staff import new_calendar_token, user_for_calendar_token
from goodwill.web.auth import PageStaff
from goodwill.web.calendar_feed import followups_calendar
from goodwill.web.pages.followups import FLASH_KEY
from goodwill.web.state import Db, State

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

#: Open follow-ups due within this window are in the feed (overdue ones always are).
WINDOW = timedelta(days=60)
MEDIA_TYPE = "text/calendar; charset=utf-8"


#: The session key holding a link just made, until the Today page has shown it once.
FRESH_LINK_KEY = "calendar_link"

#: Why no link is shown: the address a link would carry cannot be trusted.
NO_PUBLIC_URL = (
    "Set public_url in the settings file to the address goodwill is reached at "
    "(docs/configuration.md); links are not built from what a browser says the host is."
)


def is_loopback(host: str | None) -> bool:
    """Whether ``host`` names this machine (localhost, 127.0.0.0/8, ::1)."""
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def base_url(request: Request) -> str | None:
    """Where links point: the public_url setting; without it the request's own address only
    when that is this machine (a Host header from elsewhere could send the link anywhere)."""
    configured = request.app.state.goodwill.settings.public_url
    if configured:
        return str(configured).rstrip("/")
    if is_loopback(request.url.hostname):
        return str(request.base_url).rstrip("/")
    return None


def feed_urls(request: Request, token: str) -> tuple[str, str] | None:
    """The feed's https (or http) address and the same as ``webcal://`` for calendar apps;
    None when there is no trustworthy address to build them on (see :func:`base_url`)."""
    base = base_url(request)
    if base is None:
        return None
    url = f"{base}/calendar/{token}.ics"
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
        zone=state.settings.zone,
        base_url=base_url(request) or "",
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
    """Make the user's feed URL, replacing any old one (its subscriptions stop working).

    goodwill keeps only the link's fingerprint, so the Today page shows it this once."""
    user = db.get(StaffUser, staff.id)
    assert user is not None  # page_staff has just read this user
    request.session[FRESH_LINK_KEY] = new_calendar_token(db, user)
    log.info("staff user %s made a new calendar link", staff.id)
    request.session[FLASH_KEY] = (
        "Your calendar link is new; any old one no longer works. Copy it now: it is shown once."
    )
    return RedirectResponse("/today#calendar", status_code=303)
