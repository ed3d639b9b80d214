"""follow-ups

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 16:52:39.033235
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "engine_cursors",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_engine_cursors")),
    )
    op.create_table(
        "engine_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_engine_runs")),
    )
    op.create_table(
        "followups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=500), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("open_reason", sa.String(length=200), nullable=True),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("personal_level", sa.String(length=30), nullable=False),
        sa.Column("template", sa.String(length=200), nullable=True),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["assignee_id"],
            ["staff_users.id"],
            name=op.f("fk_followups_assignee_id_staff_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
            name=op.f("fk_followups_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_followups")),
        sa.UniqueConstraint("client_id", "open_reason", name="uq_followups_open_reason"),
        sa.UniqueConstraint("key", name=op.f("uq_followups_key")),
    )
    with op.batch_alter_table("followups", schema=None) as batch_op:
        batch_op.create_index(
            "ix_followups_assignee_status_due", ["assignee_id", "status", "due_at"], unique=False
        )
        batch_op.create_index("ix_followups_status_due", ["status", "due_at"], unique=False)

    op.create_table(
        "followup_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("followup_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_followup_events_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["followup_id"],
            ["followups.id"],
            name=op.f("fk_followup_events_followup_id_followups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_followup_events")),
        sa.UniqueConstraint("followup_id", "event_id", name="uq_followup_events_pair"),
    )
    with op.batch_alter_table("followup_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_followup_events_event_id"), ["event_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_followup_events_followup_id"), ["followup_id"], unique=False
        )

    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tags", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("contact_window", sa.String(length=300), nullable=True))

    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("team", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("calendar_token", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_staff_users_calendar_token"), ["calendar_token"]
        )


def downgrade() -> None:
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_staff_users_calendar_token"), type_="unique")
        batch_op.drop_column("calendar_token")
        batch_op.drop_column("team")

    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.drop_column("contact_window")
        batch_op.drop_column("tags")

    with op.batch_alter_table("followup_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_followup_events_followup_id"))
        batch_op.drop_index(batch_op.f("ix_followup_events_event_id"))

    op.drop_table("followup_events")
    with op.batch_alter_table("followups", schema=None) as batch_op:
        batch_op.drop_index("ix_followups_status_due")
        batch_op.drop_index("ix_followups_assignee_status_due")

    op.drop_table("followups")
    op.drop_table("engine_runs")
    op.drop_table("engine_cursors")
