"""the rhythms the refit keeps for the At risk list

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05 12:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rhythm_rows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=200), nullable=False),
        sa.Column("last_day", sa.Integer(), nullable=False),
        sa.Column("expected_day", sa.Integer(), nullable=False),
        sa.Column("due_by_day", sa.Integer(), nullable=False),
        sa.Column("usual_interval", sa.Float(), nullable=False),
        sa.Column("mean_value", sa.Float(), nullable=True),
        sa.Column("year_value", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
            name=op.f("fk_rhythm_rows_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rhythm_rows")),
    )
    with op.batch_alter_table("rhythm_rows", schema=None) as batch_op:
        batch_op.create_index("ix_rhythm_rows_category_due", ["category", "due_by_day"])
        batch_op.create_index("ix_rhythm_rows_rank", ["year_value", "expected_day"])
        batch_op.create_index("ix_rhythm_rows_client", ["client_id", "category"])
    op.create_table(
        "rhythm_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("made_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("newest_order", sa.Integer(), nullable=False),
        sa.Column("settings_key", sa.String(length=300), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("priors", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rhythm_snapshots")),
    )


def downgrade() -> None:
    op.drop_table("rhythm_snapshots")
    with op.batch_alter_table("rhythm_rows", schema=None) as batch_op:
        batch_op.drop_index("ix_rhythm_rows_client")
        batch_op.drop_index("ix_rhythm_rows_rank")
        batch_op.drop_index("ix_rhythm_rows_category_due")
    op.drop_table("rhythm_rows")
