"""worker runs: each failed attempt at a step of a pass, for the dashboard and /healthz

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-04 23:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "worker_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("step", sa.String(length=60), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("error", sa.String(length=100), nullable=False),
        sa.Column("message", sa.String(length=300), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("gave_up", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["engine_runs.id"],
            name=op.f("fk_worker_failures_run_id_engine_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_worker_failures")),
    )
    with op.batch_alter_table("worker_failures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_worker_failures_run_id"), ["run_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_worker_failures_failed_at"), ["failed_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("worker_failures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_worker_failures_failed_at"))
        batch_op.drop_index(batch_op.f("ix_worker_failures_run_id"))
    op.drop_table("worker_failures")
