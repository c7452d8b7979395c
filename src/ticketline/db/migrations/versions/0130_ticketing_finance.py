"""Ticketing: commission policies, the finance journal by category, blank ticket and
insurance stock, and the credit reminder mark on orders.

Revision ID: 0130_ticketing_finance
Revises: 0120_ticketing_deposits
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ticketline.db.base import UtcDateTime

revision = "0130_ticketing_finance"
down_revision = "0120_ticketing_deposits"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tk_ticket") as batch:
        batch.add_column(
            sa.Column("commission_fen", sa.Integer(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("tk_order") as batch:
        batch.add_column(sa.Column("credit_reminded_on", sa.Date(), nullable=True))
    _commission_policies()
    _journal()
    _stock()


def _commission_policies() -> None:
    op.create_table(
        "tk_commission_policy",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("operator_id", sa.String(length=32), nullable=True),
        sa.Column("product", sa.String(length=16), nullable=False),
        sa.Column("percent", sa.Integer(), nullable=False),
        sa.Column("fixed_fen", sa.Integer(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["tk_operator.id"],
            name=op.f("fk_tk_commission_policy_operator_id_tk_operator"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tk_commission_policy")),
        sa.UniqueConstraint("operator_id", "product", name="uq_tk_commission_policy_scope"),
    )


def _journal() -> None:
    op.create_table(
        "tk_finance_category",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("name_zh", sa.String(length=64), nullable=False),
        sa.Column("name_en", sa.String(length=64), nullable=False),
        sa.Column("system", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_tk_finance_category")),
    )
    op.create_table(
        "tk_finance_entry",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("order_id", sa.String(length=32), nullable=True),
        sa.Column("ticket_id", sa.String(length=32), nullable=True),
        sa.Column("operator_id", sa.String(length=32), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["category"],
            ["tk_finance_category.code"],
            name=op.f("fk_tk_finance_entry_category_tk_finance_category"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tk_finance_entry")),
    )
    op.create_index("ix_tk_finance_entry_day", "tk_finance_entry", ["day", "category"])
    op.create_index("ix_tk_finance_entry_ticket_id", "tk_finance_entry", ["ticket_id"])


def _stock() -> None:
    op.create_table(
        "tk_stock_item",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("operator_id", sa.String(length=32), nullable=True),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("on_hand", sa.Integer(), nullable=False),
        sa.Column("alert_below", sa.Integer(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.CheckConstraint("on_hand >= 0", name=op.f("ck_tk_stock_item_stock_not_negative")),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["tk_operator.id"],
            name=op.f("fk_tk_stock_item_operator_id_tk_operator"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tk_stock_item")),
        sa.UniqueConstraint("code", name=op.f("uq_tk_stock_item_code")),
        sa.UniqueConstraint("kind", "operator_id", name="uq_tk_stock_item_scope"),
    )
    op.create_table(
        "tk_stock_movement",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("item_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("on_hand_after", sa.Integer(), nullable=False),
        sa.Column("serial_from", sa.String(length=32), nullable=True),
        sa.Column("serial_to", sa.String(length=32), nullable=True),
        sa.Column("order_id", sa.String(length=32), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["tk_stock_item.id"],
            name=op.f("fk_tk_stock_movement_item_id_tk_stock_item"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tk_stock_movement")),
    )
    op.create_index("ix_tk_stock_movement_item_at", "tk_stock_movement", ["item_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_tk_stock_movement_item_at", table_name="tk_stock_movement")
    op.drop_table("tk_stock_movement")
    op.drop_table("tk_stock_item")
    op.drop_index("ix_tk_finance_entry_ticket_id", table_name="tk_finance_entry")
    op.drop_index("ix_tk_finance_entry_day", table_name="tk_finance_entry")
    op.drop_table("tk_finance_entry")
    op.drop_table("tk_finance_category")
    op.drop_table("tk_commission_policy")
    with op.batch_alter_table("tk_order") as batch:
        batch.drop_column("credit_reminded_on")
    with op.batch_alter_table("tk_ticket") as batch:
        batch.drop_column("commission_fen")
