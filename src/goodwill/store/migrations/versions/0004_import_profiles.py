"""import profiles

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 19:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "import_items",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("entity", sa.String(length=20), nullable=False),
        sa.Column("entity_id", sa.BigInteger(), nullable=False),
        sa.Column("created", sa.Boolean(), nullable=False),
        sa.Column("rule", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["imports.id"],
            name=op.f("fk_import_items_import_id_imports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_items")),
        sa.UniqueConstraint("import_id", "entity", "entity_id", name="uq_import_items_entity"),
    )
    with op.batch_alter_table("import_items", schema=None) as batch_op:
        batch_op.create_index("ix_import_items_entity", ["entity", "entity_id"], unique=False)

    op.create_table(
        "refunds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=400), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_refunds_order_id_orders"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refunds")),
        sa.UniqueConstraint("external_id", name=op.f("uq_refunds_external_id")),
    )
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_refunds_order_id"), ["order_id"], unique=False)

    with op.batch_alter_table("imports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("profile", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("user", sa.String(length=320), nullable=True))
        batch_op.add_column(
            sa.Column("status", sa.String(length=20), server_default="done", nullable=False)
        )
        batch_op.add_column(
            sa.Column("bytes_done", sa.BigInteger(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("bytes_total", sa.BigInteger(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("summary", sa.JSON(), server_default="{}", nullable=False))
        batch_op.add_column(sa.Column("undone_at", sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("settled", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:

    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.drop_column("settled")

    with op.batch_alter_table("imports", schema=None) as batch_op:
        batch_op.drop_column("undone_at")
        batch_op.drop_column("summary")
        batch_op.drop_column("bytes_total")
        batch_op.drop_column("bytes_done")
        batch_op.drop_column("status")
        batch_op.drop_column("user")
        batch_op.drop_column("profile")

    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refunds_order_id"))

    op.drop_table("refunds")
    with op.batch_alter_table("import_items", schema=None) as batch_op:
        batch_op.drop_index("ix_import_items_entity")

    op.drop_table("import_items")
