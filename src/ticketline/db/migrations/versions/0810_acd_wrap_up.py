"""ACD: wrap-up dispositions (a configurable list) and each call's wrap-up.

Revision ID: 0810_acd_wrap_up
Revises: 0800_acd
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ticketline.db.base import UtcDateTime

revision = "0810_acd_wrap_up"
down_revision = "0800_acd"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "acd_disposition",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name_zh", sa.String(length=100), nullable=False),
        sa.Column("name_en", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_acd_disposition")),
    )
    op.create_table(
        "acd_wrap_up",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("call_id", sa.String(length=64), nullable=False),
        sa.Column("agent", sa.String(length=64), nullable=False),
        sa.Column("queue", sa.String(length=32), nullable=True),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=True),
        sa.Column("disposition", sa.String(length=32), nullable=False),
        sa.Column("notes", sa.String(length=2000), nullable=False),
        sa.Column("order_code", sa.String(length=16), nullable=True),
        sa.Column("work_order_code", sa.String(length=20), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_acd_wrap_up")),
    )
    for column in ("at", "call_id", "agent", "customer_id", "disposition"):
        op.create_index(op.f(f"ix_acd_wrap_up_{column}"), "acd_wrap_up", [column])


def downgrade() -> None:
    op.drop_table("acd_wrap_up")
    op.drop_table("acd_disposition")
