"""Two conversations found to be one thread become one: what the merged conversation owes, to
whom, and on which clock.

A message can link conversations filed apart (its parent arrived after its replies, or it
answers messages of both). The earliest conversation is kept; the client must lose neither the
time already waited nor the person looking after them, so the merge keeps the earliest running
or paused clock with the time it has used, runs it if either was running, stays open if either
was owed an answer, and keeps the earliest's assignee unless only a later one had one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from goodwill.domain.sla import Clock

__all__ = ["Side", "merged_assignee", "merged_clock", "merged_status"]

#: Status order of a merge: the more the client is owed, the earlier.
_OWED = ("open", "waiting", "answered", "closed")
#: Statuses whose clock still counts (a reply or closing clears it).
_LIVE = frozenset({"open", "waiting"})


@dataclass(frozen=True)
class Side:
    """One conversation of a merge, as the merge reads it; the earliest comes first."""

    status: str
    assignee_id: int | None
    clock: Clock | None


def merged_status(sides: Sequence[Side]) -> str:
    """Open if any is open, else waiting if any waits, else answered, else closed."""
    ranks = [_OWED.index(s.status) if s.status in _OWED else len(_OWED) for s in sides]
    best = min(ranks)
    return _OWED[best] if best < len(_OWED) else sides[0].status


def merged_assignee(sides: Sequence[Side]) -> int | None:
    """The earliest conversation's assignee; when it had none, the next one's that had one."""
    return next((s.assignee_id for s in sides if s.assignee_id is not None), None)


def merged_clock(sides: Sequence[Side]) -> tuple[int, Clock] | None:
    """The clock the merged conversation runs on, and which side's target it keeps.

    Of the clocks still counting (open or waiting), the one started earliest, with the time it
    has used; it runs from the earliest moment any of them was running when it was paused
    itself. None when no side is owed anything on a clock.
    """
    live = [(i, s.clock) for i, s in enumerate(sides) if s.clock is not None and s.status in _LIVE]
    if not live:
        return None
    index, first = min(live, key=lambda pair: (pair[1].started_at, pair[0]))
    running = [c.running_since for _, c in live if c.running_since is not None]
    if first.running_since is None and running:
        return index, replace(first, running_since=min(running))
    return index, first
