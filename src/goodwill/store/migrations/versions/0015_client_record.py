"""the client record staff write: address, consent, archive and versions on clients; more
identities per client; dated, sourced facts; interactions and notes; who served a counter sale

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 02:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "client_identities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("value", sa.String(length=320), nullable=False),
        sa.Column("label", sa.String(length=40), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
            name=op.f("fk_client_identities_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_client_identities")),
        sa.UniqueConstraint("kind", "value", name="uq_client_identities_kind_value"),
    )
    with op.batch_alter_table("client_identities", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_client_identities_client_id"), ["client_id"], unique=False
        )

    op.create_table(
        "interactions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(length=500), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("pinned", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("author_label", sa.String(length=320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("request_key", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["staff_users.id"],
            name=op.f("fk_interactions_author_id_staff_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
            name=op.f("fk_interactions_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_interactions_contact_id_contacts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interactions")),
        sa.UniqueConstraint("request_key", name=op.f("uq_interactions_request_key")),
    )
    with op.batch_alter_table("interactions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_interactions_client_time", ["client_id", "occurred_at"], unique=False
        )

    with op.batch_alter_table("client_facts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("on_date", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("learned_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("source_ref", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("quote", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("author_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("author_label", sa.String(length=320), nullable=True))
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))
        batch_op.create_foreign_key(
            batch_op.f("fk_client_facts_author_id_staff_users"),
            "staff_users",
            ["author_id"],
            ["id"],
            ondelete="SET NULL",
        )

    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("company", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("street", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("postcode", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("city", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("region", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("country", sa.String(length=2), nullable=True))
        batch_op.add_column(sa.Column("language", sa.String(length=35), nullable=True))
        batch_op.add_column(sa.Column("preferred_channel", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("partner_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("marketing_consent", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("consent_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("consent_how", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))
        batch_op.create_foreign_key(
            batch_op.f("fk_clients_partner_id_partners"),
            "partners",
            ["partner_id"],
            ["id"],
            ondelete="SET NULL",
        )

    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("birthday_day", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("birthday_month", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("birthday_year", sa.Integer(), nullable=True))

    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("served_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_orders_served_by_id_staff_users"),
            "staff_users",
            ["served_by_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:

    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_orders_served_by_id_staff_users"), type_="foreignkey"
        )
        batch_op.drop_column("served_by_id")

    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_column("birthday_year")
        batch_op.drop_column("birthday_month")
        batch_op.drop_column("birthday_day")

    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_clients_partner_id_partners"), type_="foreignkey")
        batch_op.drop_column("version")
        batch_op.drop_column("archived_at")
        batch_op.drop_column("consent_how")
        batch_op.drop_column("consent_at")
        batch_op.drop_column("marketing_consent")
        batch_op.drop_column("partner_id")
        batch_op.drop_column("preferred_channel")
        batch_op.drop_column("language")
        batch_op.drop_column("country")
        batch_op.drop_column("region")
        batch_op.drop_column("city")
        batch_op.drop_column("postcode")
        batch_op.drop_column("street")
        batch_op.drop_column("company")

    with op.batch_alter_table("client_facts", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_client_facts_author_id_staff_users"), type_="foreignkey"
        )
        batch_op.drop_column("version")
        batch_op.drop_column("updated_at")
        batch_op.drop_column("author_label")
        batch_op.drop_column("author_id")
        batch_op.drop_column("quote")
        batch_op.drop_column("source_ref")
        batch_op.drop_column("learned_on")
        batch_op.drop_column("on_date")

    with op.batch_alter_table("interactions", schema=None) as batch_op:
        batch_op.drop_index("ix_interactions_client_time")

    op.drop_table("interactions")
    with op.batch_alter_table("client_identities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_client_identities_client_id"))

    op.drop_table("client_identities")
