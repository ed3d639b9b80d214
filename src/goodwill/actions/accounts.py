"""Account changes as use cases: each checks who may do it, makes the change and records it in
the audit log in the same transaction. Pages, the API and the CLI all call these."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from goodwill.domain.access import ROLES
from goodwill.domain.audit import Actor
from goodwill.errors import Conflict, InvalidInput, NotAllowed, NotFound
from goodwill.store import accounts as store
from goodwill.store.audit import record
from goodwill.store.models import StaffUser
from goodwill.store.staff import create_token, revoke_token, set_password, verify_password

log = logging.getLogger(__name__)


def check_owner(role: str, doing: str) -> None:
    if role != "owner":
        raise NotAllowed(f"only the owner can {doing}", reason="owner_only")


def _user(session: Session, user_id: int) -> StaffUser:
    user = session.get(StaffUser, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}", field="user")
    return user


def do_change_password(
    session: Session,
    actor: Actor,
    user: StaffUser,
    *,
    current: str | None,
    new: str,
    now: datetime,
    accounts: Mapping[str, Any],
) -> int:
    """Set ``user``'s password; ``current`` must match unless None (the owner's CLI). Every
    session of theirs ends; returns how many."""
    slots = int(accounts["hashing_slots"])
    if current is not None and not verify_password(user, current, slots=slots):
        raise InvalidInput("the current password is not right", field="current")
    ended = set_password(
        session, user, new, min_length=int(accounts["password_min_length"]), slots=slots
    )
    store.clear_failures(session, user.email)
    record(session, actor, "user.password_changed", at=now, object_type="user", object_id=user.id)
    log.info("staff user %s changed password; %d sessions ended", user.id, ended)
    return ended


def do_set_active(
    session: Session, actor: Actor, role: str, user_id: int, active: bool, *, now: datetime
) -> StaffUser:
    """Deactivate (every session ends, tokens stop working) or reactivate a user; owner only."""
    check_owner(role, "deactivate or reactivate users")
    user = _user(session, user_id)
    if not active and actor.user_id == user.id:
        raise Conflict("you cannot deactivate yourself: another owner can", field="user")
    before = user.active
    store.set_active(session, user, active)
    record(
        session,
        actor,
        "user.activated" if active else "user.deactivated",
        at=now,
        object_type="user",
        object_id=user.id,
        before={"active": before},
        after={"active": active},
    )
    return user


def do_set_role(
    session: Session, actor: Actor, role: str, user_id: int, new_role: str, *, now: datetime
) -> StaffUser:
    """Give a user another role; owner only, and the business always keeps an active owner."""
    check_owner(role, "change roles")
    if new_role not in ROLES:
        raise InvalidInput(f"{new_role!r} is not a role: owner, manager or staff", field="role")
    user = _user(session, user_id)
    before = user.role
    if before == "owner" and new_role != "owner":
        owners = session.execute(
            select(func.count())
            .select_from(StaffUser)
            .where(StaffUser.role == "owner", StaffUser.active)
        ).scalar_one()
        if owners <= 1 and user.active:
            raise Conflict(
                f"{user.email} is the only owner: make someone else owner first", field="role"
            )
    if before == new_role:
        return user
    user.role = new_role
    session.flush()
    record(
        session,
        actor,
        "user.role",
        at=now,
        object_type="user",
        object_id=user.id,
        before={"role": before},
        after={"role": new_role},
    )
    return user


def do_invite(
    session: Session,
    actor: Actor,
    role: str,
    *,
    email: str,
    new_role: str,
    now: datetime,
    accounts: Mapping[str, Any],
) -> str:
    """An invitation token for ``email``; owner only."""
    check_owner(role, "invite users")
    token = store.invite(
        session,
        email=email,
        role=new_role,
        by=actor.user_id,
        now=now,
        days=int(accounts["invite_days"]),
    )
    record(
        session,
        actor,
        "user.invited",
        at=now,
        object_type="user",
        after={"email": email.strip().lower(), "role": new_role},
    )
    return token


def do_reset_link(
    session: Session, actor: Actor, role: str, user_id: int, *, now: datetime
) -> tuple[StaffUser, str]:
    """A one-hour reset token for a user; owner only (anyone may ask by mail on /reset)."""
    check_owner(role, "make password reset links")
    user = _user(session, user_id)
    if not user.active:
        raise InvalidInput("the user is deactivated; reactivate them first", field="user")
    token = store.reset_link(session, user, now=now, by=actor.user_id)
    record(session, actor, "user.reset_link", at=now, object_type="user", object_id=user.id)
    return user, token


def do_create_token(
    session: Session,
    actor: Actor,
    user: StaffUser,
    *,
    label: str,
    scope: str,
    expires_at: datetime | None,
    now: datetime,
) -> str:
    token = create_token(session, user, label=label, now=now, scope=scope, expires_at=expires_at)
    record(
        session,
        actor,
        "token.created",
        at=now,
        object_type="user",
        object_id=user.id,
        after={
            "label": label,
            "scope": scope,
            "expires_at": None if expires_at is None else expires_at.isoformat(),
        },
    )
    return token


def do_revoke_token(
    session: Session, actor: Actor, user_id: int, token_id: int, *, now: datetime
) -> None:
    row = revoke_token(session, user_id, token_id)
    record(
        session,
        actor,
        "token.revoked",
        at=now,
        object_type="user",
        object_id=user_id,
        before={"token": token_id, "label": row.label},
    )


def do_end_session(
    session: Session, actor: Actor, user_id: int, session_id: int, *, now: datetime
) -> None:
    store.end_session(session, user_id, session_id)
    record(
        session,
        actor,
        "session.ended",
        at=now,
        object_type="user",
        object_id=user_id,
        detail=f"session:{session_id}",
    )
