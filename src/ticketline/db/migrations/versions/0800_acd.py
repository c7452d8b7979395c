"""ACD: queues, memberships, reason codes and the queue log.

Revision ID: 0800_acd
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ticketline.db.base import UtcDateTime

revision = "0800_acd"
down_revision = None
branch_labels = ("acd",)
depends_on = "0001_foundation"


def upgrade() -> None:
    op.create_table(
        "acd_queue",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name_zh", sa.String(length=100), nullable=False),
        sa.Column("name_en", sa.String(length=100), nullable=False),
        sa.Column("strategy", sa.String(length=32), nullable=False),
        sa.Column("skills", sa.JSON(), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_acd_queue")),
        sa.UniqueConstraint("code", name=op.f("uq_acd_queue_code")),
    )
    op.create_table(
        "acd_membership",
        sa.Column("queue_id", sa.String(length=32), nullable=False),
        sa.Column("staff_id", sa.String(length=32), nullable=False),
        sa.Column("penalty", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("weight", sa.Integer(), nullable=False),
        sa.Column("window_start", sa.String(length=5), nullable=True),
        sa.Column("window_end", sa.String(length=5), nullable=True),
        sa.Column("new_customers", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["queue_id"],
            ["acd_queue.id"],
            name=op.f("fk_acd_membership_queue_id_acd_queue"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff.id"],
            name=op.f("fk_acd_membership_staff_id_staff"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("queue_id", "staff_id", name=op.f("pk_acd_membership")),
    )
    op.create_index(
        op.f("ix_acd_membership_staff_id"), "acd_membership", ["staff_id"], unique=False
    )
    op.create_table(
        "acd_reason_code",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name_zh", sa.String(length=100), nullable=False),
        sa.Column("name_en", sa.String(length=100), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_acd_reason_code")),
    )
    op.create_table(
        "acd_queue_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("event", sa.String(length=24), nullable=False),
        sa.Column("queue", sa.String(length=32), nullable=True),
        sa.Column("call_id", sa.String(length=64), nullable=True),
        sa.Column("agent", sa.String(length=64), nullable=True),
        sa.Column("position", sa.Integer(), nullable=True),
        sa.Column("wait_ms", sa.Integer(), nullable=True),
        sa.Column("talk_ms", sa.Integer(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_acd_queue_log")),
    )
    op.create_index(op.f("ix_acd_queue_log_at"), "acd_queue_log", ["at"], unique=False)
    op.create_index(op.f("ix_acd_queue_log_event"), "acd_queue_log", ["event"], unique=False)
    op.create_index(op.f("ix_acd_queue_log_call_id"), "acd_queue_log", ["call_id"], unique=False)
    op.create_index(op.f("ix_acd_queue_log_agent"), "acd_queue_log", ["agent"], unique=False)
    op.create_index("ix_acd_queue_log_queue_at", "acd_queue_log", ["queue", "at"], unique=False)


def downgrade() -> None:
    op.drop_table("acd_queue_log")
    op.drop_table("acd_reason_code")
    op.drop_table("acd_membership")
    op.drop_table("acd_queue")
