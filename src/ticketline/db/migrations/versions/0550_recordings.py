"""Telephony: call recordings linked to their call.

Revision ID: 0550_recordings
Revises: 0500_telephony
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ticketline.db.base import UtcDateTime

revision = "0550_recordings"
down_revision = "0500_telephony"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "recording",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("call_id", sa.String(32), nullable=False),
        sa.Column("leg_id", sa.String(32)),
        sa.Column("path", sa.String(500), nullable=False),
        sa.Column("channels", sa.Integer(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("pauses", sa.JSON(), nullable=False),
        sa.Column("started_at", UtcDateTime(), nullable=False),
        sa.Column("ended_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_recording_call_id", "recording", ["call_id"])
    op.create_index("ix_recording_started_at", "recording", ["started_at"])


def downgrade() -> None:
    op.drop_index("ix_recording_started_at", "recording")
    op.drop_index("ix_recording_call_id", "recording")
    op.drop_table("recording")
