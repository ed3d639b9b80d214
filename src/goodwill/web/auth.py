"""Who is asking: staff logged in with a session cookie (pages) or holding an API token (API).

The signed session cookie holds the user's id and role; each page request re-reads the user, so
deactivating someone ends their sessions at once. The acting user is handed to views as an
argument (a dependency), never read from a global.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import Depends, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from goodwill.domain.access import Ability, may
from goodwill.store.models import StaffUser
from goodwill.store.staff import user_for_token
from goodwill.web.csrf import rotate
from goodwill.web.errors import NotAuthenticated
from goodwill.web.state import Db

log = logging.getLogger(__name__)

HOME = "/today"
_USER_KEY = "user_id"
_ROLE_KEY = "role"


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


def log_in(request: Request, user: StaffUser) -> None:
    """Start a fresh session for ``user`` (a new CSRF token, nothing kept from before)."""
    request.session.clear()
    request.session[_USER_KEY] = user.id
    request.session[_ROLE_KEY] = user.role
    rotate(request)
    log.info("staff user %s logged in", user.id)


def log_out(request: Request) -> None:
    user_id = request.session.get(_USER_KEY)
    request.session.clear()
    if user_id is not None:
        log.info("staff user %s logged out", user_id)


def session_staff(request: Request, db: Db) -> Staff | None:
    """The logged-in staff member, or None (no session, or the user is gone or deactivated)."""
    user_id = request.session.get(_USER_KEY)
    if not isinstance(user_id, int):
        return None
    user = db.get(StaffUser, user_id)
    if user is None or not user.active:
        request.session.clear()
        return None
    staff = Staff.of(user)
    request.state.staff = staff
    return staff


def page_staff(request: Request, staff: Annotated[Staff | None, Depends(session_staff)]) -> Staff:
    """Dependency for pages: the logged-in staff member, else a redirect to the login form."""
    if staff is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target)
    return staff


_bearer = HTTPBearer(auto_error=False, description="An API token from `goodwill user token`.")


def api_staff(
    db: Db,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Staff:
    """Dependency for the API: the owner of the bearer token, else 401."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise NotAuthenticated("send an API token: Authorization: Bearer <token>")
    user = user_for_token(db, credentials.credentials.strip())
    if user is None:
        raise NotAuthenticated("the API token is unknown or its user is deactivated")
    return Staff.of(user)


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
