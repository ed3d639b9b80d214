"""automated touches: which rules the worker performs, and who performs each follow-up

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "touch_switches",
        sa.Column("rule", sa.String(length=200), nullable=False),
        sa.Column("automated", sa.Boolean(), nullable=False),
        sa.Column("changed_by", sa.String(length=320), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("rule", name=op.f("pk_touch_switches")),
    )
    with op.batch_alter_table("followups", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("performer", sa.String(length=10), nullable=False, server_default="person")
        )
        batch_op.add_column(sa.Column("handed_over", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("outbox_key", sa.String(length=500), nullable=True))
        batch_op.create_index(
            "ix_followups_performer_status_due", ["performer", "status", "due_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("followups", schema=None) as batch_op:
        batch_op.drop_index("ix_followups_performer_status_due")
        batch_op.drop_column("outbox_key")
        batch_op.drop_column("handed_over")
        batch_op.drop_column("performer")
    op.drop_table("touch_switches")
