"""How errors reach the browser and API clients: a status code and ``{"code", "message"}``.

Codes come from :mod:`goodwill.errors`; requests under ``/api/`` (or asking for JSON) get JSON,
pages get the same information as a readable HTML page.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException as StarletteHTTPException

from goodwill.errors import GoodwillError, NotAllowed
from goodwill.web.rendering import render

log = logging.getLogger(__name__)

STATUS = {
    "not_found": 404,
    "invalid": 422,
    "conflict": 409,
    "not_allowed": 403,
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
    if status >= 500:
        log.error("unhandled %s error on %s", exc.code, request.url.path)
    return error_response(request, status, exc.as_dict())


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
    """Every method some route answers at this path (Starlette names only the first route's)."""
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.routes):
        regex = getattr(route, "path_regex", None)
        if route.methods and regex is not None and regex.match(request.url.path):
            methods |= route.methods
    return sorted(methods)


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


def install(app: FastAPI) -> None:
    app.add_exception_handler(GoodwillError, _goodwill_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
