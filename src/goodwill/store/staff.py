"""Staff users: passwords hashed with Argon2, API tokens stored only as their SHA-256."""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from goodwill.domain.access import ROLES
from goodwill.domain.passwords import password_problem
from goodwill.errors import Busy, Conflict, InvalidInput, NotFound
from goodwill.store.models import ApiToken, StaffUser, WebSession

_T = TypeVar("_T")

SCOPES = ("read", "read-write")
MIN_PASSWORD = 10
_hasher = PasswordHasher()

#: Argon2 takes 64 MiB a hash: at most this many run at once in a process (hashing_slots).
HASHING_SLOTS = 4
#: How long a password check waits for a slot before the request is answered 503.
HASHING_WAIT_SECONDS = 2.0
_gates: dict[int, threading.BoundedSemaphore] = {}
_gates_lock = threading.Lock()


def _gate(slots: int) -> threading.BoundedSemaphore:
    with _gates_lock:
        gate = _gates.get(slots)
        if gate is None:
            gate = _gates[slots] = threading.BoundedSemaphore(slots)
        return gate


def _hash_work(slots: int, work: Callable[[], _T]) -> _T:
    """Run one Argon2 hash or verification inside the bounded gate; Busy when it stays full."""
    gate = _gate(slots)
    if not gate.acquire(timeout=HASHING_WAIT_SECONDS):
        raise Busy("too many logins at once; try again in a moment")
    try:
        return work()
    finally:
        gate.release()


def check_password(password: str, *, min_length: int = MIN_PASSWORD) -> None:
    """Refuse a password that is too short, blank or common (InvalidInput on field password)."""
    problem = password_problem(password, min_length=min_length)
    if problem is not None:
        raise InvalidInput(problem, field="password")


def add_user(
    session: Session,
    *,
    email: str,
    name: str,
    role: str,
    password: str,
    now: datetime,
    hometown: str | None = None,
    min_length: int = MIN_PASSWORD,
    slots: int = HASHING_SLOTS,
) -> StaffUser:
    email = email.strip().lower()
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}", field="role")
    if "@" not in email:
        raise InvalidInput(f"{email!r} is not an email address", field="email")
    check_password(password, min_length=min_length)
    if session.execute(select(StaffUser).where(StaffUser.email == email)).first():
        raise Conflict(f"a user with email {email} already exists", field="email")
    user = StaffUser(
        email=email,
        name=name.strip() or email,
        role=role,
        hometown=hometown,
        password_hash=_hash_work(slots, lambda: _hasher.hash(password)),
        active=True,
        created_at=now,
    )
    session.add(user)
    session.flush()
    return user


def set_password(
    session: Session,
    user: StaffUser,
    password: str,
    *,
    min_length: int = MIN_PASSWORD,
    slots: int = HASHING_SLOTS,
) -> int:
    """A new password for ``user``; every session they had ends. Returns how many ended."""
    check_password(password, min_length=min_length)
    user.password_hash = _hash_work(slots, lambda: _hasher.hash(password))
    return end_sessions(session, user.id)


def end_sessions(session: Session, user_id: int, *, keep: int | None = None) -> int:
    """Delete the user's web sessions (all, or all but ``keep``); how many were deleted."""
    query = delete(WebSession).where(WebSession.user_id == user_id)
    if keep is not None:
        query = query.where(WebSession.id != keep)
    result = session.execute(query)
    session.flush()
    return int(getattr(result, "rowcount", 0) or 0)


def verify_password(user: StaffUser, password: str, *, slots: int = HASHING_SLOTS) -> bool:
    def check() -> bool:
        try:
            return bool(_hasher.verify(user.password_hash, password))
        except (VerificationError, InvalidHashError):
            return False

    return _hash_work(slots, check)


def user_by_email(session: Session, email: str) -> StaffUser:
    user = session.execute(
        select(StaffUser).where(StaffUser.email == email.strip().lower())
    ).scalar_one_or_none()
    if user is None:
        raise NotFound(f"no user with email {email!r}", field="email")
    return user


def authenticate(
    session: Session, email: str, password: str, *, slots: int = HASHING_SLOTS
) -> StaffUser | None:
    """The active user with these credentials, or None (same answer for unknown and wrong)."""
    user = session.execute(
        select(StaffUser).where(StaffUser.email == email.strip().lower())
    ).scalar_one_or_none()
    if user is None or not user.active:
        _hash_work(slots, lambda: _hasher.hash(password))  # spend the same time as a real check
        return None
    return user if verify_password(user, password, slots=slots) else None


def create_token(
    session: Session,
    user: StaffUser,
    *,
    label: str,
    now: datetime,
    scope: str = "read-write",
    expires_at: datetime | None = None,
) -> str:
    """A new API token; only its hash is kept, so this is the one time it can be shown."""
    if scope not in SCOPES:
        raise InvalidInput(f"scope must be one of {', '.join(SCOPES)}", field="scope")
    if expires_at is not None and expires_at <= now:
        raise InvalidInput("a token's expiry must be in the future", field="expires_at")
    if not label.strip():
        raise InvalidInput("a token needs a name", field="label")
    token = "gw_" + secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            user_id=user.id,
            token_hash=_digest(token),
            label=label.strip()[:200],
            created_at=now,
            scope=scope,
            expires_at=expires_at,
        )
    )
    session.flush()
    return token


def token_row(session: Session, token: str, *, now: datetime | None = None) -> ApiToken | None:
    """The live token row: its user active and, when ``now`` is given, not expired."""
    row = session.execute(
        select(ApiToken).where(ApiToken.token_hash == _digest(token))
    ).scalar_one_or_none()
    if row is None or not row.user.active:
        return None
    if now is not None and row.expires_at is not None and row.expires_at <= now:
        return None
    return row


def touch_token(session: Session, token_id: int, *, now: datetime) -> None:
    """Set a token's last use (callers do it at most once a minute, in its own transaction)."""
    session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))


def user_for_token(session: Session, token: str) -> StaffUser | None:
    row = token_row(session, token)
    return None if row is None else row.user


def user_tokens(session: Session, user_id: int) -> list[ApiToken]:
    return list(
        session.execute(
            select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id)
        ).scalars()
    )


def revoke_token(session: Session, user_id: int, token_id: int) -> ApiToken:
    """Delete one of the user's tokens (NotFound when it is not theirs)."""
    row = session.get(ApiToken, token_id)
    if row is None or row.user_id != user_id:
        raise NotFound(f"no token {token_id} of this user", field="token")
    session.delete(row)
    session.flush()
    return row


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
