"""client search reads trigram indexes on PostgreSQL

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-06 09:15:00

A search on the client list (part of a name, an email, another identity) is a LIKE '%term%',
which no ordinary index serves: at 200,000 clients on PostgreSQL the page's two statements took
110 and 45 ms, every client read. The pg_trgm extension indexes the trigrams of each text, and
the search looks each text up in its own index (store/client_search.py). The extension ships
with PostgreSQL (Debian: the postgresql package); creating it needs a role allowed to (the
database's owner, since pg_trgm is a trusted extension). Where it cannot be created the search
reads every client, as before, and this says so in the log; docs/production.md has the three
statements to run later. SQLite is left as it is.
"""

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger(__name__)

INDEXES = {
    "ix_clients_name_trigrams": ("clients", "name_key"),
    "ix_clients_email_trigrams": ("clients", "email"),
    "ix_client_identities_value_trigrams": ("client_identities", "value"),
}


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    savepoint = bind.begin_nested()
    try:
        bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except sa.exc.DBAPIError as exc:
        savepoint.rollback()
        log.warning("client search will read every client: pg_trgm not created (%s)", exc)
        return
    savepoint.commit()
    for name, (table, column) in INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON {table} USING gin ({column} gin_trgm_ops)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
