"""Ticketing: deposit accounts with carriers, debited when their tickets are issued.

Revision ID: 0120_ticketing_deposits
Revises: 0110_ticketing_seat_cover
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ticketline.db.base import UtcDateTime

revision = "0120_ticketing_deposits"
down_revision = "0110_ticketing_seat_cover"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tk_carrier_deposit",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("operator_id", sa.String(length=32), nullable=False),
        sa.Column("balance_fen", sa.BigInteger(), nullable=False),
        sa.Column("alert_below_fen", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.CheckConstraint(
            "balance_fen >= 0", name=op.f("ck_tk_carrier_deposit_deposit_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["tk_operator.id"],
            name=op.f("fk_tk_carrier_deposit_operator_id_tk_operator"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tk_carrier_deposit")),
        sa.UniqueConstraint("operator_id", name=op.f("uq_tk_carrier_deposit_operator_id")),
    )
    op.create_table(
        "tk_deposit_entry",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("deposit_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("balance_after_fen", sa.BigInteger(), nullable=False),
        sa.Column("order_id", sa.String(length=32), nullable=True),
        sa.Column("reference", sa.String(length=64), nullable=True),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["deposit_id"],
            ["tk_carrier_deposit.id"],
            name=op.f("fk_tk_deposit_entry_deposit_id_tk_carrier_deposit"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tk_deposit_entry")),
    )
    op.create_index(
        "ix_tk_deposit_entry_deposit_at", "tk_deposit_entry", ["deposit_id", "at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_tk_deposit_entry_deposit_at", table_name="tk_deposit_entry")
    op.drop_table("tk_deposit_entry")
    op.drop_table("tk_carrier_deposit")
