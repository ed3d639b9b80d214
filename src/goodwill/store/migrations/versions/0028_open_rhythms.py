"""the At risk list reads the rows that may be on it: lapsed rows flagged

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-06 08:40:00

The list shows the rhythms overdue but not lapsed; every row ever due was read to find them
(36,850 rows for 583 on the list at 200,000 clients, twice a page: the rows and the counts).
The engine now flags the rows lapsed by the day it looks (their open due day cleared), and the
list reads the rows due and not flagged down an index of that day alone. Rows kept before this
are not read so until the engine's next pass has looked at them all.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("rhythm_rows", schema=None) as batch_op:
        batch_op.add_column(sa.Column("open_due_day", sa.Integer(), nullable=True))
    with op.batch_alter_table("rhythm_snapshots", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lapsed_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("lapsed_cycles", sa.Integer(), nullable=True))
    op.create_index("ix_rhythm_rows_open_due", "rhythm_rows", ["open_due_day"])


def downgrade() -> None:
    op.drop_index("ix_rhythm_rows_open_due", table_name="rhythm_rows")
    with op.batch_alter_table("rhythm_snapshots", schema=None) as batch_op:
        batch_op.drop_column("lapsed_cycles")
        batch_op.drop_column("lapsed_on")
    with op.batch_alter_table("rhythm_rows", schema=None) as batch_op:
        batch_op.drop_column("open_due_day")
