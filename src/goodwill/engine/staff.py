"""Who the engine can assign a follow-up to: the owner, the one on call, the teams."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from goodwill.settings import Settings
from goodwill.store.models import StaffUser


@dataclass(frozen=True)
class Staff:
    """Who can be assigned, read once per pass."""

    owner_id: int | None
    on_call_id: int | None
    teams: dict[str, list[int]]

    @classmethod
    def load(cls, session: Session, settings: Settings) -> Staff:
        users = list(
            session.execute(
                select(StaffUser).where(StaffUser.active.is_(True)).order_by(StaffUser.id)
            ).scalars()
        )
        by_email = {u.email: u.id for u in users}
        owners = [u.id for u in users if u.role == "owner"]
        owner = by_email.get((settings.owner or "").lower()) or (owners[0] if owners else None)
        if owner is None and users:
            owner = users[0].id
        on_call = by_email.get((settings.on_call or "").lower()) or owner
        teams: dict[str, list[int]] = {}
        for user in users:
            if user.team:
                teams.setdefault(user.team, []).append(user.id)
        return cls(owner, on_call, teams)
