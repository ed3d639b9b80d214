"""When the store is busy: 503 with Retry-After at once, never a long hang or a 500.

A request that cannot get a pooled connection within the ``database.pool_timeout`` setting, or
whose SQLite write waited ``database.busy_timeout`` for the lock ("database is locked"), or
that PostgreSQL turned away for load (too many connections, a lock or statement timeout, a
deadlock or serialisation failure) is answered 503 with ``{"code": "busy", "message"}`` (a
page for browsers) and ``Retry-After``; its transaction was rolled back, so retrying is safe.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import Response
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from goodwill.web.errors import error_response

log = logging.getLogger(__name__)

#: Seconds a client is asked to wait before trying again.
RETRY_AFTER = 2
#: PostgreSQL's SQLSTATEs that mean "busy now, fine later".
BUSY_SQLSTATES = frozenset({"53300", "55P03", "57014", "40P01", "40001"})
#: SQLite's "the database is locked" family.
BUSY_SQLITE = ("SQLITE_BUSY", "SQLITE_LOCKED")


def is_busy(error: BaseException) -> bool:
    """True for a store error that goes away on its own: the pool or a lock was full."""
    if isinstance(error, PoolTimeout):
        return True
    if not isinstance(error, OperationalError):
        return False
    driver = error.orig
    if getattr(driver, "sqlstate", None) in BUSY_SQLSTATES:
        return True
    name = str(getattr(driver, "sqlite_errorname", ""))
    return name.startswith(BUSY_SQLITE) or "database is locked" in str(driver)


def busy_response(request: Request) -> Response:
    response = error_response(
        request,
        503,
        {
            "code": "busy",
            "message": f"goodwill is busy right now; try again in {RETRY_AFTER} seconds",
            "retry_after": RETRY_AFTER,
        },
    )
    response.headers["Retry-After"] = str(RETRY_AFTER)
    return response


async def _store_error(request: Request, exc: Exception) -> Response:
    if not is_busy(exc):
        raise exc
    log.warning("store busy on %s %s: %s", request.method, request.url.path, type(exc).__name__)
    return busy_response(request)


def install(app: FastAPI) -> None:
    app.add_exception_handler(PoolTimeout, _store_error)
    app.add_exception_handler(OperationalError, _store_error)
