"""rate windows: hits per key in fixed windows, shared by every web process (the contact form)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 04:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rate_windows",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", "window_start", name=op.f("pk_rate_windows")),
    )
    with op.batch_alter_table("rate_windows", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rate_windows_window_start"), ["window_start"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("rate_windows", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rate_windows_window_start"))
    op.drop_table("rate_windows")
