"""The login form and logout: the only pages open to someone not logged in."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from goodwill.store.staff import authenticate
from goodwill.web.auth import Staff, log_in, log_out, safe_next, session_staff
from goodwill.web.rendering import render
from goodwill.web.state import Db

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)


@router.get("/login")
def login_form(
    request: Request,
    staff: Annotated[Staff | None, Depends(session_staff)],
    next: str | None = None,
) -> Response:
    target = safe_next(next)
    if staff is not None:
        return RedirectResponse(target, status_code=303)
    return render(request, "login.html", {"next": target, "email": "", "failed": False})


@router.post("/login")
def login(
    request: Request,
    db: Db,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    target = safe_next(next)
    user = authenticate(db, email, password) if email and password else None
    if user is None:
        log.info("a login attempt failed")
        return render(
            request, "login.html", {"next": target, "email": email, "failed": True}, status=401
        )
    log_in(request, user)
    return RedirectResponse(target, status_code=303)


@router.post("/logout")
def logout(request: Request) -> Response:
    log_out(request)
    return RedirectResponse("/login", status_code=303)
