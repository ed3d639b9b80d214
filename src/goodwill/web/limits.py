"""Bounds on every request: how large its body may be, how long it may run, how many run at once.

Both are plain ASGI middleware placed outside everything else, so they act before anything reads
the body (authentication, the CSRF check, form and multipart parsing):

- :class:`BodyLimit` answers 413, naming the limit, as soon as a declared Content-Length is over
  it, or as soon as the bytes ``receive()`` has delivered pass it (chunked bodies); the app is then
  told the client went away and whatever it answers is dropped. At most the limit (plus one chunk)
  is ever read.
- :class:`RequestLimits` sheds load: beyond ``max_concurrent`` requests in progress in this process
  a request gets 503 with Retry-After at once, and a request that has not started answering within
  ``timeout`` seconds gets 504 (its view still finishes, holding its slot; its answer is dropped).
  The exempt paths (``/healthz``) always answer.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from starlette.convertors import IntegerConvertor, PathConvertor, register_url_convertor
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 1
#: The largest id a record can have (a signed 64-bit integer, on SQLite and PostgreSQL alike).
MAX_ID = 2**63 - 1


class IdConvertor(IntegerConvertor):
    """The ``{name:id}`` path segment: a record id, at most 19 digits (longer never matches, so
    the page is 404, instead of Python refusing to read a number of thousands of digits)."""

    regex = "[0-9]{1,19}"


register_url_convertor("id", IdConvertor())

#: What may follow a client's ref in a path: a ref never ends in one of these segments.
CLIENT_SUBPATHS = (
    "archive|restore|contacts|facts|notes|interactions|orders|payments|merge|timeline|value"
    "|export|erase|edit"
)


class ClientRefConvertor(PathConvertor):
    """The ``{ref:client}`` segment: a client's ref, which may hold slashes (ids from other
    systems do) but never a client subpath, so a method a subpath does not have is answered
    405 there instead of being read as a write to a client named ``C-1/erase``."""

    regex = rf"(?:(?!/(?:{CLIENT_SUBPATHS})(?:/|$)).)+"


register_url_convertor("client", ClientRefConvertor())


def size_words(limit: int) -> str:
    """``limit`` bytes as a person reads a size: 1 MiB, 512 KiB, 100 bytes."""
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if limit >= size and limit % size == 0:
            return f"{limit // size} {unit}"
    return f"{limit} bytes"


async def answer(
    scope: Scope,
    send: Send,
    status: int,
    body: Mapping[str, object],
    *,
    headers: Mapping[str, str] | None = None,
) -> None:
    """Send a complete error answer: JSON for the API and JSON callers, a short page otherwise."""
    path = str(scope.get("path", ""))
    accept = _header(scope, b"accept") or ""
    if path.startswith("/api/") or ("application/json" in accept and "text/html" not in accept):
        content = json.dumps(body).encode()
        kind = b"application/json"
    else:
        message = str(body.get("message", ""))
        escaped = message.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        content = (
            f"<!doctype html><title>{status}</title><h1>{status}</h1><p>{escaped}</p>\n".encode()
        )
        kind = b"text/html; charset=utf-8"
    raw_headers = [(b"content-type", kind), (b"content-length", str(len(content)).encode())]
    raw_headers += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": content})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


class BodyLimit:
    """Refuse a request body larger than its route's limit with 413, while it is being read.

    ``routes`` maps ``(method, path)`` to a larger (or smaller) limit than ``default`` for that
    exact route, e.g. the import page's upload.
    """

    def __init__(
        self, app: ASGIApp, *, default: int, routes: Mapping[tuple[str, str], int] | None = None
    ) -> None:
        self.app = app
        self.default = default
        self.routes = dict(routes or {})

    def limit_for(self, method: str, path: str) -> int:
        return self.routes.get((method, path.rstrip("/") or "/"), self.default)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["method"], scope["path"])
        declared = _header(scope, b"content-length")
        if declared is not None and declared.strip().isdigit() and int(declared) > limit:
            await self._refuse(scope, send, limit)
            return
        received = 0
        refused = False
        started = False

        async def counted() -> Message:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    refused = True
                    if not started:
                        await self._refuse(scope, send, limit)
                    return {"type": "http.disconnect"}
            return message

        async def guarded(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 has gone out; the app's own answer is dropped
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, guarded)
        except Exception:
            # The app saw the client "disconnect" mid-body and gave up; the 413 already answered.
            if not refused:
                raise
            log.debug("request body over %s bytes refused while the app read it", limit)

    async def _refuse(self, scope: Scope, send: Send, limit: int) -> None:
        log.info("refused a %s request body over the limit of %s bytes", scope["method"], limit)
        message = f"the request body is larger than the limit of {size_words(limit)}"
        body = {"code": "too_large", "message": message, "limit": limit}
        await answer(scope, send, 413, body, headers={"Connection": "close"})


class RequestLimits:
    """At most ``max_concurrent`` requests in progress (503 beyond), each answering within
    ``timeout`` seconds (504 otherwise); requests to ``exempt`` paths are not counted."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_concurrent: int,
        timeout: float,
        exempt: Iterable[str] = ("/healthz",),
    ) -> None:
        self.app = app
        self.max_concurrent = max_concurrent
        self.timeout = timeout
        self.exempt = frozenset(exempt)
        self.in_progress = 0
        self._abandoned: set[asyncio.Task[None]] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.exempt:
            await self.app(scope, receive, send)
            return
        if self.in_progress >= self.max_concurrent:
            log.warning("shed a request: %s requests in progress", self.in_progress)
            body = {"code": "busy", "message": "goodwill is busy; try again in a moment"}
            retry = {"Retry-After": str(RETRY_AFTER_SECONDS)}
            await answer(scope, send, 503, body, headers=retry)
            return
        started = False
        timed_out = False

        async def watched(message: Message) -> None:
            nonlocal started
            if timed_out:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        self.in_progress += 1
        task = asyncio.ensure_future(self.app(scope, receive, watched))
        task.add_done_callback(self._finished)
        done, _ = await asyncio.wait({task}, timeout=self.timeout)
        if task in done or started:
            await task  # finished, or already answering (a long download): let it end
            return
        timed_out = True
        log.warning("a %s request ran past %s s; answered 504", scope["method"], self.timeout)
        message = f"the request took longer than {self.timeout:g} seconds; try again later"
        await answer(scope, send, 504, {"code": "timeout", "message": message})
        # Not cancelled: a view in a thread runs on regardless, and its slot stays taken until it
        # ends, so the count stays honest about the work in progress. Nothing it sends goes out.
        self._abandoned.add(task)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        """A request's work ended (answered, failed or abandoned): its slot is free again."""
        self.in_progress -= 1
        if task in self._abandoned:
            self._abandoned.discard(task)
            error = task.exception()
            if error is not None:
                log.warning("a timed-out request failed afterwards: %s", type(error).__name__)
