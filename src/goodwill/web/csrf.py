"""Cross-site request forgery protection for the cookie-authenticated pages.

Each browser session holds one random token; every form carries it in a hidden field (htmx may send
it as the ``X-CSRF-Token`` header instead) and every unsafe request without the matching token is
refused with 403. The JSON API is exempt: it authenticates with a bearer token, never with the
cookie, so a forged cross-site request has no credentials to ride on. So is a client's personal
feedback form (``/feedback/<token>``): it needs no login and sets no cookie; the unguessable token
in its address is the only credential, and a forger who does not know it has nothing to forge.
The same holds for an unsubscribe link (``/unsubscribe/<token>``), whose RFC 8058 one-click POST
comes from a mail program, never with a cookie.
And so is the public contact form (``/contact``): it is meant to be posted from the business's own
website, where goodwill's cookie never comes along; it acts for nobody (the session is not read),
so a forged post can do no more than anyone may do by writing in (docs/security.md).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

from fastapi import Request
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from goodwill.errors import NotAllowed

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

SESSION_KEY = "csrf"
FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
EXEMPT_PREFIX = "/api/"
#: Anonymous forms whose address carries their own capability token (see the module docstring).
CAPABILITY_PREFIXES = ("/feedback/", "/unsubscribe/")
#: Anonymous forms anyone may post, acting for nobody (see the module docstring).
PUBLIC_PATHS = frozenset({"/contact"})

EXPIRED = "This form has expired or did not come from goodwill. Reload the page and try again."

#: How a refusal is answered (the app's error page or JSON): request, status, body.
Refusal = Callable[[Request, int, dict[str, object]], Response]


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


class CsrfGuard:
    """ASGI middleware (inside the session middleware): refuse an unsafe page request whose token
    is missing or wrong before the view, or FastAPI's form parsing, reads its body.

    The token is looked for in the ``X-CSRF-Token`` header first (no body read). A session without
    a token is refused at once. A URL-encoded form is read (the body limit bounds it) and replayed
    to the app; a multipart upload is read only up to its ``csrf_token`` part, which must come
    within the first ``scan_bytes`` (goodwill's forms put it first), and is then replayed followed
    by the rest as the client sends it, so a refused upload is never read beyond that.
    """

    def __init__(self, app: ASGIApp, *, refuse: Refusal, scan_bytes: int = 64 * 1024) -> None:
        self.app = app
        self.refuse = refuse
        self.scan_bytes = scan_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if (
            scope["type"] != "http"
            or scope["method"] not in UNSAFE
            or path.startswith((EXEMPT_PREFIX, *CAPABILITY_PREFIXES))
            or path in PUBLIC_PATHS
        ):
            await self.app(scope, receive, send)
            return
        expected = scope.get("session", {}).get(SESSION_KEY)
        headers = Headers(scope=scope)
        given = headers.get(HEADER)
        read: list[Message] = []
        if isinstance(expected, str) and expected and given is None:
            given, read = await self._from_body(headers, receive)
        if (
            not isinstance(expected, str)
            or not expected
            or not given
            or not secrets.compare_digest(expected.encode(), given.encode())
        ):
            error = NotAllowed(EXPIRED, reason="csrf")
            response = self.refuse(Request(scope), 403, error.as_dict())
            response.headers["Connection"] = "close"
            await response(scope, receive, send)
            return
        await self.app(scope, _replaying(read, receive), send)

    async def _from_body(
        self, headers: Headers, receive: Receive
    ) -> tuple[str | None, list[Message]]:
        """The form's token and the messages read to find it (to be replayed to the app)."""
        kind, options = parse_options_header(headers.get("content-type", ""))
        read: list[Message] = []
        if kind == b"application/x-www-form-urlencoded":
            body = bytearray()
            more = True
            while more:
                message = await receive()
                read.append(message)
                if message["type"] != "http.request":
                    return None, read
                body += message.get("body", b"")
                more = bool(message.get("more_body", False))
            values = parse_qs(body.decode("latin-1"), keep_blank_values=True).get(FIELD, [])
            return (values[0] if values else None), read
        boundary = options.get(b"boundary")
        if kind != b"multipart/form-data" or not boundary:
            return None, read
        part = _TokenPart()
        parser = MultipartParser(boundary, part.callbacks())
        seen = 0
        more = True
        while more and part.token is None and seen <= self.scan_bytes:
            message = await receive()
            read.append(message)
            if message["type"] != "http.request":
                return None, read
            chunk = message.get("body", b"")
            seen += len(chunk)
            more = bool(message.get("more_body", False))
            try:
                parser.write(chunk)
            except MultipartParseError:
                return None, read
        return part.token, read


class _TokenPart:
    """Collects the ``csrf_token`` field from a multipart parser's callbacks."""

    def __init__(self) -> None:
        self.token: str | None = None
        self._field = bytearray()
        self._value = bytearray()
        self._name: bytes | None = None
        self._data = bytearray()

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self._begin,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value,
            "on_header_end": self._header_end,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
        }

    def _begin(self) -> None:
        self._name = None
        self._data.clear()

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._field.extend(data[start:end])

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._value.extend(data[start:end])

    def _header_end(self) -> None:
        if bytes(self._field).lower() == b"content-disposition":
            self._name = parse_options_header(bytes(self._value))[1].get(b"name")
        self._field.clear()
        self._value.clear()

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._name == FIELD.encode() and len(self._data) < 1024:
            self._data.extend(data[start:end])

    def _part_end(self) -> None:
        if self._name == FIELD.encode() and self.token is None:
            self.token = self._data.decode("latin-1")


def _replaying(read: list[Message], receive: Receive) -> Receive:
    """``receive`` that first hands out the messages already read."""
    pending = list(read)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay
