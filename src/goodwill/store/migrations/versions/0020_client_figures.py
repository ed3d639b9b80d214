"""each client's purchase figures, kept as purchases arrive

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05 12:40:00

The rows are filled by the engine's next pass (the business's time zone and currency, which
they are computed in, are settings the migration does not know); until then a client page
computes them from that client's orders.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "client_figures",
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("stale", sa.Boolean(), nullable=False),
        sa.Column("marks", sa.Integer(), nullable=False),
        sa.Column("zone", sa.String(length=64), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.Column("newest_order", sa.Integer(), nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("spend_minor", sa.BigInteger(), nullable=False),
        sa.Column("other_currency_orders", sa.Integer(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=True),
        sa.Column("last_day", sa.Date(), nullable=True),
        sa.Column("first_day_minor", sa.BigInteger(), nullable=False),
        sa.Column("last_day_minor", sa.BigInteger(), nullable=False),
        sa.Column("log_gaps", sa.Float(), nullable=False),
        sa.Column("log_gap_squares", sa.Float(), nullable=False),
        sa.Column("value_stamp", sa.String(length=200), nullable=True),
        sa.Column("p_alive", sa.Float(), nullable=True),
        sa.Column("purchases_year", sa.Float(), nullable=True),
        sa.Column("expected_spend", sa.Float(), nullable=True),
        sa.Column("clv", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
            name=op.f("fk_client_figures_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("client_id", name=op.f("pk_client_figures")),
    )
    with op.batch_alter_table("client_figures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_client_figures_stale"), ["stale"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("client_figures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_client_figures_stale"))
    op.drop_table("client_figures")
