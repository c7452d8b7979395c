"""Foundation: staff, roles, departments, skills, extensions, tokens, audit log.

Revision ID: 0001_foundation
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ticketline.db.base import UtcDateTime

revision = "0001_foundation"
down_revision = None
branch_labels = ("foundation",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "department",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("name_zh", sa.String(100), nullable=False),
        sa.Column("name_en", sa.String(100), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.UniqueConstraint("code", name="uq_department_code"),
    )
    op.create_table(
        "staff",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(100), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column(
            "department_id",
            sa.String(32),
            sa.ForeignKey(
                "department.id", ondelete="SET NULL", name="fk_staff_department_id_department"
            ),
        ),
        sa.Column("locale", sa.String(8), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", UtcDateTime()),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("password_changed_at", UtcDateTime(), nullable=False),
        sa.UniqueConstraint("username", name="uq_staff_username"),
    )
    op.create_index("ix_staff_department_id", "staff", ["department_id"])
    op.create_table(
        "staff_role",
        sa.Column(
            "staff_id",
            sa.String(32),
            sa.ForeignKey("staff.id", ondelete="CASCADE", name="fk_staff_role_staff_id_staff"),
            primary_key=True,
        ),
        sa.Column("role", sa.String(32), primary_key=True),
    )
    op.create_table(
        "skill",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("name_zh", sa.String(100), nullable=False),
        sa.Column("name_en", sa.String(100), nullable=False),
        sa.UniqueConstraint("code", name="uq_skill_code"),
    )
    op.create_table(
        "staff_skill",
        sa.Column(
            "staff_id",
            sa.String(32),
            sa.ForeignKey("staff.id", ondelete="CASCADE", name="fk_staff_skill_staff_id_staff"),
            primary_key=True,
        ),
        sa.Column(
            "skill_id",
            sa.String(32),
            sa.ForeignKey("skill.id", ondelete="CASCADE", name="fk_staff_skill_skill_id_skill"),
            primary_key=True,
        ),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.CheckConstraint("level BETWEEN 1 AND 5", name="ck_staff_skill_level"),
    )
    op.create_table(
        "extension",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("number", sa.String(16), nullable=False),
        sa.Column("realm", sa.String(100), nullable=False),
        sa.Column("ha1_md5", sa.String(32), nullable=False),
        sa.Column("ha1_sha256", sa.String(64), nullable=False),
        sa.Column(
            "staff_id",
            sa.String(32),
            sa.ForeignKey("staff.id", ondelete="SET NULL", name="fk_extension_staff_id_staff"),
        ),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.UniqueConstraint("number", name="uq_extension_number"),
        sa.UniqueConstraint("staff_id", name="uq_extension_staff_id"),
    )
    op.create_table(
        "api_token",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column(
            "staff_id",
            sa.String(32),
            sa.ForeignKey("staff.id", ondelete="CASCADE", name="fk_api_token_staff_id_staff"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.UniqueConstraint("token_hash", name="uq_api_token_token_hash"),
    )
    op.create_index("ix_api_token_staff_id", "api_token", ["staff_id"])
    op.create_table(
        "audit_entry",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("actor_id", sa.String(32)),
        sa.Column("actor_name", sa.String(64), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("entity_type", sa.String(64), nullable=False),
        sa.Column("entity_id", sa.String(64), nullable=False),
        sa.Column("before", sa.JSON()),
        sa.Column("after", sa.JSON()),
        sa.Column("source_ip", sa.String(64)),
    )
    for column in ("at", "actor_id", "action", "entity_type", "entity_id"):
        op.create_index(f"ix_audit_entry_{column}", "audit_entry", [column])


def downgrade() -> None:
    for table in (
        "audit_entry",
        "api_token",
        "extension",
        "staff_skill",
        "skill",
        "staff_role",
        "staff",
        "department",
    ):
        op.drop_table(table)
