"""Playbook rules that ask: an open question put to a client by mail, once per reason.

A rule with ``ask = "KEY"`` fires like any rule; for a client with an email address it creates
a feedback request keyed by the rule and the event (``rule/event-key``, unique, so a second pass
or a second worker asks nothing twice) and an outbox mail with the personal link. The mail
leaves when the rule's follow-up would be due ("14 days" after an incident was resolved): the
outbox holds it until then. A client with no email address gets the rule's follow-up instead,
so someone asks on a call. When goodwill cannot mail (no ``mail.from_address`` or no
``public_url``), nothing is asked and the pass logs why.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from goodwill.actions.feedback import ask, can_mail, load_questions
from goodwill.domain.calendars import BusinessCalendar
from goodwill.domain.followups import ClientFrame, due_at
from goodwill.domain.playbooks import Rule
from goodwill.errors import ConfigError
from goodwill.settings import Settings
from goodwill.store.models import Client

log = logging.getLogger(__name__)


def ask_for_rule(
    session: Session,
    settings: Settings,
    rule: Rule,
    event: Any,
    client: Client,
    *,
    frame: ClientFrame,
    calendar: BusinessCalendar,
    now: datetime,
) -> bool | None:
    """Ask the rule's question for this event: True when asked now, False when it was asked
    before (or cannot be mailed), None when the client has no email (make the follow-up)."""
    assert rule.ask is not None
    if not client.email:
        return None
    questions = load_questions(settings)
    if rule.ask not in questions:
        raise ConfigError(
            f"playbook rule {rule.name!r}: ask: no question with key {rule.ask!r} "
            f"(known: {', '.join(questions)})",
            rule=rule.name,
            field="ask",
        )
    problem = can_mail(settings)
    if problem is not None:
        log.info("rule %s does not ask client %s: %s", rule.name, client.id, problem)
        return False
    send_at = due_at(rule.due, base=event.occurred_at, business=calendar, client=frame)
    made = ask(
        session,
        settings,
        client,
        questions[rule.ask],
        key=f"{rule.name}/{event.idempotency_key}",
        created_by=f"rule:{rule.name}",
        now=now,
        send_at=send_at,
    )
    return made is not None
