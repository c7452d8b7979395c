"""Work orders: work orders and their log, SLA policies, business calendars and holidays.

Revision ID: 0300_workorders
Revises: 0001_foundation
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ticketline.db.base import UtcDateTime

revision = "0300_workorders"
down_revision = None
branch_labels = ("workorders",)
depends_on = "0001_foundation"


def upgrade() -> None:
    op.create_table(
        "wo_calendar",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("week", sa.JSON(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wo_calendar")),
        sa.UniqueConstraint("code", name=op.f("uq_wo_calendar_code")),
    )
    op.create_table(
        "wo_code_counter",
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("period", name=op.f("pk_wo_code_counter")),
    )
    op.create_table(
        "wo_holiday",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("calendar_id", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("working", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["calendar_id"],
            ["wo_calendar.id"],
            name=op.f("fk_wo_holiday_calendar_id_wo_calendar"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wo_holiday")),
        sa.UniqueConstraint("calendar_id", "day", name="uq_wo_holiday_calendar_id"),
    )
    op.create_table(
        "wo_sla_policy",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("first_response_minutes", sa.Integer(), nullable=False),
        sa.Column("resolution_minutes", sa.Integer(), nullable=False),
        sa.Column("warn_percent", sa.Integer(), nullable=False),
        sa.Column("calendar_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["calendar_id"],
            ["wo_calendar.id"],
            name=op.f("fk_wo_sla_policy_calendar_id_wo_calendar"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wo_sla_policy")),
        sa.UniqueConstraint("type", "priority", name="uq_wo_sla_policy_type"),
    )
    op.create_table(
        "work_order",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("order_ref", sa.String(length=64), nullable=True),
        sa.Column("department_id", sa.String(length=32), nullable=False),
        sa.Column("assignee_id", sa.String(length=32), nullable=True),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("escalation_level", sa.Integer(), nullable=False),
        sa.Column("reopen_count", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("first_response_at", UtcDateTime(), nullable=True),
        sa.Column("resolved_at", UtcDateTime(), nullable=True),
        sa.Column("closed_at", UtcDateTime(), nullable=True),
        sa.Column("first_response_due", UtcDateTime(), nullable=True),
        sa.Column("resolution_due", UtcDateTime(), nullable=True),
        sa.Column("sla_paused_at", UtcDateTime(), nullable=True),
        sa.Column("warned", sa.Boolean(), nullable=False),
        sa.Column("response_breached", sa.Boolean(), nullable=False),
        sa.Column("resolution_breached", sa.Boolean(), nullable=False),
        sa.Column("resolved_in_time", sa.Boolean(), nullable=True),
        sa.Column("satisfaction", sa.Integer(), nullable=True),
        sa.Column("satisfaction_comment", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["assignee_id"],
            ["staff.id"],
            name=op.f("fk_work_order_assignee_id_staff"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["department.id"],
            name=op.f("fk_work_order_department_id_department"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_order")),
        sa.UniqueConstraint("code", name=op.f("uq_work_order_code")),
    )
    op.create_index(
        "ix_work_order_assignee_state", "work_order", ["assignee_id", "state"], unique=False
    )
    op.create_index(op.f("ix_work_order_created_at"), "work_order", ["created_at"], unique=False)
    op.create_index(op.f("ix_work_order_customer_id"), "work_order", ["customer_id"], unique=False)
    op.create_index("ix_work_order_due", "work_order", ["state", "resolution_due"], unique=False)
    op.create_index(
        "ix_work_order_queue", "work_order", ["department_id", "state", "created_at"], unique=False
    )
    op.create_index(op.f("ix_work_order_type"), "work_order", ["type"], unique=False)
    op.create_table(
        "work_order_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("work_order_id", sa.String(length=32), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("actor_name", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("from_state", sa.String(length=24), nullable=True),
        sa.Column("to_state", sa.String(length=24), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_order.id"],
            name=op.f("fk_work_order_log_work_order_id_work_order"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_order_log")),
    )
    op.create_index(
        "ix_work_order_log_order_at", "work_order_log", ["work_order_id", "at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_work_order_log_order_at", table_name="work_order_log")
    op.drop_table("work_order_log")
    op.drop_index(op.f("ix_work_order_type"), table_name="work_order")
    op.drop_index("ix_work_order_queue", table_name="work_order")
    op.drop_index("ix_work_order_due", table_name="work_order")
    op.drop_index(op.f("ix_work_order_customer_id"), table_name="work_order")
    op.drop_index(op.f("ix_work_order_created_at"), table_name="work_order")
    op.drop_index("ix_work_order_assignee_state", table_name="work_order")
    op.drop_table("work_order")
    op.drop_table("wo_sla_policy")
    op.drop_table("wo_holiday")
    op.drop_table("wo_code_counter")
    op.drop_table("wo_calendar")
