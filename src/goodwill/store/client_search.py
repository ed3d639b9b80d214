"""Which clients a search on the client list finds, read down trigram indexes on PostgreSQL.

A search finds a part of a name, an email or another identity (a second address, a phone), or
an import id exactly. ``LIKE '%term%'`` cannot use an ordinary index, so on PostgreSQL each of
the three texts has a trigram index (the ``pg_trgm`` extension, migration 0029), and the
identities are looked up before the clients, so that each text is read from its own index (an OR
with the identities as a subquery read every client: 110 ms at 200,000 clients). SQLite reads every
client, as it did; a term under three characters has no trigram and reads every client too.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from goodwill.store.models import Client, ClientIdentity

#: The trigram indexes (PostgreSQL only), created by migration 0029 when the database lets it
#: create the extension; the models do not declare them, since SQLite has no such index.
TRIGRAM_INDEXES = frozenset(
    {
        "ix_clients_name_trigrams",  # clients.name_key
        "ix_clients_email_trigrams",  # clients.email
        "ix_client_identities_value_trigrams",  # client_identities.value
    }
)


#: More identities matching than this, and they are asked for within the statement itself.
LISTED_IDENTITIES = 1_000


def matching(session: Session, search: str) -> ColumnElement[bool]:
    """The clients whose name, email or other identity holds ``search`` (any case), or whose
    import id is ``search`` exactly.

    The other identities are looked up first (their own index), so the statement is an OR of
    plain tests the planner can answer from the clients' indexes for a narrow search, or with
    one read of every client for a broad one (a union of per-text look-ups was 3x slower than
    that read for a term most clients match)."""
    exact = search.strip()
    like = f"%{exact.lower()}%"
    others = select(ClientIdentity.client_id).where(ClientIdentity.value.like(like))
    listed = list(session.scalars(others.limit(LISTED_IDENTITIES + 1)))
    return or_(
        Client.name_key.like(like),
        Client.email.like(like),
        Client.external_id == exact,
        Client.id.in_(sorted(set(listed)) if len(listed) <= LISTED_IDENTITIES else others),
    )
