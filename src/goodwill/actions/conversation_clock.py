"""A conversation's response clock as stored on its row: put it on a target, stop it, read it back.

The inbox starts and resumes clocks as mail arrives and replies leave; the SLA settings move
waiting conversations onto a new target. Both write the same columns, here.
"""

from __future__ import annotations

from datetime import timedelta

from goodwill.domain.calendars import BusinessCalendar, always_open
from goodwill.domain.sla import Clock, Target
from goodwill.engine.configuration import calendar_for
from goodwill.settings import Settings
from goodwill.store.models import Conversation


def put_on_target(conversation: Conversation, target: Target) -> None:
    """Run the conversation's clock against ``target``, keeping when it started and the time
    already used (a new clock has used none)."""
    assert conversation.sla_started_at is not None
    conversation.sla_policy = target.policy
    conversation.sla_kind = target.kind
    conversation.sla_critical = target.critical
    conversation.sla_target_s = int(target.duration.total_seconds())
    conversation.sla_calendar = "24/7" if target.calendar.name == "24/7" else "business"
    conversation.sla_warn_fraction = target.warn_fraction
    clock = Clock(
        target=target,
        started_at=conversation.sla_started_at,
        elapsed=timedelta(seconds=conversation.sla_elapsed_s),
        running_since=conversation.sla_running_since,
    )
    store_clock(conversation, clock)


def clear_clock(conversation: Conversation) -> None:
    conversation.sla_critical = False
    conversation.sla_running_since = None
    conversation.sla_due_at = None
    conversation.sla_warn_at = None


def store_clock(conversation: Conversation, clock: Clock) -> None:
    conversation.sla_elapsed_s = int(clock.elapsed.total_seconds())
    conversation.sla_running_since = clock.running_since
    conversation.sla_due_at = clock.due_at()
    conversation.sla_warn_at = clock.warn_at()


def clock_of(conversation: Conversation, settings: Settings) -> Clock | None:
    """The conversation's stored clock, rebuilt for arithmetic (None when it has none)."""
    if conversation.sla_target_s is None or conversation.sla_started_at is None:
        return None
    calendar: BusinessCalendar = (
        always_open(settings.zone)
        if conversation.sla_calendar == "24/7"
        else calendar_for(settings)
    )
    target = Target(
        policy=conversation.sla_policy or "",
        kind="first" if conversation.sla_kind == "first" else "next",
        duration=timedelta(seconds=conversation.sla_target_s),
        calendar=calendar,
        critical=conversation.sla_critical,
        warn_fraction=conversation.sla_warn_fraction or 0.75,
    )
    return Clock(
        target=target,
        started_at=conversation.sla_started_at,
        elapsed=timedelta(seconds=conversation.sla_elapsed_s),
        running_since=conversation.sla_running_since,
    )
