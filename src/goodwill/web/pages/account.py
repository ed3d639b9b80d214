"""Everyone's account page (password, sessions, API tokens) and the owner's users page (invite,
deactivate, reactivate, reset links). Changes go through actions/accounts.py, which audits them."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from goodwill.actions.accounts import (
    check_owner,
    do_change_password,
    do_create_token,
    do_end_session,
    do_invite,
    do_reset_link,
    do_revoke_token,
    do_set_active,
    do_set_role,
)
from goodwill.errors import GoodwillError, NotFound
from goodwill.store.account_mail import queue_account_mail
from goodwill.store.accounts import user_sessions
from goodwill.store.models import StaffUser
from goodwill.store.staff import user_tokens
from goodwill.web.auth import PageStaff, actor
from goodwill.web.pages.followups import FLASH_KEY, pop_flash
from goodwill.web.rendering import render
from goodwill.web.state import Db, State

router = APIRouter(include_in_schema=False)


def _base(request: Request, state: State) -> str:
    return state.settings.public_url or str(request.base_url).rstrip("/")


@router.get("/account")
def account_page(request: Request, db: Db, staff: PageStaff) -> Response:
    return _account(request, db, staff)


def _account(
    request: Request, db: Db, staff: PageStaff, *, problem: str | None = None, status: int = 200
) -> Response:
    context = {
        "section": "account",
        "page_flash": pop_flash(request),
        "problem": problem,
        "sessions": user_sessions(db, staff.id),
        "current_session": getattr(request.state, "web_session_id", None),
        "tokens": user_tokens(db, staff.id),
        "new_token": request.session.pop("new_token", None),
        "min_length": 10,
    }
    return render(request, "account.html", context, status=status)


@router.post("/account/password")
def change_password(
    request: Request,
    db: Db,
    state: State,
    staff: PageStaff,
    current: Annotated[str, Form(max_length=1000)] = "",
    new: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    user = db.get(StaffUser, staff.id)
    assert user is not None
    try:
        do_change_password(
            db,
            actor(request, staff),
            user,
            current=current,
            new=new,
            now=state.now(),
            accounts=state.settings.accounts,
        )
    except GoodwillError as exc:
        if exc.code == "busy":
            raise
        return _account(request, db, staff, problem=exc.message, status=422)
    request.session[FLASH_KEY] = "Password changed: every session ended; log in again."
    return RedirectResponse("/login", status_code=303)


@router.post("/account/sessions/{session_id}/end")
def end_session(
    request: Request, db: Db, state: State, staff: PageStaff, session_id: int
) -> Response:
    do_end_session(db, actor(request, staff), staff.id, session_id, now=state.now())
    request.session[FLASH_KEY] = "Session ended."
    return RedirectResponse("/account", status_code=303)


@router.post("/account/tokens")
def new_token(
    request: Request,
    db: Db,
    state: State,
    staff: PageStaff,
    label: Annotated[str, Form(max_length=200)] = "",
    scope: Annotated[str, Form(max_length=20)] = "read",
    days: Annotated[int | None, Form(ge=1, le=3650)] = None,
) -> Response:
    user = db.get(StaffUser, staff.id)
    assert user is not None
    now = state.now()
    try:
        token = do_create_token(
            db,
            actor(request, staff),
            user,
            label=label,
            scope=scope,
            expires_at=None if days is None else now + timedelta(days=days),
            now=now,
        )
    except GoodwillError as exc:
        return _account(request, db, staff, problem=exc.message, status=422)
    request.session["new_token"] = token
    return RedirectResponse("/account", status_code=303)


@router.post("/account/tokens/{token_id}/revoke")
def revoke(request: Request, db: Db, state: State, staff: PageStaff, token_id: int) -> Response:
    do_revoke_token(db, actor(request, staff), staff.id, token_id, now=state.now())
    request.session[FLASH_KEY] = "Token revoked: it no longer opens the API."
    return RedirectResponse("/account", status_code=303)


@router.get("/users")
def users_page(request: Request, db: Db, staff: PageStaff) -> Response:
    check_owner(staff.role, "manage users")
    return _users(request, db)


def _users(request: Request, db: Db, *, problem: str | None = None, status: int = 200) -> Response:
    users = list(db.execute(select(StaffUser).order_by(StaffUser.email)).scalars())
    context = {
        "section": "users",
        "users": users,
        "page_flash": pop_flash(request),
        "link": request.session.pop("account_link", None),
        "problem": problem,
    }
    return render(request, "users.html", context, status=status)


@router.post("/users/invite")
def invite(
    request: Request,
    db: Db,
    state: State,
    staff: PageStaff,
    email: Annotated[str, Form(max_length=320)] = "",
    role: Annotated[str, Form(max_length=20)] = "staff",
) -> Response:
    try:
        token = do_invite(
            db,
            actor(request, staff),
            staff.role,
            email=email,
            new_role=role,
            now=state.now(),
            accounts=state.settings.accounts,
        )
    except GoodwillError as exc:
        if exc.code == "not_allowed":
            raise
        return _users(request, db, problem=exc.message, status=422)
    address = email.strip().lower()
    link = f"{_base(request, state)}/invite/{token}"
    days = int(state.settings.accounts["invite_days"])
    mailed = queue_account_mail(
        db,
        state.settings,
        to=address,
        subject=f"{_business(state)}: your invitation to goodwill",
        text=(
            f"{staff.name or staff.email} invited you to goodwill, where {_business(state)} "
            f"keeps its clients' care.\n\nChoose your password here (the link works once, "
            f"for {days} days):\n{link}\n"
        ),
        key=f"invite:{token[:16]}",
        now=state.now(),
    )
    request.session["account_link"] = link
    request.session[FLASH_KEY] = (
        f"Invitation mailed to {address}; the link is also here to hand over:"
        if mailed
        else f"Invitation made for {address}: mail is not set up, so send them the link."
    )
    return RedirectResponse("/users", status_code=303)


def _business(state: State) -> str:
    return state.settings.business_name or "Your business"


@router.post("/users/{user_id}/{change}")
def change_user(
    request: Request,
    db: Db,
    state: State,
    staff: PageStaff,
    user_id: int,
    change: str,
    role: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    now = state.now()
    who = actor(request, staff)
    if change == "role":
        try:
            user = do_set_role(db, who, staff.role, user_id, role, now=now)
        except GoodwillError as exc:
            if exc.code in ("not_allowed", "not_found"):
                raise
            db.rollback()
            return _users(request, db, problem=exc.message, status=422)
        request.session[FLASH_KEY] = f"{user.email} is now {user.role}."
    elif change in ("deactivate", "activate"):
        user = do_set_active(db, who, staff.role, user_id, change == "activate", now=now)
        done = "reactivated" if user.active else "deactivated: every session of theirs ended"
        request.session[FLASH_KEY] = f"{user.email} {done}."
    elif change == "reset-link":
        user, token = do_reset_link(db, who, staff.role, user_id, now=now)
        request.session["account_link"] = f"{_base(request, state)}/reset/{token}"
        request.session[FLASH_KEY] = f"Reset link for {user.email} (one use, within an hour):"
    else:
        raise NotFound(f"no user change {change!r}", field="change")
    return RedirectResponse("/users", status_code=303)
