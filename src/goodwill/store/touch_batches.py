"""The month's postcards and handwritten notes: who is due, where the card goes, what it says.

A batch gathers the open follow-ups due in the month whose channel is ``postcard`` (the CSV for
the postcard service, whoever performs them) or ``note`` at the handwritten level (the sheet the
owner writes from). The message is the rule's template filled for the client, as the automated
mail would be; a template that cannot be filled leaves the follow-up's title, and says so.
Marking a batch as sent closes its follow-ups as done, each audited like a completed one.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from goodwill.domain.audit import Actor
from goodwill.domain.facts import fact_label
from goodwill.domain.playbooks import Channel, PersonalLevel, Playbook
from goodwill.domain.touch_batches import (
    MENTION_KINDS,
    PostalAddress,
    kind_of,
    mentions,
    missing_address,
    month_bounds,
    month_label,
    postal_address,
    postcard_csv,
)
from goodwill.domain.touchpoints import describe
from goodwill.errors import GoodwillError
from goodwill.settings import Settings
from goodwill.store import followups
from goodwill.store.models import Client, ClientFact, Event, FollowUp, FollowUpEvent

__all__ = ["Batch", "Card", "Missing", "mark_sent", "month_batch"]

log = logging.getLogger(__name__)

#: A batch this big is a mistake in the data, not a month's cards; the rest wait for the next run.
LIMIT = 5000


@dataclass(frozen=True)
class Card:
    """One postcard or handwritten note: for whom, where, why and what it says.

    ``problem`` says why the message is the follow-up's title instead of the rule's template;
    ``mention`` holds a few of the client's facts for a note written by hand."""

    followup_id: int
    client_id: int
    client_ref: str
    name: str
    kind: str
    occasion: str
    address: PostalAddress
    message: str
    problem: str | None
    mention: tuple[str, ...]
    due_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "followup_id": self.followup_id,
            "client_id": self.client_ref,
            "name": self.name,
            "kind": self.kind,
            "occasion": self.occasion,
            "address": vars(self.address) | {"lines": self.address.lines()},
            "message": self.message,
            "problem": self.problem,
            "mention": list(self.mention),
            "due_at": self.due_at.isoformat(),
        }


@dataclass(frozen=True)
class Missing:
    """A client due a card who has no postal address to send it to."""

    followup_id: int
    client_id: int
    client_ref: str
    name: str
    kind: str
    channel: str
    why: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "followup_id": self.followup_id,
            "client_id": self.client_ref,
            "name": self.name,
            "kind": self.kind,
            "channel": self.channel,
            "why": self.why,
        }


@dataclass(frozen=True)
class Batch:
    month: date
    kind: str | None
    postcards: tuple[Card, ...]
    notes: tuple[Card, ...]
    without_address: tuple[Missing, ...]

    @property
    def label(self) -> str:
        return month_label(self.month)

    @property
    def key(self) -> str:
        """``2026-12``: how links and file names name the month."""
        return f"{self.month:%Y-%m}"

    @property
    def followup_ids(self) -> list[int]:
        """The follow-ups marking the batch as sent closes (not those without an address)."""
        return [c.followup_id for c in (*self.postcards, *self.notes)]

    def only(self, ids: Collection[int]) -> Batch:
        """The batch cut down to the follow-ups ``ids`` (what a person saw before marking it)."""
        return replace(
            self,
            postcards=tuple(c for c in self.postcards if c.followup_id in ids),
            notes=tuple(c for c in self.notes if c.followup_id in ids),
        )

    def csv(self) -> str:
        """The postcards as the postcard service's CSV."""
        return postcard_csv([(c.name, c.address, c.message) for c in self.postcards])

    def as_dict(self) -> dict[str, Any]:
        return {
            "month": self.key,
            "kind": self.kind,
            "postcards": [c.as_dict() for c in self.postcards],
            "notes": [c.as_dict() for c in self.notes],
            "without_address": [m.as_dict() for m in self.without_address],
        }


def month_batch(
    session: Session,
    settings: Settings,
    playbook: Playbook,
    *,
    month: date,
    kind: str | None = None,
    today: date,
) -> Batch:
    """The batch of ``month`` (its first day), of one ``kind`` or all; see the module's doc."""
    start, end = month_bounds(month, settings.zone)
    printed = (FollowUp.channel == Channel.POSTCARD.value) | (
        (FollowUp.channel == Channel.NOTE.value)
        & (FollowUp.personal_level == PersonalLevel.HANDWRITTEN_NOTE.value)
    )
    rows = session.execute(
        select(FollowUp, Client)
        .join(Client, Client.id == FollowUp.client_id)
        .where(
            FollowUp.status == "open",
            FollowUp.due_at >= start,
            FollowUp.due_at < end,
            Client.archived_at.is_(None),
            printed,
        )
        .order_by(FollowUp.due_at, Client.name_key, FollowUp.id)
        .limit(LIMIT)
    ).all()
    events = _first_events(session, [f.id for f, _ in rows])
    wanted = [(f, c) for f, c in rows if kind is None or kind_of(_type(events, f)) == kind]
    facts = _facts(session, {c.id for f, c in wanted if f.channel == Channel.NOTE.value})
    postcards: list[Card] = []
    notes: list[Card] = []
    missing: list[Missing] = []
    for followup, client in wanted:
        event = events.get(followup.id)
        card_kind = kind_of(event.type if event else None)
        ref = client.external_id or f"#{client.id}"
        address = postal_address(
            name=client.name,
            street=client.street,
            company=client.company,
            city=client.city,
            region=client.region,
            postcode=client.postcode,
            country=client.country,
        )
        if address is None:
            why = missing_address(street=client.street, city=client.city) or "no address"
            missing.append(
                Missing(followup.id, client.id, ref, client.name, card_kind, followup.channel, why)
            )
            continue
        message, problem = _message(session, settings, playbook, followup, event, today)
        is_note = followup.channel == Channel.NOTE.value
        card = Card(
            followup_id=followup.id,
            client_id=client.id,
            client_ref=ref,
            name=client.name,
            kind=card_kind,
            occasion=_occasion(event, followup),
            address=address,
            message=message,
            problem=problem,
            mention=mentions(facts.get(client.id, [])) if is_note else (),
            due_at=followup.due_at,
        )
        (notes if is_note else postcards).append(card)
    return Batch(month, kind, tuple(postcards), tuple(notes), tuple(missing))


def _type(events: dict[int, Event], followup: FollowUp) -> str | None:
    event = events.get(followup.id)
    return event.type if event is not None else None


def _first_events(session: Session, ids: list[int]) -> dict[int, Event]:
    """Each follow-up's first event: its touch point, which fills the template."""
    found: dict[int, Event] = {}
    for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
        for followup_id, event in session.execute(
            select(FollowUpEvent.followup_id, Event)
            .join(Event, Event.id == FollowUpEvent.event_id)
            .where(FollowUpEvent.followup_id.in_(chunk))
            .order_by(Event.occurred_at, Event.id)
        ).all():
            found.setdefault(followup_id, event)
    return found


def _facts(session: Session, client_ids: set[int]) -> dict[int, list[tuple[str, str]]]:
    """The facts worth a mention per client, newest first, as ``(kind, "Label: text")``."""
    found: dict[int, list[tuple[str, str]]] = {}
    ids = sorted(client_ids)
    for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
        for fact in session.execute(
            select(ClientFact)
            .where(ClientFact.client_id.in_(chunk), ClientFact.kind.in_(MENTION_KINDS))
            .order_by(ClientFact.recorded_at.desc(), ClientFact.id.desc())
        ).scalars():
            day = f" ({fact.on_date.day} {fact.on_date:%B})" if fact.on_date else ""
            shown = f"{fact_label(fact.kind)}: {fact.text}{day}"
            found.setdefault(fact.client_id, []).append((fact.kind, shown))
    return found


def _occasion(event: Event | None, followup: FollowUp) -> str:
    if event is None:
        return followup.title
    title, detail = describe(event.type, dict(event.payload or {}))
    return f"{title} ({detail})" if detail else title


def _message(
    session: Session,
    settings: Settings,
    playbook: Playbook,
    followup: FollowUp,
    event: Event | None,
    today: date,
) -> tuple[str, str | None]:
    """The card's text and, when it is the follow-up's title instead, why."""
    from goodwill.touch_messages import render_message, touch_placeholders

    rule = playbook.rule(followup.rule)
    if rule is None:
        return followup.title, f"rule {followup.rule!r} is no longer in the playbook"
    if rule.template is None:
        return followup.title, f"rule {rule.name!r} names no template"
    try:
        context = touch_placeholders(
            session,
            settings,
            rule=rule,
            client_id=followup.client_id,
            payload=dict(event.payload or {}) if event is not None else {},
            today=today,
        )
        body = render_message(settings, rule.template, context).body.strip()
    except GoodwillError as exc:
        return followup.title, f"the template could not be filled: {exc.message}"
    return body, None


def outcome_for(batch: Batch, channel: str) -> str:
    """What a closed follow-up says happened."""
    if channel == Channel.POSTCARD.value:
        return f"Sent with the postcard batch of {batch.label}"
    return f"Written by hand for the {batch.label} batch"


def mark_sent(session: Session, batch: Batch, *, actor: Actor, now: datetime) -> int:
    """Close the batch's follow-ups as done (postcards sent, notes written); returns how many
    were closed. Those already closed are left as they are, so running it again changes
    nothing."""
    closed = 0
    for card, channel in [
        *((c, Channel.POSTCARD.value) for c in batch.postcards),
        *((c, Channel.NOTE.value) for c in batch.notes),
    ]:
        row = session.get(FollowUp, card.followup_id)
        if row is None or row.status != "open":
            continue
        outcome = outcome_for(batch, channel)
        followups.complete(session, row.id, outcome=outcome, now=now, actor=actor)
        closed += 1
    log.info("touch batch %s (%s): %s follow-ups closed", batch.key, batch.kind or "all", closed)
    return closed
