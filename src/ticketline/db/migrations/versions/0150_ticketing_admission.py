"""Ticketing: general admission. Trip seats say whether they are numbered (a quota's
places are not), and a general-admission ticket has no seat number.

Existing trips take the flag from their layout's seats; tickets already sold on an
unnumbered place lose the key that was shown as their seat number.

Revision ID: 0150_ticketing_admission
Revises: 0140_ticketing_one_default
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0150_ticketing_admission"
down_revision = "0140_ticketing_one_default"
branch_labels = None
depends_on = None

trip_seat = sa.table(
    "tk_trip_seat",
    sa.column("id", sa.Integer),
    sa.column("trip_id", sa.String),
    sa.column("seat_no", sa.String),
    sa.column("numbered", sa.Boolean),
)
layout_seat = sa.table(
    "tk_layout_seat",
    sa.column("layout_id", sa.String),
    sa.column("seat_no", sa.String),
    sa.column("numbered", sa.Boolean),
)
trip = sa.table("tk_trip", sa.column("id", sa.String), sa.column("layout_id", sa.String))
ticket = sa.table(
    "tk_ticket", sa.column("trip_seat_id", sa.Integer), sa.column("seat_no", sa.String)
)


def upgrade() -> None:
    with op.batch_alter_table("tk_trip_seat", recreate="never") as batch:  # see downgrade
        batch.add_column(
            sa.Column("numbered", sa.Boolean(), nullable=False, server_default=sa.true())
        )
    with op.batch_alter_table("tk_ticket") as batch:
        batch.alter_column("seat_no", existing_type=sa.String(length=16), nullable=True)
    unnumbered_in_layout = (
        sa.select(layout_seat.c.seat_no)
        .join(trip, trip.c.layout_id == layout_seat.c.layout_id)
        .where(
            trip.c.id == trip_seat.c.trip_id,
            layout_seat.c.seat_no == trip_seat.c.seat_no,
            layout_seat.c.numbered.is_(sa.false()),
        )
        .exists()
    )
    op.execute(trip_seat.update().where(unnumbered_in_layout).values(numbered=sa.false()))
    unnumbered = sa.select(trip_seat.c.id).where(trip_seat.c.numbered.is_(sa.false()))
    op.execute(ticket.update().where(ticket.c.trip_seat_id.in_(unnumbered)).values(seat_no=None))


def downgrade() -> None:
    key = (
        sa.select(trip_seat.c.seat_no)
        .where(trip_seat.c.id == ticket.c.trip_seat_id)
        .scalar_subquery()
    )
    op.execute(ticket.update().where(ticket.c.seat_no.is_(None)).values(seat_no=key))
    with op.batch_alter_table("tk_ticket") as batch:
        batch.alter_column("seat_no", existing_type=sa.String(length=16), nullable=False)
    # Not by copying the table: SQLite would refuse to drop it while tickets and claims
    # point at its rows (SQLite drops the column in place since 3.35).
    with op.batch_alter_table("tk_trip_seat", recreate="never") as batch:
        batch.drop_column("numbered")
