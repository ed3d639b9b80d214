"""What the reply guardrails need to know about a recipient, read from the store."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from goodwill.domain.guardrails import ReplyContext
from goodwill.errors import InvalidInput
from goodwill.store.models import Client, Contact, Conversation, Order, Partner, StaffUser
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
    """The context for a reply in the client's conversation (inbox, API, terminal): the partner
    is the one the client's latest order came through; ``waiting``: the conversation is owed an
    answer, so the reply must offer a next step."""
    context = reply_context(
        session,
        client.external_id or client.email or f"#{client.id}",
        partner=latest_partner(session, client.id),
        incident=None,
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
