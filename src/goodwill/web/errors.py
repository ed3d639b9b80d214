"""How errors reach the browser and API clients: a status code and ``{"code", "message"}``.

Codes come from :mod:`goodwill.errors`; requests under ``/api/`` (or asking for JSON) get JSON,
pages get the same information as a readable HTML page.
"""

from __future__ import annotations

import logging
import re

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import iter_route_contexts
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from goodwill.errors import GoodwillError, NotAllowed, Throttled
from goodwill.web.limits import MAX_ID
from goodwill.web.rendering import render

log = logging.getLogger(__name__)

#: SQLSTATE numeric_value_out_of_range: a number too large for its column (PostgreSQL).
OUT_OF_RANGE = "22003"
#: The largest id every database holds (PostgreSQL's integer; SQLite's ids go to MAX_ID).
SMALLEST_MAX_ID = 2**31 - 1

STATUS = {
    "not_found": 404,
    "invalid": 422,
    "conflict": 409,
    "not_allowed": 403,
    "throttled": 429,
    "busy": 503,
    "config": 503,  # the instance is not set up for this (e.g. no mail.from_address)
}
_HTTP_CODES = {
    400: "invalid",
    401: "not_allowed",
    403: "not_allowed",
    404: "not_found",
    405: "invalid",
    409: "conflict",
    422: "invalid",
}


class NotAuthenticated(NotAllowed):
    """No valid credentials came with the request: 401 instead of 403 (same stable code)."""


def status_for(error: GoodwillError) -> int:
    if isinstance(error, NotAuthenticated):
        return 401
    return STATUS.get(error.code, 500)


def wants_json(request: Request) -> bool:
    if request.url.path.startswith("/api/") or request.url.path == "/healthz":
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def error_response(request: Request, status: int, body: dict[str, object]) -> Response:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if wants_json(request):
        return JSONResponse(body, status_code=status, headers=headers)
    return render(
        request, "error.html", {"status": status, "error": body}, status=status, headers=headers
    )


async def _goodwill_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, GoodwillError)
    status = status_for(exc)
    if status >= 500 and exc.code != "busy":
        log.error("unhandled %s error on %s", exc.code, request.url.path)
    response = error_response(request, status, exc.as_dict())
    if isinstance(exc, Throttled):
        response.headers["Retry-After"] = str(exc.retry_after)
    elif status == 503:
        response.headers["Retry-After"] = "1"
    return response


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "error")
    response = error_response(request, exc.status_code, {"code": code, "message": str(exc.detail)})
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    if exc.status_code == 405:
        response.headers["Allow"] = ", ".join(allowed_methods(request))
    return response


def allowed_methods(request: Request) -> list[str]:
    """Every method the resource at this path answers (Starlette names only the first route's).

    Where several templates match (``/clients/{ref:path}`` also matches ``/clients/7/erase``),
    the resource is the most specific one: the template with the most fixed text."""
    matched: dict[int, set[str]] = {}
    for route in iter_route_contexts(request.app.routes):
        regex = getattr(route, "path_regex", None)
        if route.methods and regex is not None and regex.match(request.url.path):
            fixed = len(re.sub(r"\{[^}]*\}", "", str(getattr(route, "path", ""))))
            matched.setdefault(fixed, set()).update(route.methods)
    return sorted(matched[max(matched)]) if matched else []


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = [
        {
            "field": ".".join(str(part) for part in error.get("loc", ())[1:]),
            "message": str(error.get("msg", "")),
        }
        for error in exc.errors()
    ]
    first = problems[0] if problems else {"field": "", "message": "invalid request"}
    message = f"{first['field']}: {first['message']}" if first["field"] else first["message"]
    return error_response(request, 422, {"code": "invalid", "message": message, "errors": problems})


async def _out_of_range(request: Request, exc: Exception) -> Response:
    """A number too large for the database's column (Python's OverflowError on SQLite, SQLSTATE
    22003 on PostgreSQL, whose integer ids stop at 2**31 - 1): an id in the path names no record
    (404); a number elsewhere (a query or form field) is invalid input (422). Never a 500."""
    if isinstance(exc, DataError) and getattr(exc.orig, "sqlstate", None) != OUT_OF_RANGE:
        return await _unexpected_data_error(request, exc)
    for name, value in request.path_params.items():
        text = str(value).lstrip("#")
        if text.isdigit() and (len(text) > len(str(MAX_ID)) or int(text) > SMALLEST_MAX_ID):
            body: dict[str, object] = {
                "code": "not_found",
                "message": f"no record has the {name} {value}",
            }
            return error_response(request, 404, body)
    return error_response(request, 422, {"code": "invalid", "message": "a number is out of range"})


async def _unexpected_data_error(request: Request, exc: Exception) -> Response:
    log.error("database refused a value on %s: %s", request.url.path, type(exc).__name__)
    body: dict[str, object] = {"code": "error", "message": "the database refused a value"}
    return error_response(request, 500, body)


def install(app: FastAPI) -> None:
    app.add_exception_handler(GoodwillError, _goodwill_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(OverflowError, _out_of_range)
    app.add_exception_handler(DataError, _out_of_range)
