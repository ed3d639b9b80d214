"""Staff users: passwords hashed with Argon2, API tokens stored only as their SHA-256."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from goodwill.domain.access import ROLES
from goodwill.errors import Conflict, InvalidInput, NotFound
from goodwill.store.models import ApiToken, StaffUser

_hasher = PasswordHasher()


def add_user(
    session: Session,
    *,
    email: str,
    name: str,
    role: str,
    password: str,
    now: datetime,
    hometown: str | None = None,
) -> StaffUser:
    email = email.strip().lower()
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}", field="role")
    if "@" not in email:
        raise InvalidInput(f"{email!r} is not an email address", field="email")
    if len(password) < 8:
        raise InvalidInput("a password needs at least 8 characters", field="password")
    if session.execute(select(StaffUser).where(StaffUser.email == email)).first():
        raise Conflict(f"a user with email {email} already exists", field="email")
    user = StaffUser(
        email=email,
        name=name.strip() or email,
        role=role,
        hometown=hometown,
        password_hash=_hasher.hash(password),
        active=True,
        created_at=now,
    )
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, user: StaffUser, password: str) -> None:
    if len(password) < 8:
        raise InvalidInput("a password needs at least 8 characters", field="password")
    user.password_hash = _hasher.hash(password)


def user_by_email(session: Session, email: str) -> StaffUser:
    user = session.execute(
        select(StaffUser).where(StaffUser.email == email.strip().lower())
    ).scalar_one_or_none()
    if user is None:
        raise NotFound(f"no user with email {email!r}", field="email")
    return user


def authenticate(session: Session, email: str, password: str) -> StaffUser | None:
    """The active user with these credentials, or None (same answer for unknown and wrong)."""
    user = session.execute(
        select(StaffUser).where(StaffUser.email == email.strip().lower())
    ).scalar_one_or_none()
    if user is None or not user.active:
        _hasher.hash(password)  # spend the same time as a real check
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    return user


def create_token(session: Session, user: StaffUser, *, label: str, now: datetime) -> str:
    """A new API token; only its hash is kept, so this is the one time it can be shown."""
    token = "gw_" + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_hash=_digest(token), label=label, created_at=now))
    session.flush()
    return token


def user_for_token(session: Session, token: str) -> StaffUser | None:
    row = session.execute(
        select(ApiToken).where(ApiToken.token_hash == _digest(token))
    ).scalar_one_or_none()
    if row is None or not row.user.active:
        return None
    return row.user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_calendar_token(session: Session, user: StaffUser) -> str:
    """A new secret for the user's calendar-feed URL, revoking the old one.

    Only its SHA-256 is kept (like API tokens), so this is the one time it can be shown.
    """
    token = secrets.token_urlsafe(24)
    user.calendar_token = _digest(token)
    session.flush()
    return token


def has_calendar(user: StaffUser) -> bool:
    return user.calendar_token is not None


def user_for_calendar_token(session: Session, token: str) -> StaffUser | None:
    if not token:
        return None
    user = session.execute(
        select(StaffUser).where(StaffUser.calendar_token == _digest(token))
    ).scalar_one_or_none()
    return user if user is not None and user.active else None


def active_staff(session: Session) -> list[StaffUser]:
    """Who can be given a follow-up, by name."""
    return list(
        session.execute(
            select(StaffUser).where(StaffUser.active.is_(True)).order_by(StaffUser.name)
        ).scalars()
    )
