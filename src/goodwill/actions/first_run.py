"""Making the owner's account on a database nobody has an account on yet (the first run).

Only someone at the machine goodwill runs on, or holding the setup code ``goodwill serve``
printed, may do it, and only once: as soon as any account exists there is nothing to set up.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from goodwill.domain.audit import Actor
from goodwill.errors import InvalidInput, NotAllowed, NotFound
from goodwill.store.audit import record
from goodwill.store.first_run import needs_owner, spend_setup_code
from goodwill.store.models import StaffUser
from goodwill.store.staff import add_user

log = logging.getLogger(__name__)

#: How someone not at the machine gets in, said wherever they are refused.
HOW_TO_GET_A_CODE = (
    "Setting up goodwill is open only from the machine it runs on, or with the setup code that "
    "goodwill serve prints when it starts while nobody has an account. Restart it to get a "
    "new code (each code works once, for 24 hours)."
)
ALREADY_SET_UP = "goodwill is already set up: log in, or ask the owner for an invitation"


def check_may_set_up(
    session: Session, *, from_this_machine: bool, code: str | None, now: datetime
) -> None:
    """Refuse unless nobody has an account and the request is local or brings a live code (which
    this spends: call it in the transaction that makes the owner)."""
    if not needs_owner(session):
        raise NotFound(ALREADY_SET_UP)
    if from_this_machine:
        return
    if not code or not code.strip():
        raise NotAllowed(HOW_TO_GET_A_CODE, reason="setup_code", field="code")
    if not spend_setup_code(session, code, now=now):
        raise NotAllowed(
            "That setup code is unknown, used or more than 24 hours old. " + HOW_TO_GET_A_CODE,
            reason="setup_code",
            field="code",
        )


def do_create_owner(
    session: Session,
    *,
    name: str,
    email: str,
    password: str,
    from_this_machine: bool,
    code: str | None,
    address: str | None,
    now: datetime,
    accounts: Mapping[str, Any],
) -> StaffUser:
    """The first owner, with the password rules of every account; audited as done by "setup"."""
    check_may_set_up(session, from_this_machine=from_this_machine, code=code, now=now)
    if not name.strip():
        raise InvalidInput("tell us your name", field="name")
    user = add_user(
        session,
        email=email,
        name=name,
        role="owner",
        password=password,
        now=now,
        min_length=int(accounts["password_min_length"]),
        slots=int(accounts["hashing_slots"]),
    )
    record(
        session,
        Actor.anonymous("setup", address=address),
        "user.created",
        at=now,
        object_type="user",
        object_id=user.id,
        after={"email": user.email, "role": user.role},
        detail="from this machine" if from_this_machine else "with the setup code",
    )
    log.info("the owner's account %s was made at setup", user.id)
    return user
