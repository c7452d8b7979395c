"""Ticketing: one default commission policy per product.

The scope's unique constraint does not cover the default row (no operator):
PostgreSQL counts NULLs as distinct, so two concurrent first writes could
both insert one. A partial unique index closes that on both databases.

Revision ID: 0140_ticketing_one_default
Revises: 0130_ticketing_finance
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0140_ticketing_one_default"
down_revision = "0130_ticketing_finance"
branch_labels = None
depends_on = None

NO_OPERATOR = sa.text("operator_id IS NULL")


def upgrade() -> None:
    op.create_index(
        "uq_tk_commission_policy_default",
        "tk_commission_policy",
        ["product"],
        unique=True,
        sqlite_where=NO_OPERATOR,
        postgresql_where=NO_OPERATOR,
    )


def downgrade() -> None:
    op.drop_index("uq_tk_commission_policy_default", table_name="tk_commission_policy")
