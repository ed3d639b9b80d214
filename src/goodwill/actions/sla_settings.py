"""SLA policies and the on-call rota kept on the settings page instead of in files.

The page saves the same document the file would hold (``page["sla"]``, ``page["rota"]``), checked
by the file's own parsers first, so a document the page accepts is one the file would accept and
its errors name the same keys (``policy[1].first_response``) with "settings page" as the source.
A file named in the settings still wins: nothing is saved over it.

A new target applies to conversations already waiting for an answer, not only to the next
message: their clocks are worked out again from when they started, keeping the time already
used, so the inbox shows the new due time on the next request.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from goodwill.actions import page_settings
from goodwill.actions.conversation_clock import put_on_target
from goodwill.actions.sla_in_force import PAGE_SOURCE, policies_for
from goodwill.domain.audit import Actor
from goodwill.domain.calendars import BusinessCalendar
from goodwill.domain.rota import parse_rota
from goodwill.domain.sla import ClientFacts, Kind, SlaPolicies, parse_policies
from goodwill.engine.configuration import calendar_for
from goodwill.errors import Conflict
from goodwill.settings import Settings
from goodwill.store.models import Client, Conversation
from goodwill.store.queries import overviews_for

__all__ = [
    "Origin",
    "clear_rota",
    "origin",
    "retarget_clocks",
    "save_rota",
    "save_sla",
]

log = logging.getLogger(__name__)

Origin = Literal["file", "page", "none"]
Document = Literal["sla", "rota"]


def origin(settings: Settings, key: Document) -> tuple[Origin, Path | None]:
    """Where the policies (``"sla"``) or the rota (``"rota"``) come from, and the file if one."""
    path: Path | None = settings.sla if key == "sla" else settings.rota
    if path is not None:
        return "file", path
    return ("page" if settings.page.get(key) is not None else "none"), None


def saved_document(settings: Settings, key: Document) -> dict[str, Any]:
    """The document saved on the page (a copy to change), empty when there is none."""
    saved = settings.page.get(key)
    return dict(saved) if isinstance(saved, Mapping) else {}


def save_sla(
    db: Session, settings: Settings, document: Mapping[str, Any], *, actor: Actor, now: datetime
) -> Settings:
    """Check ``document`` as an SLA policy file, store it, and move the running clocks onto it.

    Raises ConfigError (``.fields["key"]`` names the policy and field) and stores nothing when
    the document is wrong; Conflict when the ``sla`` file decides.
    """
    _not_from_file(settings, "sla")
    parse_policies(document, source=PAGE_SOURCE)
    changed = page_settings.change(db, settings, "sla", dict(document), actor=actor, now=now)
    moved = retarget_clocks(db, changed, now=now)
    log.info("SLA policies saved on the settings page; %d clocks moved", moved)
    return changed


def save_rota(
    db: Session, settings: Settings, document: Mapping[str, Any], *, actor: Actor, now: datetime
) -> Settings:
    """Check ``document`` as a rota file and store it; errors as :func:`save_sla`."""
    _not_from_file(settings, "rota")
    parse_rota(document, source=PAGE_SOURCE)
    changed = page_settings.change(db, settings, "rota", dict(document), actor=actor, now=now)
    log.info("on-call rota saved on the settings page")
    return changed


def clear_rota(db: Session, settings: Settings, *, actor: Actor, now: datetime) -> Settings:
    """Stop using the page's rota: outside hours the ``on_call`` setting decides again."""
    _not_from_file(settings, "rota")
    if origin(settings, "rota")[0] == "none":
        return settings
    return page_settings.clear(db, settings, "rota", actor=actor, now=now)


def _not_from_file(settings: Settings, key: Document) -> None:
    where, path = origin(settings, key)
    if where == "file":
        raise Conflict(
            f"the {key} file {path} decides; change it there (or remove the {key} setting)",
            file=str(path),
        )


def retarget_clocks(db: Session, settings: Settings, *, now: datetime) -> int:
    """Work out again the clock of every conversation owed an answer or waiting on the client,
    under the policies in force; returns how many changed.

    A clock keeps when it started and the time already used; the target (policy, length,
    calendar, critical window) is chosen again for the message that started it. A conversation
    no policy covers any more loses its clock; an open one without a clock gets one from its
    last message.
    """
    policies = policies_for(settings)
    rows = list(
        db.execute(
            select(Conversation).where(Conversation.status.in_(("open", "waiting")))
        ).scalars()
    )
    facts = _facts_of(db, settings, {c.client_id for c in rows}, now=now)
    business = calendar_for(settings)
    moved = 0
    for conversation in rows:
        before = (conversation.sla_policy, conversation.sla_target_s, conversation.sla_due_at)
        _retarget(conversation, policies, facts[conversation.client_id], business)
        moved += before != (
            conversation.sla_policy,
            conversation.sla_target_s,
            conversation.sla_due_at,
        )
    db.flush()
    return moved


def _retarget(
    conversation: Conversation,
    policies: SlaPolicies | None,
    facts: ClientFacts,
    business: BusinessCalendar,
) -> None:
    live = (
        conversation.sla_target_s is not None
        and conversation.sla_started_at is not None
        and (conversation.status == "waiting" or conversation.sla_running_since is not None)
    )
    kind: Kind
    if live and conversation.sla_started_at is not None:
        started = conversation.sla_started_at
        kind = "next" if conversation.sla_kind == "next" else "first"
    elif conversation.status == "open":  # owed an answer with no clock: one from its last message
        started = conversation.last_message_at
        kind = "first" if conversation.first_response_at is None else "next"
    else:
        return
    target = (
        policies.target_for(facts, kind, started, business=business)
        if policies is not None
        else None
    )
    if target is None:
        conversation.sla_target_s = None
        conversation.sla_policy = None
        conversation.sla_critical = False
        conversation.sla_started_at = None
        conversation.sla_elapsed_s = 0
        conversation.sla_running_since = None
        conversation.sla_due_at = None
        conversation.sla_warn_at = None
        return
    if not live:
        conversation.sla_clock += 1
        conversation.sla_started_at = started
        conversation.sla_elapsed_s = 0
        conversation.sla_running_since = started
    put_on_target(conversation, target)


def _facts_of(
    db: Session, settings: Settings, client_ids: set[int], *, now: datetime
) -> dict[int, ClientFacts]:
    """What policy selection needs about each client, in two queries."""
    today = now.astimezone(settings.zone).date()
    overviews = overviews_for(db, settings, client_ids, today=today)
    clients = db.execute(select(Client).where(Client.id.in_(client_ids))).scalars()
    return {
        c.id: ClientFacts(
            client_id=c.external_id,
            tier=overviews[c.id].tier if c.id in overviews else None,
            tags=frozenset(c.tags or []),
            timezone=c.timezone,
        )
        for c in clients
    }
