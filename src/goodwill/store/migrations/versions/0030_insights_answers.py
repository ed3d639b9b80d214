"""the last insights answer of each view is kept in the store

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-06 12:00:00

At hundreds of thousands of clients the insights page takes seconds to work out. The page shows
the last answer while the next is worked out, but an answer remembered only in the process was
lost at each restart, and each new day asks for new weeks: the first view of the day waited.
The last answer of each view (the weeks up to today, the filters) is now kept in this table on
a large store, and shown, with when it was worked out, until the next is ready.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0030"
down_revision: str | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "insights_answers",
        sa.Column("view", sa.String(length=64), nullable=False),
        sa.Column("asked", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Text(), nullable=False),
        sa.Column("took", sa.Float(), nullable=False),
        sa.Column("orders", sa.BigInteger(), nullable=False),
        sa.Column("figured_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("view", name=op.f("pk_insights_answers")),
    )


def downgrade() -> None:
    op.drop_table("insights_answers")
