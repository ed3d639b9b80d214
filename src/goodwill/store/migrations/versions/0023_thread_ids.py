"""every id a conversation's messages carry, and where merged conversations went

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-05 12:30:00

The ids are filled once from the messages already stored: each message's own id, and the ids
it answers that were never stored, as placeholders of its conversation.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from goodwill.domain.threading import subject_key

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "thread_ids",
        sa.Column("message_id", sa.String(length=998), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("seen", sa.Boolean(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=True),
        sa.Column("subject_key", sa.String(length=998), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answers", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_thread_ids_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_thread_ids")),
    )
    with op.batch_alter_table("thread_ids", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_thread_ids_conversation_id"), ["conversation_id"], unique=False
        )
        batch_op.create_index(
            "ix_thread_ids_subject", ["client_id", "subject_key", "sent_at"], unique=False
        )
    op.create_table(
        "conversation_merges",
        sa.Column("merged_id", sa.Integer(), nullable=False),
        sa.Column("into_id", sa.Integer(), nullable=False),
        sa.Column("merged_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["into_id"],
            ["conversations.id"],
            name=op.f("fk_conversation_merges_into_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("merged_id", name=op.f("pk_conversation_merges")),
    )
    with op.batch_alter_table("conversation_merges", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_conversation_merges_into_id"), ["into_id"], unique=False
        )
    _fill()


def _fill() -> None:
    """Each stored message's id, then the ids its messages answer that were never stored."""
    bind = op.get_bind()
    messages = sa.table(
        "messages",
        sa.column("id", sa.Integer),
        sa.column("conversation_id", sa.Integer),
        sa.column("direction", sa.String),
        sa.column("message_id", sa.String),
        sa.column("in_reply_to", sa.String),
        sa.column("references", sa.JSON),
        sa.column("subject", sa.String),
        sa.column("sent_at", sa.DateTime(timezone=True)),
    )
    conversations = sa.table(
        "conversations", sa.column("id", sa.Integer), sa.column("client_id", sa.Integer)
    )
    thread_ids = sa.table(
        "thread_ids",
        sa.column("message_id", sa.String),
        sa.column("conversation_id", sa.Integer),
        sa.column("seen", sa.Boolean),
        sa.column("client_id", sa.Integer),
        sa.column("subject_key", sa.String),
        sa.column("sent_at", sa.DateTime(timezone=True)),
        sa.column("answers", sa.Boolean),
    )
    rows = bind.execute(
        sa.select(messages, conversations.c.client_id)
        .join(conversations, conversations.c.id == messages.c.conversation_id)
        .order_by(messages.c.id)
    ).all()
    kept: dict[str, dict[str, object]] = {}
    answered: list[tuple[str, int]] = []
    for m in rows:
        parents = [p for p in [m.in_reply_to, *(m.references or [])] if p and p != m.message_id]
        inbound = m.direction == "in"
        kept[m.message_id] = {
            "message_id": m.message_id,
            "conversation_id": m.conversation_id,
            "seen": True,
            "client_id": m.client_id if inbound else None,
            "subject_key": (subject_key(m.subject or "") or None) if inbound else None,
            "sent_at": m.sent_at,
            "answers": bool(parents),
        }
        answered += [(p, m.conversation_id) for p in parents if len(p) <= 998]
    for parent, conversation_id in answered:
        kept.setdefault(
            parent,
            {
                "message_id": parent,
                "conversation_id": conversation_id,
                "seen": False,
                "client_id": None,
                "subject_key": None,
                "sent_at": None,
                "answers": False,
            },
        )
    values = list(kept.values())
    for start in range(0, len(values), 500):
        bind.execute(thread_ids.insert(), values[start : start + 500])


def downgrade() -> None:
    with op.batch_alter_table("conversation_merges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conversation_merges_into_id"))
    op.drop_table("conversation_merges")
    with op.batch_alter_table("thread_ids", schema=None) as batch_op:
        batch_op.drop_index("ix_thread_ids_subject")
        batch_op.drop_index(batch_op.f("ix_thread_ids_conversation_id"))
    op.drop_table("thread_ids")
