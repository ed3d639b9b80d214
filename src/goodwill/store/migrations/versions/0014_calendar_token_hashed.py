"""calendar tokens kept as their SHA-256: the feed URLs already given out keep working

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 00:50:00
"""

import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_users = sa.table(
    "staff_users",
    sa.column("id", sa.Integer()),
    sa.column("calendar_token", sa.String(64)),
)


def upgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(_users.c.id, _users.c.calendar_token).where(_users.c.calendar_token.is_not(None))
    ).all()
    for user_id, token in rows:
        digest = hashlib.sha256(token.encode()).hexdigest()
        bind.execute(sa.update(_users).where(_users.c.id == user_id).values(calendar_token=digest))


def downgrade() -> None:
    # A hash cannot be turned back into its link: the old links end, each user makes a new one.
    op.execute(sa.update(_users).values(calendar_token=None))
