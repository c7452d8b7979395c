"""Ticketing: the seat index covers the legs, so seats left are counted from the index.

Revision ID: 0110_ticketing_seat_cover
Revises: 0100_ticketing
"""

from __future__ import annotations

from alembic import op

revision = "0110_ticketing_seat_cover"
down_revision = "0100_ticketing"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_tk_trip_seat_legs", "tk_trip_seat", ["trip_id", "class_code", "legs"], unique=False
    )
    op.drop_index("ix_tk_trip_seat_class", table_name="tk_trip_seat")


def downgrade() -> None:
    op.create_index("ix_tk_trip_seat_class", "tk_trip_seat", ["trip_id", "class_code"])
    op.drop_index("ix_tk_trip_seat_legs", table_name="tk_trip_seat")
