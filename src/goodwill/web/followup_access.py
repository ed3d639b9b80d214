"""Who may act on a follow-up, and whose lists they may read.

Staff act on their own follow-ups and on unassigned ones (taking them); the owner on every one.
The same rule holds for the pages and the API, so a script can do what its user could do by hand.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from goodwill.errors import NotAllowed
from goodwill.store import staff
from goodwill.store.followups import FollowUpView
from goodwill.web.auth import Staff

UNASSIGNED = ("", "unassigned")


def may_act(staff: Staff, item: FollowUpView) -> bool:
    return staff.is_owner or item.assignee is None or item.assignee == staff.email


def check_may_act(staff: Staff, item: FollowUpView) -> None:
    if not may_act(staff, item):
        raise NotAllowed(
            f"follow-up {item.id} belongs to someone else; only they or the owner may change it",
            followup=item.id,
        )


def check_may_read_list(staff: Staff, assignee: str | None) -> None:
    """Everyone's list is the owner's view; staff read their own and the unassigned one."""
    if staff.is_owner or assignee in UNASSIGNED:
        return
    if assignee is None or assignee.strip().lower() != staff.email:
        raise NotAllowed("only the owner may read someone else's follow-ups", field="assignee")


def staff_choices(session: Session) -> list[tuple[str, str]]:
    """(email, name) of everyone a follow-up can be given to, by name."""
    return [(user.email, user.name) for user in staff.active_staff(session)]
