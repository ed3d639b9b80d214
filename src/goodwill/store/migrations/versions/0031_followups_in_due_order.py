"""everyone's follow-ups read in due order from one index, ties by id

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-06 15:15:00

The Today page's lists are ordered by due time, then id. Everyone's list (and the automated
touches) read the (performer, status, due_at) index, which leaves ties to a sort: when
thousands of follow-ups fall due at the same instant (a day's birthdays, a batch made by one
import) every one of them was read and joined to its client before the first 25 were shown
(72 ms at a million clients). With the id in the index the first rows are the first read.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0031"
down_revision: str | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_followups_performer_status_due", table_name="followups")
    op.create_index(
        "ix_followups_performer_status_due",
        "followups",
        ["performer", "status", "due_at", "id"],
    )


def downgrade() -> None:
    op.drop_index("ix_followups_performer_status_due", table_name="followups")
    op.create_index(
        "ix_followups_performer_status_due", "followups", ["performer", "status", "due_at"]
    )
