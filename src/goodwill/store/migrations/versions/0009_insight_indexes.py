"""insight indexes: the weekly series read ranges of time, not whole tables

Orders by time with the currency, amount and channel (the purchases and revenue of a range of
weeks, and the latest order, from the index alone), orders by currency (whether there is more
than one, at a glance), follow-ups by creation and closing, invoices by due date and
conversations by start (each series of a range of weeks reads that range).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 14:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES: tuple[tuple[str, str, list[str]], ...] = (
    ("ix_orders_time_amount", "orders", ["occurred_at", "currency", "amount_minor", "partner_id"]),
    ("ix_orders_currency", "orders", ["currency"]),
    ("ix_followups_created", "followups", ["created_at"]),
    ("ix_followups_closed", "followups", ["closed_at"]),
    ("ix_invoices_due", "invoices", ["due_on"]),
    ("ix_conversations_created", "conversations", ["created_at"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
