"""orders: a (client, time) index that also holds the currency and amount

The insights page's client series read each client's first and latest order, their count and
their spend: with the amount in the index, that is one pass over the index, never the table.
It replaces ``ix_orders_client_time``, of which it is an extension.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 13:55:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_orders_client_time_amount",
        "orders",
        ["client_id", "occurred_at", "currency", "amount_minor"],
    )
    op.drop_index("ix_orders_client_time", table_name="orders")


def downgrade() -> None:
    op.create_index("ix_orders_client_time", "orders", ["client_id", "occurred_at"])
    op.drop_index("ix_orders_client_time_amount", table_name="orders")
