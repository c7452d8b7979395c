"""CRM: customers, phones, VIP tiers, consents, timeline, loyalty, greetings, segments.

Revision ID: 0200_crm
Revises: 0001_foundation
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ticketline.db.base import UtcDateTime

revision = "0200_crm"
down_revision = None
branch_labels = ("crm",)
depends_on = "0001_foundation"


def upgrade() -> None:
    op.create_table(
        "customer_segment",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("filter", sa.JSON(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_segment")),
        sa.UniqueConstraint("code", name=op.f("uq_customer_segment_code")),
    )
    op.create_table(
        "greeting_occasion",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("on_date", sa.Date(), nullable=False),
        sa.Column("template_key", sa.String(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_greeting_occasion")),
        sa.UniqueConstraint("code", name=op.f("uq_greeting_occasion_code")),
    )
    op.create_index(
        op.f("ix_greeting_occasion_on_date"), "greeting_occasion", ["on_date"], unique=False
    )
    op.create_table(
        "loyalty_rule",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("points_per_yuan", sa.Integer(), nullable=False),
        sa.Column("min_amount_fen", sa.Integer(), nullable=False),
        sa.Column("routes", sa.JSON(), nullable=False),
        sa.Column("expiry_days", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loyalty_rule")),
        sa.UniqueConstraint("code", name=op.f("uq_loyalty_rule_code")),
    )
    op.create_table(
        "vip_tier",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name_zh", sa.String(length=100), nullable=False),
        sa.Column("name_en", sa.String(length=100), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("queue_priority", sa.Integer(), nullable=False),
        sa.Column("named_agent", sa.Boolean(), nullable=False),
        sa.Column("points_percent", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vip_tier")),
        sa.UniqueConstraint("code", name=op.f("uq_vip_tier_code")),
    )
    op.create_table(
        "customer",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("gender", sa.String(length=1), nullable=False),
        sa.Column("birthday", sa.Date(), nullable=True),
        sa.Column("birthday_mmdd", sa.String(length=5), nullable=True),
        sa.Column("id_type", sa.String(length=16), nullable=True),
        sa.Column("id_number", sa.String(length=32), nullable=True),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("preferences", sa.JSON(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("vip_tier_id", sa.String(length=32), nullable=True),
        sa.Column("named_agent_id", sa.String(length=32), nullable=True),
        sa.Column("member_card", sa.String(length=20), nullable=True),
        sa.Column("do_not_call", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("merged_into_id", sa.String(length=32), nullable=True),
        sa.Column("points_balance", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("last_contact_at", UtcDateTime(), nullable=True),
        sa.CheckConstraint("points_balance >= 0", name=op.f("ck_customer_points_not_negative")),
        sa.ForeignKeyConstraint(
            ["named_agent_id"],
            ["staff.id"],
            name=op.f("fk_customer_named_agent_id_staff"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["vip_tier_id"],
            ["vip_tier.id"],
            name=op.f("fk_customer_vip_tier_id_vip_tier"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer")),
        sa.UniqueConstraint("id_type", "id_number", name="uq_customer_id_type"),
        sa.UniqueConstraint("member_card", name=op.f("uq_customer_member_card")),
    )
    op.create_index(op.f("ix_customer_birthday_mmdd"), "customer", ["birthday_mmdd"], unique=False)
    op.create_index(op.f("ix_customer_status"), "customer", ["status"], unique=False)
    op.create_index(op.f("ix_customer_vip_tier_id"), "customer", ["vip_tier_id"], unique=False)
    op.create_table(
        "customer_consent",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("actor_name", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
            name=op.f("fk_customer_consent_customer_id_customer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_consent")),
    )
    op.create_index(
        op.f("ix_customer_consent_customer_id"), "customer_consent", ["customer_id"], unique=False
    )
    op.create_table(
        "customer_open_item",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("ref_id", sa.String(length=64), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("amount_fen", sa.Integer(), nullable=True),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
            name=op.f("fk_customer_open_item_customer_id_customer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_open_item")),
        sa.UniqueConstraint("kind", "ref_id", name="uq_customer_open_item_kind"),
    )
    op.create_index(
        "ix_customer_open_item_customer_at",
        "customer_open_item",
        ["customer_id", "updated_at"],
        unique=False,
    )
    op.create_table(
        "customer_phone",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("label", sa.String(length=16), nullable=False),
        sa.Column("is_primary", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
            name=op.f("fk_customer_phone_customer_id_customer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_phone")),
        sa.UniqueConstraint("number", name=op.f("uq_customer_phone_number")),
    )
    op.create_index(
        op.f("ix_customer_phone_customer_id"), "customer_phone", ["customer_id"], unique=False
    )
    op.create_table(
        "customer_purchase",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("route", sa.String(length=64), nullable=True),
        sa.Column("amount_fen", sa.Integer(), nullable=False),
        sa.Column("travel_at", UtcDateTime(), nullable=True),
        sa.Column("paid_at", UtcDateTime(), nullable=False),
        sa.Column("refunded", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
            name=op.f("fk_customer_purchase_customer_id_customer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_purchase")),
        sa.UniqueConstraint("order_id", name=op.f("uq_customer_purchase_order_id")),
    )
    op.create_index(
        "ix_customer_purchase_customer_paid",
        "customer_purchase",
        ["customer_id", "paid_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_customer_purchase_route"), "customer_purchase", ["route"], unique=False
    )
    op.create_table(
        "greeting_sent",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("occasion", sa.String(length=60), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("message_id", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
            name=op.f("fk_greeting_sent_customer_id_customer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_greeting_sent")),
        sa.UniqueConstraint("customer_id", "occasion", name="uq_greeting_sent_customer"),
    )
    op.create_table(
        "loyalty_entry",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("balance_after", sa.Integer(), nullable=False),
        sa.Column("remaining", sa.Integer(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=True),
        sa.Column("cause_type", sa.String(length=32), nullable=False),
        sa.Column("cause_id", sa.String(length=64), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("actor_name", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "balance_after >= 0", name=op.f("ck_loyalty_entry_balance_not_negative")
        ),
        sa.CheckConstraint("remaining >= 0", name=op.f("ck_loyalty_entry_remaining_not_negative")),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
            name=op.f("fk_loyalty_entry_customer_id_customer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loyalty_entry")),
        sa.UniqueConstraint("kind", "cause_type", "cause_id", name="uq_loyalty_entry_kind"),
    )
    op.create_index(
        "ix_loyalty_entry_customer_at", "loyalty_entry", ["customer_id", "at"], unique=False
    )
    op.create_index(
        "ix_loyalty_entry_expiry", "loyalty_entry", ["remaining", "expires_at"], unique=False
    )
    op.create_table(
        "timeline_entry",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("ref_type", sa.String(length=32), nullable=True),
        sa.Column("ref_id", sa.String(length=64), nullable=True),
        sa.Column("actor_name", sa.String(length=64), nullable=True),
        sa.Column("dedupe_key", sa.String(length=160), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
            name=op.f("fk_timeline_entry_customer_id_customer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_timeline_entry")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_timeline_entry_dedupe_key")),
    )
    op.create_index(
        "ix_timeline_entry_customer_at", "timeline_entry", ["customer_id", "at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_timeline_entry_customer_at", table_name="timeline_entry")
    op.drop_table("timeline_entry")
    op.drop_index("ix_loyalty_entry_expiry", table_name="loyalty_entry")
    op.drop_index("ix_loyalty_entry_customer_at", table_name="loyalty_entry")
    op.drop_table("loyalty_entry")
    op.drop_table("greeting_sent")
    op.drop_index(op.f("ix_customer_purchase_route"), table_name="customer_purchase")
    op.drop_index("ix_customer_purchase_customer_paid", table_name="customer_purchase")
    op.drop_table("customer_purchase")
    op.drop_index(op.f("ix_customer_phone_customer_id"), table_name="customer_phone")
    op.drop_table("customer_phone")
    op.drop_index("ix_customer_open_item_customer_at", table_name="customer_open_item")
    op.drop_table("customer_open_item")
    op.drop_index(op.f("ix_customer_consent_customer_id"), table_name="customer_consent")
    op.drop_table("customer_consent")
    op.drop_index(op.f("ix_customer_vip_tier_id"), table_name="customer")
    op.drop_index(op.f("ix_customer_status"), table_name="customer")
    op.drop_index(op.f("ix_customer_birthday_mmdd"), table_name="customer")
    op.drop_table("customer")
    op.drop_table("vip_tier")
    op.drop_table("loyalty_rule")
    op.drop_index(op.f("ix_greeting_occasion_on_date"), table_name="greeting_occasion")
    op.drop_table("greeting_occasion")
    op.drop_table("customer_segment")
