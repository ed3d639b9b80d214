"""What a rule would have created from past touch points, before the owner saves it.

The same steps the engine takes for each event (the rule's conditions, its title, who does it, by
when, at most one open follow-up per client and reason), run over events already stored, as if
the rule had been in force when each happened. Nothing is written.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from goodwill.domain.calendars import BusinessCalendar
from goodwill.domain.followups import ClientFrame, due_at
from goodwill.domain.playbooks import ClientContext, Rule, matches, render_title

#: How far back the preview looks, and how many of its follow-ups it lists.
PREVIEW_DAYS, PREVIEW_SHOWN = 30, 20


@dataclass(frozen=True)
class Occurrence:
    """One stored touch point of the rule's kind, with what the rule may look at."""

    client_id: int
    occurred_at: datetime
    payload: Mapping[str, Any]
    client: ClientContext
    frame: ClientFrame
    #: Who the rule's assignee names for this client, in words (a person's name).
    who: str
    has_email: bool = False


@dataclass(frozen=True)
class WouldCreate:
    client_id: int
    client_name: str
    occurred_at: datetime
    title: str
    who: str
    due_at: datetime
    #: The rule asks its question by mail instead of making a follow-up.
    asks: bool = False


@dataclass(frozen=True)
class RulePreview:
    rule: str
    days: int
    #: Newest first, at most ``PREVIEW_SHOWN`` of them.
    items: tuple[WouldCreate, ...]
    total: int
    #: Events that matched while the client's earlier follow-up was still open (joined to it).
    joined: int = 0
    #: Events inside the rule's quiet period after a closed follow-up of the same reason.
    quiet: int = 0
    enabled: bool = True


def would_create(
    rule: Rule,
    occurrences: Iterable[Occurrence],
    *,
    calendar: BusinessCalendar,
    closed: Mapping[int, Iterable[datetime]] | None = None,
    days: int = PREVIEW_DAYS,
    shown: int = PREVIEW_SHOWN,
) -> RulePreview:
    """The follow-ups ``rule`` would have made from ``occurrences``, oldest event first.

    A follow-up is taken to stay open until it is due (the earliest a person could have done it),
    so a second matching event before then joins it, as the engine links it to the open one.
    ``closed`` gives, by client, when follow-ups of the rule's reason were closed, for the
    rule's quiet period.
    """
    open_until: dict[int, datetime] = {}
    made: list[WouldCreate] = []
    joined = quiet = 0
    closings = {k: list(v) for k, v in (closed or {}).items()}
    for item in sorted(occurrences, key=lambda o: (o.occurred_at, o.client_id)):
        if not matches(rule, item.payload, item.client):
            continue
        if rule.quiet_days and any(
            item.occurred_at - timedelta(days=rule.quiet_days) <= at <= item.occurred_at
            for at in closings.get(item.client_id, [])
        ):
            quiet += 1
            continue
        until = open_until.get(item.client_id)
        if until is not None and item.occurred_at < until:
            joined += 1
            continue
        due = due_at(rule.due, base=item.occurred_at, business=calendar, client=item.frame)
        open_until[item.client_id] = due
        made.append(
            WouldCreate(
                client_id=item.client_id,
                client_name=item.client.name,
                occurred_at=item.occurred_at,
                title=render_title(rule, item.payload, item.client),
                who=item.who,
                due_at=due,
                asks=rule.ask is not None and item.has_email,
            )
        )
    newest = sorted(made, key=lambda w: (w.occurred_at, w.client_id), reverse=True)
    return RulePreview(
        rule=rule.name,
        days=days,
        items=tuple(newest[:shown]),
        total=len(made),
        joined=joined,
        quiet=quiet,
        enabled=rule.enabled,
    )
