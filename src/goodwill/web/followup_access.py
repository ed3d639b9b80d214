"""Who may act on a follow-up, and whose lists they may read.

Staff act on their own follow-ups and on unassigned ones (taking them); the owner and managers
on every one (the table in goodwill.domain.access). The same rule holds for the pages and the
API, so a script can do what its user could do by hand, and reading follows acting: what a user
may not change they may not read either, by list, by filter or by id.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from goodwill.domain.access import may_see_followup, who_may
from goodwill.errors import NotAllowed
from goodwill.store import staff
from goodwill.store.followups import FollowUpView
from goodwill.web.auth import Staff

UNASSIGNED = ("", "unassigned")


def may_act(staff: Staff, item: FollowUpView) -> bool:
    return may_see_followup(staff.role, staff.email, item.assignee)


def check_may_act(staff: Staff, item: FollowUpView) -> None:
    if not may_act(staff, item):
        raise NotAllowed(
            f"follow-up {item.id} belongs to someone else; only they or "
            f"{who_may('followups.everyone')} may read or change it",
            followup=item.id,
        )


def check_may_read(staff: Staff, item: FollowUpView) -> None:
    """Reading one follow-up by id: the same rule as acting on it."""
    check_may_act(staff, item)


def visible(staff: Staff, items: list[FollowUpView]) -> list[FollowUpView]:
    """The follow-ups of ``items`` this user may read (all of them for owner and managers)."""
    return [item for item in items if may_act(staff, item)]


def check_may_read_list(staff: Staff, assignee: str | None) -> None:
    """Everyone's list is the owner's and managers' view; staff read their own and unassigned."""
    if staff.may("followups.everyone") or assignee in UNASSIGNED:
        return
    if assignee is None or assignee.strip().lower() != staff.email:
        raise NotAllowed(
            f"only {who_may('followups.everyone')} may read someone else's follow-ups",
            field="assignee",
        )


def staff_choices(session: Session) -> list[tuple[str, str]]:
    """(email, name) of everyone a follow-up can be given to, by name."""
    return [(user.email, user.name) for user in staff.active_staff(session)]
