"""settings the owner saves on the settings page

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "page_settings",
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("value", sa.JSON(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("changed_by", sa.String(length=320), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_page_settings")),
    )
    with op.batch_alter_table("page_settings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_page_settings_revision"), ["revision"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("page_settings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_page_settings_revision"))
    op.drop_table("page_settings")
