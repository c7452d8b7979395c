"""Telephony: trunks, call records and call legs.

Revision ID: 0500_telephony
Revises: 0001_foundation
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ticketline.db.base import UtcDateTime

revision = "0500_telephony"
down_revision = "0001_foundation"
branch_labels = ("telephony",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "trunk",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("port", sa.Integer(), nullable=False),
        sa.Column("transport", sa.String(8), nullable=False),
        sa.Column("inbound_sources", sa.JSON(), nullable=False),
        sa.Column("dids", sa.JSON(), nullable=False),
        sa.Column("caller_id", sa.String(32)),
        sa.Column("registers", sa.Boolean(), nullable=False),
        sa.Column("username", sa.String(64)),
        sa.Column("password", sa.String(128)),
        sa.Column("max_channels", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.UniqueConstraint("name", name="uq_trunk_name"),
    )
    op.create_table(
        "call_record",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("sip_call_id", sa.String(255), nullable=False),
        sa.Column("direction", sa.String(16), nullable=False),
        sa.Column("caller", sa.String(64), nullable=False),
        sa.Column("callee", sa.String(64), nullable=False),
        sa.Column("trunk", sa.String(64)),
        sa.Column("extension", sa.String(16)),
        sa.Column("started_at", UtcDateTime(), nullable=False),
        sa.Column("answered_at", UtcDateTime()),
        sa.Column("ended_at", UtcDateTime()),
        sa.Column("duration_ms", sa.Integer()),
        sa.Column("talk_ms", sa.Integer()),
        sa.Column("end_cause", sa.String(32)),
        sa.Column("hangup_by", sa.String(16)),
        sa.Column("status", sa.String(16), nullable=False),
    )
    for column in ("sip_call_id", "caller", "callee", "extension", "started_at", "status"):
        op.create_index(f"ix_call_record_{column}", "call_record", [column])
    op.create_table(
        "call_leg",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column(
            "call_id",
            sa.String(32),
            sa.ForeignKey(
                "call_record.id", ondelete="CASCADE", name="fk_call_leg_call_id_call_record"
            ),
            nullable=False,
        ),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("direction", sa.String(16), nullable=False),
        sa.Column("peer", sa.String(255), nullable=False),
        sa.Column("sip_call_id", sa.String(255), nullable=False),
        sa.Column("started_at", UtcDateTime(), nullable=False),
        sa.Column("answered_at", UtcDateTime()),
        sa.Column("ended_at", UtcDateTime()),
        sa.Column("end_cause", sa.String(32)),
        sa.Column("hangup_by", sa.String(16)),
        sa.Column("status", sa.String(16), nullable=False),
    )
    op.create_index("ix_call_leg_call_id", "call_leg", ["call_id"])
    op.create_index("ix_call_leg_status", "call_leg", ["status"])


def downgrade() -> None:
    op.drop_table("call_leg")
    op.drop_table("call_record")
    op.drop_table("trunk")
