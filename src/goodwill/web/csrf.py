"""Cross-site request forgery protection for the cookie-authenticated pages.

Each browser session holds one random token; every form carries it in a hidden field (htmx may send
it as the ``X-CSRF-Token`` header instead) and every unsafe request without the matching token is
refused with 403. The JSON API is exempt: it authenticates with a bearer token, never with the
cookie, so a forged cross-site request has no credentials to ride on. So is a client's personal
feedback form (``/feedback/<token>``): it needs no login and sets no cookie; the unguessable token
in its address is the only credential, and a forger who does not know it has nothing to forge.
"""

from __future__ import annotations

import secrets

from fastapi import Request

from goodwill.errors import NotAllowed

SESSION_KEY = "csrf"
FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
EXEMPT_PREFIX = "/api/"
#: Anonymous forms whose address carries their own capability token (see the module docstring).
CAPABILITY_PREFIX = "/feedback/"


def csrf_token(request: Request) -> str:
    """The session's token, created on first use (so the login form has one too)."""
    token = request.session.get(SESSION_KEY)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        request.session[SESSION_KEY] = token
    return token


def rotate(request: Request) -> str:
    """A fresh token, for when the session changes hands (login)."""
    request.session.pop(SESSION_KEY, None)
    return csrf_token(request)


async def csrf_protect(request: Request) -> None:
    """App-wide dependency: refuse an unsafe page request whose token is missing or wrong."""
    if request.method not in UNSAFE or request.url.path.startswith(EXEMPT_PREFIX):
        return
    if request.url.path.startswith(CAPABILITY_PREFIX):
        return
    expected = request.session.get(SESSION_KEY)
    given = request.headers.get(HEADER)
    if given is None:
        value = (await request.form()).get(FIELD)
        given = value if isinstance(value, str) else None
    if (
        not isinstance(expected, str)
        or not given
        or not secrets.compare_digest(expected.encode(), given.encode())
    ):
        raise NotAllowed(
            "This form has expired or did not come from goodwill. Reload the page and try again.",
            reason="csrf",
        )
