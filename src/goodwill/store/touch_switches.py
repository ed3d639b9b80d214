"""Which playbook rules the worker performs by itself: switched on and off by the owner.

Automated touches are off until the owner turns a rule on. Switching on hands the worker the
rule's open follow-ups that are not yet due (an overdue one stays with its person, who may
already be on it); switching off gives back those the worker has not sent yet. Both are in the
audit log with who and when.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from goodwill.domain.audit import Actor
from goodwill.domain.playbooks import Playbook, Rule
from goodwill.errors import InvalidInput, NotFound
from goodwill.store.audit import record
from goodwill.store.models import FollowUp, TouchSwitch

__all__ = ["Switched", "automated_rules", "switch_rule"]


@dataclass(frozen=True)
class Switched:
    rule: str
    automated: bool
    #: Open follow-ups that moved between a person's list and the worker.
    moved: int
    changed: bool


def automated_rules(session: Session) -> set[str]:
    """The names of the rules switched to automated sending."""
    return set(
        session.execute(select(TouchSwitch.rule).where(TouchSwitch.automated.is_(True))).scalars()
    )


def _rule(playbook: Playbook, name: str) -> Rule:
    rule = playbook.rule(name)
    if rule is None:
        raise NotFound(
            f"there is no rule {name!r} in the playbook (goodwill playbook show lists them)",
            rule=name,
        )
    return rule


def check_switchable(playbook: Playbook, name: str) -> Rule:
    """The rule, if the worker can perform it: email with a template, or postcard."""
    rule = _rule(playbook, name)
    if not rule.can_automate:
        why = (
            "it asks a question by mail already"
            if rule.ask
            else "it names no template"
            if rule.channel == "email"
            else f"its channel is {rule.channel}, and only email and postcard touches can be sent "
            "by goodwill"
        )
        raise InvalidInput(f"rule {name!r} cannot be automated: {why}", field="rule", rule=name)
    return rule


def switch_rule(
    session: Session, playbook: Playbook, name: str, *, on: bool, actor: Actor, now: datetime
) -> Switched:
    """Switch rule ``name`` to automated sending (``on``) or back to people; idempotent."""
    rule = check_switchable(playbook, name) if on else _rule(playbook, name)
    row = session.get(TouchSwitch, rule.name)
    was = bool(row and row.automated)
    if row is None:
        row = TouchSwitch(rule=rule.name, automated=on, changed_at=now)
        session.add(row)
    row.automated, row.changed_by, row.changed_at = on, actor.label[:320], now
    if on:
        result = session.execute(
            update(FollowUp)
            .where(
                FollowUp.rule == rule.name,
                FollowUp.status == "open",
                FollowUp.performer == "person",
                FollowUp.handed_over.is_(None),
                FollowUp.due_at >= now,
            )
            .values(performer="machine", updated_at=now, sequence=FollowUp.sequence + 1)
        )
    else:
        result = session.execute(
            update(FollowUp)
            .where(
                FollowUp.rule == rule.name,
                FollowUp.status == "open",
                FollowUp.performer == "machine",
                FollowUp.outbox_key.is_(None),
            )
            .values(performer="person", updated_at=now, sequence=FollowUp.sequence + 1)
        )
    moved = int(getattr(result, "rowcount", 0) or 0)
    if was != on:
        record(
            session,
            actor,
            "touches.on" if on else "touches.off",
            at=now,
            object_type="rule",
            object_id=rule.name,
            before={"automated": was},
            after={"automated": on, "followups_moved": moved},
        )
    return Switched(rule.name, on, moved, was != on)
