"""raw mail bytes: when a message failed, a note on the raw message, raw mail kept as bytes

``inbound_mail`` gains ``failed_at`` (when filing failed; earlier failures take their arrival
time) and ``note`` (goodwill's own reply coming back, a Message-ID reused by a different
message), and an index by status for the failed list and the unread round. On PostgreSQL a
raw-mail column that a database made by hand holds as text is turned into bytea (its text
encoded as UTF-8); the columns this project creates are bytea already.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: (table, column) of the raw mail goodwill keeps.
RAW_COLUMNS = (("inbound_mail", "raw"), ("outbox", "body"), ("attachments", "content"))


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        inspector = sa.inspect(bind)
        for table, column in RAW_COLUMNS:
            found = {c["name"]: c["type"] for c in inspector.get_columns(table)}
            if isinstance(found.get(column), sa.String):  # TEXT and VARCHAR
                op.execute(
                    f"ALTER TABLE {table} ALTER COLUMN {column} TYPE bytea "
                    f"USING convert_to({column}, 'UTF8')"
                )
    with op.batch_alter_table("inbound_mail", schema=None) as batch_op:
        batch_op.add_column(sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("note", sa.Text(), nullable=True))
        batch_op.create_index("ix_inbound_mail_status", ["status", "id"], unique=False)
    op.execute("UPDATE inbound_mail SET failed_at = received_at WHERE status = 'failed'")


def downgrade() -> None:
    with op.batch_alter_table("inbound_mail", schema=None) as batch_op:
        batch_op.drop_index("ix_inbound_mail_status")
        batch_op.drop_column("note")
        batch_op.drop_column("failed_at")
