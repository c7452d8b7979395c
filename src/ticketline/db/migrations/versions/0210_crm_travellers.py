"""CRM: a customer's saved travellers, offered as passengers when booking for them.

Revision ID: 0210_crm_travellers
Revises: 0200_crm
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ticketline.db.base import UtcDateTime

revision = "0210_crm_travellers"
down_revision = "0200_crm"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "customer_traveller",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("id_type", sa.String(length=16), nullable=False),
        sa.Column("id_number", sa.String(length=32), nullable=False),
        sa.Column("passenger_type", sa.String(length=16), nullable=False),
        sa.Column("last_used_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
            name=op.f("fk_customer_traveller_customer_id_customer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_traveller")),
        sa.UniqueConstraint(
            "customer_id", "id_type", "id_number", name=op.f("uq_customer_traveller_document")
        ),
    )
    op.create_index(
        op.f("ix_customer_traveller_customer_id"),
        "customer_traveller",
        ["customer_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_table("customer_traveller")
