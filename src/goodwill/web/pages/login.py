"""The login form and logout, and the pages reached from a mailed link (an invitation, a password
reset): the only pages open to someone not logged in.

A login is checked against the throttle first (store/accounts.py): an account or address under
back-off or lockout gets 429 with Retry-After and its password is not even checked, so the right
password is refused during a lockout too. Every login, failure, lockout and logout is audited.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from goodwill.domain.audit import Actor
from goodwill.errors import GoodwillError, Throttled
from goodwill.store.account_mail import queue_account_mail
from goodwill.store.accounts import (
    Lockout,
    accept_invite,
    check_throttle,
    clear_failures,
    open_link,
    open_resets,
    record_failure,
    reset_link,
    use_reset,
)
from goodwill.store.audit import record
from goodwill.store.first_run import needs_owner
from goodwill.store.models import StaffUser
from goodwill.store.staff import authenticate
from goodwill.web.auth import Staff, address_of, log_in, log_out, safe_next, session_staff
from goodwill.web.pages.followups import pop_flash
from goodwill.web.rendering import render
from goodwill.web.state import Db, State, WebState

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)


@router.get("/login")
def login_form(
    request: Request,
    db: Db,
    staff: Annotated[Staff | None, Depends(session_staff)],
    next: str | None = None,
) -> Response:
    target = safe_next(next)
    if staff is not None:
        return RedirectResponse(target, status_code=303)
    if needs_owner(db):  # a new database: nobody to log in as, so make the owner first
        return RedirectResponse("/setup", status_code=303)
    return render(request, "login.html", _form(target, "", page_flash=pop_flash(request)))


def _form(target: str, email: str, **extra: object) -> dict[str, object]:
    return {
        "next": target,
        "email": email,
        "failed": False,
        "throttled": None,
        "page_flash": None,
        **extra,
    }


@router.post("/login")
def login(
    request: Request,
    db: Db,
    state: State,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    target = safe_next(next)
    address = address_of(request)
    accounts = state.settings.accounts
    now = state.now()
    try:
        check_throttle(db, email, address, now=now, accounts=accounts)
    except Throttled as exc:
        log.info("a login attempt was throttled")
        return render(
            request,
            "login.html",
            _form(target, email, throttled=exc.message),
            status=429,
            headers={"Retry-After": str(exc.retry_after)},
        )
    slots = int(accounts["hashing_slots"])
    user = authenticate(db, email, password, slots=slots) if email and password else None
    if user is None:
        log.info("a login attempt failed")
        record(
            db,
            Actor.anonymous(email.strip().lower()[:320] or "(no email)", address=address),
            "login.failed",
            at=now,
        )
        locks = record_failure(db, email, address, now=now, accounts=accounts)
        if locks:
            _tell_of_lockout(db, state, email, address, locks)
        return render(request, "login.html", _form(target, email, failed=True), status=401)
    clear_failures(db, email)
    response = RedirectResponse(target, status_code=303)
    log_in(request, response, db, state, user)
    return response


def _tell_of_lockout(
    db: Session, state: WebState, email: str, address: str | None, locks: list[Lockout]
) -> None:
    """Audit the lockout and mail the account holder and the owners (when mail is set up)."""
    now = state.now()
    user = db.execute(
        select(StaffUser).where(StaffUser.email == email.strip().lower())
    ).scalar_one_or_none()
    for lock in locks:
        kind = lock.key.split(":", 1)[0]
        record(
            db,
            Actor.anonymous(email.strip().lower()[:320] or "(no email)", address=address),
            "login.locked",
            at=now,
            object_type="user" if user is not None and kind == "account" else None,
            object_id=user.id if user is not None and kind == "account" else None,
            detail=f"{kind} locked until {lock.until.isoformat()}",
        )
    to = {str(o) for o in _owners(db)}
    if user is not None:
        to.add(user.email)
    for address_to in sorted(to):
        queue_account_mail(
            db,
            state.settings,
            to=address_to,
            subject="goodwill: logins locked after repeated failures",
            text=(
                f"Logins for {email.strip().lower()} from {address or 'an unknown address'} "
                f"failed repeatedly and are refused until {locks[0].until:%Y-%m-%d %H:%M} UTC.\n"
                "If this was not you or your staff, someone is guessing passwords: keep the "
                "password long and unusual, and look at the audit log.\n"
            ),
            key=f"lockout:{lock_key(locks)}:{address_to}",
            now=now,
        )


def lock_key(locks: list[Lockout]) -> str:
    return f"{locks[0].key}:{locks[0].until.isoformat()}"


def _owners(db: Session) -> list[str]:
    return list(
        db.execute(
            select(StaffUser.email).where(StaffUser.role == "owner", StaffUser.active.is_(True))
        ).scalars()
    )


@router.post("/logout")
def logout(request: Request, db: Db, state: State) -> Response:
    response = RedirectResponse("/login", status_code=303)
    log_out(request, response, db, state)
    return response


# --- a forgotten password ---------------------------------------------------------------------

#: At most this many live reset links a user: more requests are answered alike and mail nothing.
MAX_OPEN_RESETS = 3

_SENT = (
    "If that address belongs to an active account, a link to choose a new password is on its "
    "way; it works once, within an hour."
)


@router.get("/reset")
def reset_form(request: Request) -> Response:
    return render(request, "reset_request.html", {"sent": None})


@router.post("/reset")
def reset_request(
    request: Request, db: Db, state: State, email: Annotated[str, Form(max_length=320)] = ""
) -> Response:
    """Mail a reset link when the address is an active account; the same answer either way."""
    now = state.now()
    user = db.execute(
        select(StaffUser).where(StaffUser.email == email.strip().lower())
    ).scalar_one_or_none()
    if user is not None and user.active and open_resets(db, user.id, now=now) < MAX_OPEN_RESETS:
        token = reset_link(db, user, now=now, by=None)
        base = state.settings.public_url or str(request.base_url).rstrip("/")
        queue_account_mail(
            db,
            state.settings,
            to=user.email,
            subject="goodwill: choose a new password",
            text=(
                f"Someone asked to reset the goodwill password of {user.email}.\n\n"
                f"Choose a new one here (the link works once, within an hour):\n"
                f"{base}/reset/{token}\n\nIf it was not you, ignore this mail.\n"
            ),
            key=f"reset:{token[:16]}",
            now=now,
        )
        record(
            db,
            Actor.anonymous(user.email, address=address_of(request)),
            "user.reset_requested",
            at=now,
            object_type="user",
            object_id=user.id,
        )
    return render(request, "reset_request.html", {"sent": _SENT})


@router.get("/reset/{token}")
def reset_page(request: Request, db: Db, state: State, token: str) -> Response:
    open_link(db, token, "reset", now=state.now())
    return render(request, "set_password.html", _link_context(f"/reset/{token}", invite=False))


@router.post("/reset/{token}")
def reset_submit(
    request: Request,
    db: Db,
    state: State,
    token: str,
    password: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    accounts = state.settings.accounts
    now = state.now()
    try:
        user = use_reset(
            db,
            token,
            password=password,
            now=now,
            min_length=int(accounts["password_min_length"]),
            slots=int(accounts["hashing_slots"]),
        )
    except GoodwillError as exc:
        if exc.code == "not_found":
            raise
        context = _link_context(f"/reset/{token}", invite=False, problem=exc.message)
        return render(request, "set_password.html", context, status=422)
    record(
        db,
        Actor.user(user.id, user.email, address=address_of(request)),
        "user.password_reset",
        at=now,
        object_type="user",
        object_id=user.id,
    )
    response = RedirectResponse("/today", status_code=303)
    log_in(request, response, db, state, user)
    return response


@router.get("/invite/{token}")
def invite_page(request: Request, db: Db, state: State, token: str) -> Response:
    link = open_link(db, token, "invite", now=state.now())
    return render(
        request,
        "set_password.html",
        _link_context(f"/invite/{token}", invite=True, email=link.email),
    )


@router.post("/invite/{token}")
def invite_submit(
    request: Request,
    db: Db,
    state: State,
    token: str,
    name: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    accounts = state.settings.accounts
    now = state.now()
    link = open_link(db, token, "invite", now=now)
    try:
        user = accept_invite(
            db,
            token,
            name=name,
            password=password,
            now=now,
            min_length=int(accounts["password_min_length"]),
            slots=int(accounts["hashing_slots"]),
        )
    except GoodwillError as exc:
        if exc.code == "not_found":
            raise
        context = _link_context(
            f"/invite/{token}", invite=True, email=link.email, problem=exc.message, name=name
        )
        return render(request, "set_password.html", context, status=422)
    record(
        db,
        Actor.user(user.id, user.email, address=address_of(request)),
        "user.joined",
        at=now,
        object_type="user",
        object_id=user.id,
        after={"email": user.email, "role": user.role},
    )
    response = RedirectResponse("/today", status_code=303)
    log_in(request, response, db, state, user)
    return response


def _link_context(action: str, *, invite: bool, **extra: object) -> dict[str, object]:
    return {"action": action, "invite": invite, "problem": None, "email": "", "name": "", **extra}
