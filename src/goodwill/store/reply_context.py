"""What the reply guardrails need to know about a recipient, read from the store."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from goodwill.domain.guardrails import ReplyContext
from goodwill.errors import InvalidInput
from goodwill.store.models import (
    Client,
    Contact,
    Conversation,
    Incident,
    Order,
    Partner,
    StaffUser,
)
from goodwill.store.queries import find_client


def reply_context(
    session: Session, client_ref: str, *, partner: str | None, incident: str | None
) -> ReplyContext:
    """What the guardrails need to know about the recipient, from the store.

    The client waits on us when a conversation of theirs is open (owed a reply) or an incident
    is named. ``partner`` must be one of the business's partners when any are known.
    """
    client = find_client(session, client_ref)
    partners = list(session.execute(select(Partner.name).order_by(Partner.name)).scalars())
    if partner is not None:
        known = {p.casefold(): p for p in partners}
        if partners and partner.casefold() not in known:
            raise InvalidInput(
                f"--partner: {partner!r} is not one of the business's partners "
                f"({', '.join(partners)})",
                option="--partner",
            )
        partner = known.get(partner.casefold(), partner)
    waiting = session.execute(
        select(Conversation.id)
        .where(Conversation.client_id == client.id, Conversation.status == "open")
        .limit(1)
    ).first()
    contacts = session.execute(select(Contact.name).where(Contact.client_id == client.id))
    first = client.name.split()[0] if len(client.name.split()) > 1 else None
    return ReplyContext(
        recipient_name=client.name,
        recipient_first_name=first,
        other_client_names=tuple(
            session.execute(select(Client.name).where(Client.id != client.id)).scalars()
        ),
        partners=tuple(partners),
        partner=partner,
        needs_next_step=waiting is not None or incident is not None,
        staff_names=tuple(session.execute(select(StaffUser.name)).scalars()),
        recipient_aliases=tuple(contacts.scalars()),
    )


def context_for_client(session: Session, client: Client, *, waiting: bool) -> ReplyContext:
    """The context for a reply in the client's conversation (inbox, API, terminal).

    With an open incident, the reply is about it: its partner is the one the reply may name and
    the reply must offer a next step. Otherwise the partner is the one the client's latest order
    came through; ``waiting``: the conversation is owed an answer, so a next step is needed too.
    """
    incident = session.execute(
        select(Incident.id, Incident.partner)
        .where(Incident.client_id == client.id, Incident.status == "open")
        .order_by(Incident.opened_at.desc(), Incident.id.desc())
        .limit(1)
    ).first()
    partner = incident.partner if incident is not None and incident.partner else None
    if partner is not None:  # named on the incident in free text: kept only if it is a partner
        known = session.execute(
            select(Partner.name).where(func.lower(Partner.name) == partner.casefold())
        ).scalar_one_or_none()
        partner = known
    context = reply_context(
        session,
        client.external_id or client.email or f"#{client.id}",
        partner=partner or latest_partner(session, client.id),
        incident=str(incident.id) if incident is not None else None,
    )
    return replace(context, needs_next_step=context.needs_next_step or waiting)


def latest_partner(session: Session, client_id: int) -> str | None:
    """The partner of the client's latest order, the one a reply may name."""
    return session.execute(
        select(Partner.name)
        .join(Order, Order.partner_id == Partner.id)
        .where(Order.client_id == client_id)
        .order_by(Order.occurred_at.desc())
        .limit(1)
    ).scalar_one_or_none()
