"""The token holder's own account over JSON (who am I, my tokens), and the owner's user list
with deactivate and reactivate. Changes go through actions/accounts.py, which audits them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy import select

from goodwill.actions.accounts import check_owner, do_create_token, do_revoke_token, do_set_active
from goodwill.domain.audit import Actor
from goodwill.store.models import ApiToken, StaffUser
from goodwill.store.staff import user_tokens
from goodwill.web.api.schemas import API_ERRORS, ErrorBody
from goodwill.web.auth import ApiStaff, Staff, address_of
from goodwill.web.state import Db, State

router = APIRouter(
    prefix="/api/v1",
    tags=["accounts"],
    responses={
        **API_ERRORS,
        403: {"model": ErrorBody, "description": "The token or its user may not do this."},
        503: {"model": ErrorBody, "description": "The database is busy; retry after a moment."},
    },
)


class UserOut(BaseModel):
    id: int
    email: str
    name: str
    role: str
    active: bool


class TokenOut(BaseModel):
    id: int
    label: str
    scope: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None


class TokenIn(BaseModel):
    label: Annotated[str, Field(min_length=1, max_length=200)]
    scope: Literal["read", "read-write"] = "read"
    days: Annotated[int | None, Field(ge=1, le=3650)] = None


class NewToken(TokenOut):
    token: str


def _actor(request: Request, staff: Staff) -> Actor:
    token = getattr(request.state, "api_token_id", None)
    return Actor.user(
        staff.id,
        staff.email,
        address=address_of(request),
        session_ref=None if token is None else f"token:{token}",
    )


def _token(row: ApiToken) -> TokenOut:
    return TokenOut(
        id=row.id,
        label=row.label,
        scope=row.scope,
        created_at=row.created_at,
        expires_at=row.expires_at,
        last_used_at=row.last_used_at,
    )


def _user(row: StaffUser) -> UserOut:
    return UserOut(id=row.id, email=row.email, name=row.name, role=row.role, active=row.active)


@router.get("/me", response_model=UserOut)
def me(staff: ApiStaff, db: Db) -> UserOut:
    user = db.get(StaffUser, staff.id)
    assert user is not None
    return _user(user)


@router.get("/me/tokens", response_model=list[TokenOut])
def my_tokens(staff: ApiStaff, db: Db) -> list[TokenOut]:
    return [_token(row) for row in user_tokens(db, staff.id)]


@router.post("/me/tokens", response_model=NewToken, status_code=201)
def make_token(request: Request, staff: ApiStaff, db: Db, state: State, body: TokenIn) -> NewToken:
    """A new token of yours; the secret is in this answer only."""
    user = db.get(StaffUser, staff.id)
    assert user is not None
    now = state.now()
    expires = None if body.days is None else now + timedelta(days=body.days)
    secret = do_create_token(
        db,
        _actor(request, staff),
        user,
        label=body.label,
        scope=body.scope,
        expires_at=expires,
        now=now,
    )
    row = user_tokens(db, staff.id)[-1]
    return NewToken(token=secret, **_token(row).model_dump())


@router.delete(
    "/me/tokens/{token_id}",
    status_code=204,
    responses={404: {"model": ErrorBody, "description": "No such token of yours."}},
)
def revoke(request: Request, staff: ApiStaff, db: Db, state: State, token_id: int) -> None:
    do_revoke_token(db, _actor(request, staff), staff.id, token_id, now=state.now())


@router.get("/users", response_model=list[UserOut])
def users(staff: ApiStaff, db: Db) -> list[UserOut]:
    """Every staff user (owner only)."""
    check_owner(staff.role, "list users")
    return [_user(u) for u in db.execute(select(StaffUser).order_by(StaffUser.email)).scalars()]


@router.post(
    "/users/{user_id}/{change}",
    response_model=UserOut,
    responses={
        404: {"model": ErrorBody, "description": "No such user."},
        409: {"model": ErrorBody, "description": "An owner cannot deactivate themselves."},
    },
)
def change_user(
    request: Request,
    staff: ApiStaff,
    db: Db,
    state: State,
    user_id: int,
    change: Literal["deactivate", "activate"],
) -> UserOut:
    """Deactivate (every session and token stops working) or reactivate a user (owner only)."""
    user = do_set_active(
        db, _actor(request, staff), staff.role, user_id, change == "activate", now=state.now()
    )
    return _user(user)
