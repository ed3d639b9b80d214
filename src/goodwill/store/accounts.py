"""Logins and account links: server-side sessions, the failed-login counters, invitations and
password resets. Every secret handed out (a session id, a link token) is kept only as its SHA-256.

Throttling is a small table rather than process memory so that every ``--workers`` process sees
the same counts: an account is locked after ``lockout_failures`` failures in a row, an address
after ``address_failures``; between failures a back-off of 2**(n-3) seconds (from the third on,
capped at the lockout) answers 429 before any password is checked.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from goodwill.domain.access import ROLES
from goodwill.errors import Conflict, InvalidInput, NotFound, Throttled
from goodwill.store.models import AccountLink, LoginThrottle, StaffUser, WebSession
from goodwill.store.staff import HASHING_SLOTS, add_user, set_password

log = logging.getLogger(__name__)

RESET_HOURS = 1


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


# --- sessions ---------------------------------------------------------------------------------


def open_session(
    session: Session,
    user: StaffUser,
    *,
    now: datetime,
    address: str | None = None,
    user_agent: str | None = None,
) -> tuple[str, WebSession]:
    """A new session for ``user``: the random id for the cookie (shown once) and its row."""
    secret = secrets.token_urlsafe(32)
    row = WebSession(
        user_id=user.id,
        id_hash=digest(secret),
        created_at=now,
        last_seen_at=now,
        address=(address or None) and address[:64],
        user_agent=(user_agent or None) and user_agent[:300],
    )
    session.add(row)
    session.flush()
    log.info("session %s opened for staff user %s", row.id, user.id)
    return secret, row


def live_session(
    session: Session, secret: str, *, now: datetime, accounts: Mapping[str, Any]
) -> WebSession | None:
    """The session this cookie names, if it is live: not idle too long, not too old, its user
    active. A dead one is deleted. The caller moves the last-seen time on (touch_session)."""
    if not secret:
        return None
    row = session.execute(
        select(WebSession).where(WebSession.id_hash == digest(secret))
    ).scalar_one_or_none()
    if row is None:
        return None
    idle = timedelta(minutes=int(accounts["session_idle_minutes"]))
    lifetime = timedelta(days=int(accounts["session_days"]))
    user = session.get(StaffUser, row.user_id)
    if (
        user is None
        or not user.active
        or now - row.last_seen_at >= idle
        or now - row.created_at >= lifetime
    ):
        session.delete(row)
        session.flush()
        return None
    return row


def touch_session(session: Session, session_id: int, *, now: datetime) -> None:
    """Move a session's last-seen time to ``now`` (callers do it at most once a minute, in a
    transaction of its own so a request never holds a write lock just for being seen)."""
    session.execute(update(WebSession).where(WebSession.id == session_id).values(last_seen_at=now))


def purge_expired(session: Session, *, now: datetime, accounts: Mapping[str, Any]) -> int:
    """Delete every session past its idle timeout or lifetime, and failure counts a day old
    with no lockout running (called at each login, so neither table grows without bound)."""
    idle = now - timedelta(minutes=int(accounts["session_idle_minutes"]))
    born = now - timedelta(days=int(accounts["session_days"]))
    gone = session.execute(
        delete(WebSession).where((WebSession.last_seen_at < idle) | (WebSession.created_at < born))
    )
    session.execute(
        delete(LoginThrottle).where(
            LoginThrottle.last_failed_at < now - timedelta(days=1),
            (LoginThrottle.locked_until.is_(None)) | (LoginThrottle.locked_until < now),
        )
    )
    return int(getattr(gone, "rowcount", 0) or 0)


def close_session(session: Session, secret: str) -> WebSession | None:
    """Delete the session this cookie names (logout); the row deleted, or None."""
    row = session.execute(
        select(WebSession).where(WebSession.id_hash == digest(secret))
    ).scalar_one_or_none()
    if row is not None:
        session.delete(row)
        session.flush()
    return row


def user_sessions(session: Session, user_id: int) -> list[WebSession]:
    return list(
        session.execute(
            select(WebSession)
            .where(WebSession.user_id == user_id)
            .order_by(WebSession.last_seen_at.desc())
        ).scalars()
    )


def end_session(session: Session, user_id: int, session_id: int) -> WebSession:
    """End one of the user's sessions by its row id (NotFound when it is not theirs)."""
    row = session.get(WebSession, session_id)
    if row is None or row.user_id != user_id:
        raise NotFound(f"no session {session_id} of this user", field="session")
    session.delete(row)
    session.flush()
    return row


def set_active(session: Session, user: StaffUser, active: bool) -> None:
    """Deactivate (ending every session) or reactivate a user."""
    user.active = active
    if not active:
        session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    session.flush()


# --- throttling -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lockout:
    """A key that just became locked (to tell its owner)."""

    key: str
    until: datetime


#: Behind a reverse proxy every request comes from it: counting its address would lock everyone.
_LOOPBACK = ("127.", "::1", "localhost")


def _keys(email: str, address: str | None) -> list[tuple[str, str]]:
    keys = [("account", "account:" + email.strip().lower()[:320])]
    if address and not address.startswith(_LOOPBACK):
        keys.append(("address", "address:" + address[:64]))
    return keys


def _limit(kind: str, accounts: Mapping[str, Any]) -> int:
    return int(accounts["lockout_failures" if kind == "account" else "address_failures"])


def check_throttle(
    session: Session,
    email: str,
    address: str | None,
    *,
    now: datetime,
    accounts: Mapping[str, Any],
) -> None:
    """Raise Throttled (with the seconds to wait) when this account or address may not try now."""
    lock = timedelta(minutes=int(accounts["lockout_minutes"]))
    for kind, key in _keys(email, address):
        row = session.get(LoginThrottle, key)
        if row is None:
            continue
        if row.locked_until is not None and row.locked_until > now:
            wait = int((row.locked_until - now).total_seconds()) + 1
            raise Throttled(
                f"too many failed logins for this {kind}; try again in {wait // 60 + 1} minutes",
                retry_after=wait,
            )
        if row.locked_until is None and row.failures >= 3:
            ready = row.last_failed_at + min(timedelta(seconds=2 ** (row.failures - 3)), lock)
            if ready > now:
                wait = int((ready - now).total_seconds()) + 1
                raise Throttled(f"too many failed logins; wait {wait} seconds", retry_after=wait)


def record_failure(
    session: Session,
    email: str,
    address: str | None,
    *,
    now: datetime,
    accounts: Mapping[str, Any],
) -> list[Lockout]:
    """Count one failed login against the account and the address; the keys that became locked."""
    lock = timedelta(minutes=int(accounts["lockout_minutes"]))
    locked = []
    for kind, key in _keys(email, address):
        row = session.get(LoginThrottle, key)
        if row is None:
            row = LoginThrottle(key=key, failures=0, last_failed_at=now)
            session.add(row)
        elif row.locked_until is not None and row.locked_until <= now:
            row.failures, row.locked_until = 0, None  # the lockout served; count afresh
        row.failures += 1
        row.last_failed_at = now
        if row.locked_until is None and row.failures >= _limit(kind, accounts):
            row.locked_until = now + lock
            locked.append(Lockout(key=key, until=row.locked_until))
            log.warning("login locked for a %s until %s", kind, row.locked_until.isoformat())
    session.flush()
    return locked


def clear_failures(session: Session, email: str) -> None:
    """A successful login forgives the account's failures (the address keeps its count)."""
    session.execute(delete(LoginThrottle).where(LoginThrottle.key == _keys(email, None)[0][1]))


# --- invitation and reset links ---------------------------------------------------------------


def _new_link(session: Session, **fields: Any) -> str:
    secret = secrets.token_urlsafe(32)
    session.add(AccountLink(token_hash=digest(secret), **fields))
    session.flush()
    return secret


def invite(
    session: Session,
    *,
    email: str,
    role: str,
    by: int | None,
    now: datetime,
    days: int,
) -> str:
    """A single-use invitation for ``email`` valid ``days``; the token for the link."""
    email = email.strip().lower()
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}", field="role")
    if "@" not in email:
        raise InvalidInput(f"{email!r} is not an email address", field="email")
    if session.execute(select(StaffUser.id).where(StaffUser.email == email)).first():
        raise Conflict(f"a user with email {email} already exists", field="email")
    return _new_link(
        session,
        purpose="invite",
        email=email,
        role=role,
        created_by=by,
        created_at=now,
        expires_at=now + timedelta(days=days),
    )


def reset_link(session: Session, user: StaffUser, *, now: datetime, by: int | None) -> str:
    """A single-use password reset for ``user``, valid one hour; the token for the link."""
    return _new_link(
        session,
        purpose="reset",
        email=user.email,
        user_id=user.id,
        created_by=by,
        created_at=now,
        expires_at=now + timedelta(hours=RESET_HOURS),
    )


def open_resets(session: Session, user_id: int, *, now: datetime) -> int:
    """How many unused, unexpired reset links the user has (to stop mail-bombing by /reset)."""
    rows = session.execute(
        select(AccountLink.id).where(
            AccountLink.user_id == user_id,
            AccountLink.purpose == "reset",
            AccountLink.used_at.is_(None),
            AccountLink.expires_at > now,
        )
    ).all()
    return len(rows)


def open_link(session: Session, token: str, purpose: str, *, now: datetime) -> AccountLink:
    """The unused, unexpired link for this token (NotFound otherwise, one message for all)."""
    row = session.execute(
        select(AccountLink).where(AccountLink.token_hash == digest(token))
    ).scalar_one_or_none()
    if row is None or row.purpose != purpose or row.used_at is not None or row.expires_at <= now:
        raise NotFound("this link is unknown, used or expired; ask for a new one", field="token")
    return row


def accept_invite(
    session: Session,
    token: str,
    *,
    name: str,
    password: str,
    now: datetime,
    min_length: int,
    slots: int = HASHING_SLOTS,
) -> StaffUser:
    """Spend an invitation: the new user, with the name and password they chose."""
    link = open_link(session, token, "invite", now=now)
    if not name.strip():
        raise InvalidInput("tell us your name", field="name")
    user = add_user(
        session,
        email=link.email,
        name=name,
        role=link.role or "staff",
        password=password,
        now=now,
        min_length=min_length,
        slots=slots,
    )
    link.used_at = now
    link.user_id = user.id
    session.flush()
    return user


def use_reset(
    session: Session,
    token: str,
    *,
    password: str,
    now: datetime,
    min_length: int,
    slots: int = HASHING_SLOTS,
) -> StaffUser:
    """Spend a reset link: the user's new password (every session of theirs ends)."""
    link = open_link(session, token, "reset", now=now)
    user = session.get(StaffUser, link.user_id) if link.user_id is not None else None
    if user is None or not user.active:
        raise NotFound("this link is unknown, used or expired; ask for a new one", field="token")
    set_password(session, user, password, min_length=min_length, slots=slots)
    link.used_at = now
    session.execute(delete(LoginThrottle).where(LoginThrottle.key == "account:" + user.email))
    session.flush()
    return user
