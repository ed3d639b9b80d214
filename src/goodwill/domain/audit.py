"""Who did something, and what changed: the pure half of the audit log (store/audit.py writes it).

An actor is a staff user (with the address and session they acted from), the engine, an import,
or nobody yet (a failed login). A change is kept as the fields that differ, before and after, so
an entry says what moved without copying the whole record.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

ACTOR_KINDS = ("user", "engine", "import", "cli", "anonymous")


@dataclass(frozen=True)
class Actor:
    """Who acts. ``label`` is what the log shows (an email for a user, "engine", a file name)."""

    kind: str
    label: str
    user_id: int | None = None
    address: str | None = None
    session_ref: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in ACTOR_KINDS:
            raise ValueError(f"actor kind must be one of {', '.join(ACTOR_KINDS)}")

    @classmethod
    def user(
        cls,
        user_id: int,
        email: str,
        *,
        address: str | None = None,
        session_ref: str | None = None,
    ) -> Actor:
        return cls("user", email, user_id=user_id, address=address, session_ref=session_ref)

    @classmethod
    def engine(cls) -> Actor:
        return cls("engine", "engine")

    @classmethod
    def cli(cls, os_user: str | None = None) -> Actor:
        """Whoever runs a ``goodwill`` command on the machine, named by their login there."""
        if os_user is None:
            import getpass

            try:
                os_user = getpass.getuser()
            except (KeyError, OSError):
                os_user = "unknown"
        return cls("cli", f"command line ({os_user})")

    @classmethod
    def importer(cls, file_name: str) -> Actor:
        """An import with no one behind it (the demo, a test): named by its file."""
        return cls("import", file_name)

    @classmethod
    def anonymous(cls, label: str, *, address: str | None = None) -> Actor:
        """Someone not (yet) known: a failed login names the email they tried."""
        return cls("anonymous", label, address=address)


def changed(
    before: Mapping[str, Any], after: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The fields that differ, as (before, after); a key missing on one side counts as None."""
    keys = sorted(set(before) | set(after))
    moved = [k for k in keys if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in moved}, {k: after.get(k) for k in moved}
