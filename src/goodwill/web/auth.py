"""Who is asking: staff logged in with a session cookie (pages) or holding an API token (API).

A login opens a server-side session (store/accounts.py): the ``goodwill_sid`` cookie holds only
its random id (HttpOnly, SameSite=Lax, host-only, Secure when the public URL is https), the
table only the id's hash. Every page request looks the row up, so logout, deactivation, a
password change and the idle and absolute timeouts end a session at once. The signed Starlette
cookie beside it carries only the CSRF token and flash messages, never who is logged in. The
acting user is handed to views as an argument (a dependency), never read from a global.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import BackgroundTasks, Depends, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from goodwill.domain.access import Ability, may
from goodwill.domain.audit import Actor
from goodwill.errors import NotAllowed
from goodwill.store.accounts import (
    close_session,
    live_session,
    open_session,
    purge_expired,
    touch_session,
)
from goodwill.store.audit import record
from goodwill.store.models import StaffUser
from goodwill.store.staff import token_row, touch_token
from goodwill.web.csrf import rotate
from goodwill.web.errors import NotAuthenticated
from goodwill.web.state import Db, State, WebState

log = logging.getLogger(__name__)

HOME = "/today"
SID_COOKIE = "goodwill_sid"
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: How often a session's last-seen time and a token's last use are written: at most once a
#: minute, each in a short transaction of its own (never held across the request's work).
TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class Staff:
    """The acting staff member, as views see them."""

    id: int
    name: str
    email: str
    role: str

    @property
    def is_owner(self) -> bool:
        return self.role == "owner"

    def may(self, ability: Ability) -> bool:
        """Whether this user's role allows ``ability`` (the table in goodwill.domain.access)."""
        return may(self.role, ability)

    @classmethod
    def of(cls, user: StaffUser) -> Staff:
        return cls(id=user.id, name=user.name, email=user.email, role=user.role)


class LoginRequired(Exception):
    """A page needs a logged-in user; answered with a redirect to the login form."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def safe_next(value: str | None) -> str:
    """Where to go after login: a path on this site only (``/x``), never ``//host`` or a URL."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return HOME
    if any(ch in value for ch in "\\\r\n\t") or any(ord(ch) < 32 for ch in value):
        return HOME
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return HOME
    return value


def address_of(request: Request) -> str | None:
    return request.client.host if request.client else None


def actor(request: Request, staff: Staff) -> Actor:
    """The audit log's view of who acts in this request (address and session included)."""
    ref = getattr(request.state, "web_session_id", None)
    token = getattr(request.state, "api_token_id", None)
    where = None if token is None else f"token:{token}"
    return Actor.user(
        staff.id,
        staff.email,
        address=address_of(request),
        session_ref=where if ref is None else f"session:{ref}",
    )


def set_session_cookie(response: Response, state: WebState, secret: str) -> None:
    response.set_cookie(
        SID_COOKIE,
        secret,
        max_age=int(state.settings.accounts["session_days"]) * 86400,
        path="/",
        httponly=True,
        samesite="lax",
        secure=state.settings.secure_cookie,
    )


def log_in(request: Request, response: Response, db: Db, state: WebState, user: StaffUser) -> None:
    """Start a fresh session for ``user``: a new random id (the old one, if any, is ended), a
    new CSRF token, nothing kept from before; recorded in the audit log."""
    old = request.cookies.get(SID_COOKIE)
    if old:
        close_session(db, old)
    request.session.clear()
    rotate(request)
    now = state.now()
    purge_expired(db, now=now, accounts=state.settings.accounts)
    secret, row = open_session(
        db,
        user,
        now=now,
        address=address_of(request),
        user_agent=request.headers.get("user-agent"),
    )
    request.state.web_session_id = row.id
    record(
        db, actor(request, Staff.of(user)), "login", at=now, object_type="user", object_id=user.id
    )
    set_session_cookie(response, state, secret)
    log.info("staff user %s logged in", user.id)


def log_out(request: Request, response: Response, db: Db, state: WebState) -> None:
    """End this browser's session (the row is deleted, so a copied cookie stops working)."""
    secret = request.cookies.get(SID_COOKIE)
    request.session.clear()
    response.delete_cookie(SID_COOKIE, path="/", httponly=True, samesite="lax")
    if not secret:
        return
    row = close_session(db, secret)
    if row is not None:
        user = db.get(StaffUser, row.user_id)
        if user is not None:
            request.state.web_session_id = row.id
            record(
                db,
                actor(request, Staff.of(user)),
                "logout",
                at=state.now(),
                object_type="user",
                object_id=user.id,
            )
        log.info("staff user %s logged out", row.user_id)


def _touch(
    sessions: sessionmaker[Session], touch: Callable[..., None], row_id: int, now: datetime
) -> None:
    """Write a session's last-seen or a token's last-used time after the response is sent, in a
    transaction of its own: the request never waits for a second connection. Bookkeeping only,
    so a busy store skips it (the next request writes it)."""
    try:
        with sessions.begin() as own:
            touch(own, row_id, now=now)
    except SQLAlchemyError as exc:
        log.warning("last-use time of %s not written: %s", row_id, type(exc).__name__)


def session_staff(
    request: Request, db: Db, state: State, background: BackgroundTasks
) -> Staff | None:
    """The logged-in staff member, or None (no live session, or the user is deactivated)."""
    secret = request.cookies.get(SID_COOKIE)
    if not secret:
        return None
    now = state.now()
    row = live_session(db, secret, now=now, accounts=state.settings.accounts)
    if row is None:
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        background.add_task(_touch, state.sessions, touch_session, row.id, now)
    user = db.get(StaffUser, row.user_id)
    if user is None:
        return None
    staff = Staff.of(user)
    request.state.staff = staff
    request.state.web_session_id = row.id
    return staff


def page_staff(request: Request, staff: Annotated[Staff | None, Depends(session_staff)]) -> Staff:
    """Dependency for pages: the logged-in staff member, else a redirect to the login form."""
    if staff is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target)
    return staff


_bearer = HTTPBearer(auto_error=False, description="An API token from `goodwill user token`.")


def api_staff(
    request: Request,
    db: Db,
    state: State,
    background: BackgroundTasks,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Staff:
    """Dependency for the API: the owner of the bearer token, else 401; a read-only token is
    refused (403) on anything but a read."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise NotAuthenticated("send an API token: Authorization: Bearer <token>")
    now = state.now()
    row = token_row(db, credentials.credentials.strip(), now=now)
    if row is None:
        raise NotAuthenticated("the API token is unknown, expired or its user is deactivated")
    if row.last_used_at is None or now - row.last_used_at >= TOUCH_EVERY:
        background.add_task(_touch, state.sessions, touch_token, row.id, now)
    if row.scope == "read" and request.method not in READ_METHODS:
        raise NotAllowed("this API token may only read", reason="scope")
    request.state.api_token_id = row.id
    return Staff.of(row.user)


def api_staff_alone(
    request: Request,
    state: State,
    background: BackgroundTasks,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Staff:
    """:func:`api_staff` for a view that holds no request session (the message hand-in keeps
    and files in short transactions of its own): the token is read in a session closed at once."""
    with state.sessions() as session:
        return api_staff(request, session, state, background, credentials)


async def _login_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    target = "/login?next=" + quote(safe_next(exc.next_path), safe="/")
    if request.headers.get("HX-Request") == "true":
        # htmx would follow a redirect and swap the login page into the table; go there instead.
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


def install(app: FastAPI) -> None:
    app.add_exception_handler(LoginRequired, _login_required)


PageStaff = Annotated[Staff, Depends(page_staff)]
ApiStaff = Annotated[Staff, Depends(api_staff)]
ApiStaffAlone = Annotated[Staff, Depends(api_staff_alone)]
