"""Who may do what: one table of roles and abilities, read by the pages, the API and the CLI.

Three roles. The **owner** may do everything. A **manager** runs the day-to-day client work like
the owner (everyone's follow-ups, reassigning, imports, reply templates, the on-call rota) but
not what belongs to the owner alone: users, settings, erasing a client, backups, and the
recovery options that need the owner's authority (refunds and the like, tier 3). **Staff** work
their own and the unassigned follow-ups and everything else about clients they are serving.

The table is data so the documentation (docs/security.md) and a test can be checked against it.
"""

from __future__ import annotations

from typing import Literal

from goodwill.errors import NotAllowed

Role = Literal["owner", "manager", "staff"]
ROLES: tuple[Role, ...] = ("owner", "manager", "staff")

Ability = Literal[
    "clients.read",  # client list, profiles, timelines, value, at risk, insights
    "clients.write",  # add clients; edit contact details; add facts, notes, calls, sales, payments
    "clients.manage",  # edit every field of a client, archive, merge two records into one
    "followups.own",  # read and act on one's own and unassigned follow-ups
    "followups.everyone",  # read and act on anyone's follow-ups, reassign them
    "inbox.work",  # read conversations, reply, change status, hand in messages
    "incidents.work",  # assess, open, take the steps, resolve with staff options
    "incidents.owner_authority",  # choose a recovery option that needs the owner
    "feedback.record",  # record a client's answer by hand
    "imports.run",  # import files, undo an import
    "templates.edit",  # change the reply templates
    "rota.edit",  # change the on-call rota
    "users.manage",  # add, deactivate, reset users and their tokens
    "settings.change",  # change the instance's settings; switch rules to automated sending
    "clients.erase",  # export or erase one person (GDPR)
    "backups.run",  # back up and restore the database
    "audit.read",  # read the audit log
]

_STAFF: frozenset[Ability] = frozenset(
    {
        "clients.read",
        "clients.write",
        "followups.own",
        "inbox.work",
        "incidents.work",
        "feedback.record",
    }
)
_MANAGER: frozenset[Ability] = _STAFF | {
    "clients.manage",
    "followups.everyone",
    "imports.run",
    "templates.edit",
    "rota.edit",
}
_OWNER: frozenset[Ability] = _MANAGER | {
    "incidents.owner_authority",
    "users.manage",
    "settings.change",
    "clients.erase",
    "backups.run",
    "audit.read",
}

#: What each role may do; a role not in the table may do nothing.
ABILITIES: dict[str, frozenset[Ability]] = {
    "owner": _OWNER,
    "manager": _MANAGER,
    "staff": _STAFF,
}


def may(role: str, ability: Ability) -> bool:
    """Whether ``role`` may ``ability``; unknown roles may nothing."""
    return ability in ABILITIES.get(role, frozenset())


def who_may(ability: Ability) -> str:
    """The roles allowed ``ability``, in words for an error message."""
    allowed = [role for role in ROLES if may(role, ability)]
    if allowed == ["owner"]:
        return "the owner"
    if allowed == ["owner", "manager"]:
        return "the owner or a manager"
    return "anyone logged in"


def check(role: str, ability: Ability, doing: str) -> None:
    """Refuse (NotAllowed, 403) unless ``role`` may ``ability``; ``doing`` completes "may ..."."""
    if not may(role, ability):
        raise NotAllowed(f"Only {who_may(ability)} may {doing}.", role=role)


def may_see_followup(role: str, email: str, assignee: str | None) -> bool:
    """Staff read and act on their own and the unassigned follow-ups; owner and managers on all."""
    return may(role, "followups.everyone") or assignee is None or assignee == email


def minimum_role(ability: Ability) -> Role | None:
    """The lowest role allowed ``ability`` (staff < manager < owner), or None for nobody."""
    for role in reversed(ROLES):
        if may(role, ability):
            return role
    return None
