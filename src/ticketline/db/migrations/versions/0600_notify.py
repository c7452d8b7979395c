"""Notify: message templates and the SMS outbox.

Revision ID: 0600_notify
Revises: 0001_foundation
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ticketline.db.base import UtcDateTime

revision = "0600_notify"
down_revision = "0001_foundation"
branch_labels = ("notify",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "message_template",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("locale", sa.String(8), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.UniqueConstraint("key", "locale", name="uq_message_template_key"),
    )
    op.create_table(
        "sms_outbox",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("to", sa.String(20), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("template_key", sa.String(64)),
        sa.Column("ref", sa.String(64)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UtcDateTime(), nullable=False),
        sa.Column("last_error", sa.String(500)),
        sa.Column("gateway", sa.String(16)),
        sa.Column("gateway_message_id", sa.String(100)),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("sent_at", UtcDateTime()),
        sa.Column(
            "template_id",
            sa.String(32),
            sa.ForeignKey(
                "message_template.id",
                ondelete="SET NULL",
                name="fk_sms_outbox_template_id_message_template",
            ),
        ),
    )
    op.create_index("ix_sms_outbox_due", "sms_outbox", ["status", "next_attempt_at"])
    op.create_index("ix_sms_outbox_to", "sms_outbox", ["to"])
    op.create_index("ix_sms_outbox_ref", "sms_outbox", ["ref"])


def downgrade() -> None:
    op.drop_table("sms_outbox")
    op.drop_table("message_template")
