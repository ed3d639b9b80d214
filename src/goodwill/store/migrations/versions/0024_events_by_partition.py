"""the event log read a partition at a time, on PostgreSQL

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-05 22:45:00

The engine's workers each read one partition of the clients (client id modulo 16, see
engine/claims.py) in log order. Without an index on the partition, every partition's batch
walked the whole log past its cursor and skipped the other fifteen partitions' events: a first
pass read the log sixteen times. SQLite keeps one cursor and needs no such index.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE INDEX IF NOT EXISTS ix_events_partition "
            "ON events ((coalesce(client_id, 0) % 16), id)"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_events_partition")
