"""the newest change of the follow-ups and conversations read from an index

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06 04:45:00

The insights page asks, on every request, whether anything its series read has changed since
it last answered (store/insights.py ``data_version``). The newest ``updated_at`` of the
follow-ups and ``last_message_at`` of the conversations were each a scan of the whole table:
with these indexes each is one look-up at the end of an index.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_followups_updated", "followups", ["updated_at"])
    op.create_index("ix_conversations_last_message", "conversations", ["last_message_at"])


def downgrade() -> None:
    op.drop_index("ix_conversations_last_message", table_name="conversations")
    op.drop_index("ix_followups_updated", table_name="followups")
