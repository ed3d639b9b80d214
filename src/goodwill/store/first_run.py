"""The first run: whether the owner's account is still to be made, and the one-time setup code.

A setup code is an account link (the ``account_links`` table) with purpose ``setup``: only its
SHA-256 is kept, it works once and for :data:`SETUP_HOURS`, and a new one (each start of
``goodwill serve`` while no one has an account) replaces any earlier one. Sixteen letters and
digits from an alphabet without look-alikes (no I, L, O, U) carry 80 random bits, so guessing one
within a day is out of reach without a lockout.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from goodwill.store.accounts import digest
from goodwill.store.models import AccountLink, StaffUser

log = logging.getLogger(__name__)

SETUP_HOURS = 24
PURPOSE = "setup"
#: Crockford's base 32: no I, L, O or U, so a code read aloud or copied by hand survives.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 16


def needs_owner(session: Session) -> bool:
    """True while nobody has an account at all (a deactivated one counts: someone set it up)."""
    return session.execute(select(StaffUser.id).limit(1)).first() is None


def normalise_code(code: str) -> str:
    """A code as typed (lower case, spaces, dashes) in the form it was made in."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def new_setup_code(session: Session, *, now: datetime) -> str:
    """A fresh setup code, shown once (``ABCD-EFGH-JKMN-PQRS``); earlier unused ones stop."""
    session.execute(
        delete(AccountLink).where(AccountLink.purpose == PURPOSE, AccountLink.used_at.is_(None))
    )
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    session.add(
        AccountLink(
            purpose=PURPOSE,
            token_hash=digest(raw),
            email="",
            role="owner",
            created_at=now,
            expires_at=now + timedelta(hours=SETUP_HOURS),
        )
    )
    session.flush()
    log.info("a setup code was made, valid for %d hours", SETUP_HOURS)
    return "-".join(raw[i : i + 4] for i in range(0, CODE_LENGTH, 4))


def spend_setup_code(session: Session, code: str, *, now: datetime) -> bool:
    """Mark the code used if it is known, unused and unexpired; whether it was (once only, even
    when two requests race: the update matches one row at most once)."""
    result = session.execute(
        update(AccountLink)
        .where(
            AccountLink.token_hash == digest(normalise_code(code)),
            AccountLink.purpose == PURPOSE,
            AccountLink.used_at.is_(None),
            AccountLink.expires_at > now,
        )
        .values(used_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0) == 1
