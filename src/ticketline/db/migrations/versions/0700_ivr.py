"""IVR: operator announcements and the log of calls through flows.

Revision ID: 0700_ivr
Revises: 0001_foundation
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ticketline.db.base import UtcDateTime

revision = "0700_ivr"
down_revision = "0001_foundation"
branch_labels = ("ivr",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ivr_announcement",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("flow", sa.String(64)),
        sa.Column("text_zh", sa.Text(), nullable=False),
        sa.Column("text_en", sa.Text(), nullable=False),
        sa.Column("starts_at", UtcDateTime(), nullable=False),
        sa.Column("ends_at", UtcDateTime(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
    )
    op.create_index("ix_ivr_announcement_window", "ivr_announcement", ["starts_at", "ends_at"])
    op.create_table(
        "ivr_call",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("call_id", sa.String(64), nullable=False),
        sa.Column("flow", sa.String(64), nullable=False),
        sa.Column("version", sa.String(16), nullable=False),
        sa.Column("caller", sa.String(32), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("contained", sa.Boolean(), nullable=False),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("started_at", UtcDateTime(), nullable=False),
        sa.Column("ended_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_ivr_call_call_id", "ivr_call", ["call_id"])
    op.create_index("ix_ivr_call_flow_started", "ivr_call", ["flow", "started_at"])


def downgrade() -> None:
    op.drop_table("ivr_call")
    op.drop_table("ivr_announcement")
