"""Ticketing: catalog, seat inventory, orders, ledger and fee rules.

Revision ID: 0100_ticketing
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ticketline.db.base import UtcDateTime

revision = "0100_ticketing"
down_revision = None
branch_labels = ("ticketing",)
depends_on = "0001_foundation"


def upgrade() -> None:
    op.create_table(
        "tk_fee_rule",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("product", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("min_hours", sa.Integer(), nullable=False),
        sa.Column("max_hours", sa.Integer(), nullable=True),
        sa.Column("percent", sa.Integer(), nullable=False),
        sa.Column("min_fee_fen", sa.Integer(), nullable=False),
        sa.Column("round_fen", sa.Integer(), nullable=False),
        sa.Column("allowed", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tk_fee_rule")),
    )
    op.create_table(
        "tk_operator",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name_zh", sa.String(length=100), nullable=False),
        sa.Column("name_en", sa.String(length=100), nullable=False),
        sa.Column("product", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tk_operator")),
        sa.UniqueConstraint("code", name=op.f("uq_tk_operator_code")),
    )
    op.create_table(
        "tk_order",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("contact_name", sa.String(length=64), nullable=False),
        sa.Column("contact_phone", sa.String(length=20), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("total_fen", sa.Integer(), nullable=False),
        sa.Column("pickup_hash", sa.String(length=64), nullable=False),
        sa.Column("pickup_failures", sa.Integer(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=True),
        sa.Column("credit_due", sa.Date(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tk_order")),
        sa.UniqueConstraint("code", name=op.f("uq_tk_order_code")),
    )
    op.create_index(op.f("ix_tk_order_contact_phone"), "tk_order", ["contact_phone"], unique=False)
    op.create_index(op.f("ix_tk_order_created_at"), "tk_order", ["created_at"], unique=False)
    op.create_index("ix_tk_order_expiry", "tk_order", ["state", "expires_at"], unique=False)
    op.create_table(
        "tk_passenger_type",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name_zh", sa.String(length=32), nullable=False),
        sa.Column("name_en", sa.String(length=32), nullable=False),
        sa.Column("percent_off", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_tk_passenger_type")),
    )
    op.create_table(
        "tk_seat_layout",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tk_seat_layout")),
        sa.UniqueConstraint("code", name=op.f("uq_tk_seat_layout_code")),
    )
    op.create_table(
        "tk_station",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name_zh", sa.String(length=64), nullable=False),
        sa.Column("name_en", sa.String(length=64), nullable=False),
        sa.Column("city", sa.String(length=64), nullable=False),
        sa.Column("pinyin", sa.String(length=128), nullable=False),
        sa.Column("initials", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tk_station")),
        sa.UniqueConstraint("code", name=op.f("uq_tk_station_code")),
    )
    op.create_index(op.f("ix_tk_station_initials"), "tk_station", ["initials"], unique=False)
    op.create_index(op.f("ix_tk_station_name_zh"), "tk_station", ["name_zh"], unique=False)
    op.create_index(op.f("ix_tk_station_pinyin"), "tk_station", ["pinyin"], unique=False)
    op.create_table(
        "tk_layout_seat",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("layout_id", sa.String(length=32), nullable=False),
        sa.Column("seat_no", sa.String(length=16), nullable=False),
        sa.Column("class_code", sa.String(length=16), nullable=False),
        sa.Column("section", sa.String(length=16), nullable=False),
        sa.Column("row", sa.Integer(), nullable=False),
        sa.Column("position", sa.String(length=8), nullable=False),
        sa.Column("numbered", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["layout_id"],
            ["tk_seat_layout.id"],
            name=op.f("fk_tk_layout_seat_layout_id_tk_seat_layout"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tk_layout_seat")),
        sa.UniqueConstraint("layout_id", "seat_no", name="uq_tk_layout_seat_no"),
    )
    op.create_table(
        "tk_ledger",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("order_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("amount_fen", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=True),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["tk_order.id"], name=op.f("fk_tk_ledger_order_id_tk_order")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tk_ledger")),
        sa.UniqueConstraint("key", name="uq_tk_ledger_key"),
    )
    op.create_index(op.f("ix_tk_ledger_actor"), "tk_ledger", ["actor"], unique=False)
    op.create_index(op.f("ix_tk_ledger_at"), "tk_ledger", ["at"], unique=False)
    op.create_index(op.f("ix_tk_ledger_order_id"), "tk_ledger", ["order_id"], unique=False)
    op.create_table(
        "tk_order_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("order_id", sa.String(length=32), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("from_state", sa.String(length=16), nullable=True),
        sa.Column("to_state", sa.String(length=16), nullable=False),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"], ["tk_order.id"], name=op.f("fk_tk_order_log_order_id_tk_order")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tk_order_log")),
    )
    op.create_index(op.f("ix_tk_order_log_order_id"), "tk_order_log", ["order_id"], unique=False)
    op.create_table(
        "tk_route",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("operator_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("product", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["tk_operator.id"], name=op.f("fk_tk_route_operator_id_tk_operator")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tk_route")),
        sa.UniqueConstraint("code", name=op.f("uq_tk_route_code")),
    )
    op.create_table(
        "tk_fare",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("route_id", sa.String(length=32), nullable=False),
        sa.Column("class_code", sa.String(length=16), nullable=False),
        sa.Column("from_seq", sa.Integer(), nullable=False),
        sa.Column("to_seq", sa.Integer(), nullable=False),
        sa.Column("amount_fen", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["route_id"],
            ["tk_route.id"],
            name=op.f("fk_tk_fare_route_id_tk_route"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tk_fare")),
        sa.UniqueConstraint("route_id", "class_code", "from_seq", "to_seq", name="uq_tk_fare_leg"),
    )
    op.create_table(
        "tk_promotion",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("route_id", sa.String(length=32), nullable=True),
        sa.Column("class_code", sa.String(length=16), nullable=True),
        sa.Column("travel_from", sa.Date(), nullable=False),
        sa.Column("travel_to", sa.Date(), nullable=False),
        sa.Column("percent_off", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["route_id"],
            ["tk_route.id"],
            name=op.f("fk_tk_promotion_route_id_tk_route"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tk_promotion")),
        sa.UniqueConstraint("code", name=op.f("uq_tk_promotion_code")),
    )
    op.create_table(
        "tk_route_stop",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("route_id", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.String(length=32), nullable=False),
        sa.Column("arrive_min", sa.Integer(), nullable=False),
        sa.Column("depart_min", sa.Integer(), nullable=False),
        sa.Column("km", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["route_id"],
            ["tk_route.id"],
            name=op.f("fk_tk_route_stop_route_id_tk_route"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["station_id"], ["tk_station.id"], name=op.f("fk_tk_route_stop_station_id_tk_station")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tk_route_stop")),
        sa.UniqueConstraint("route_id", "seq", name="uq_tk_route_stop_seq"),
    )
    op.create_index(
        "ix_tk_route_stop_station", "tk_route_stop", ["station_id", "route_id"], unique=False
    )
    op.create_table(
        "tk_timetable",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("route_id", sa.String(length=32), nullable=False),
        sa.Column("layout_id", sa.String(length=32), nullable=False),
        sa.Column("service", sa.String(length=16), nullable=False),
        sa.Column("departs_local", sa.String(length=5), nullable=False),
        sa.Column("weekdays", sa.Integer(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["layout_id"],
            ["tk_seat_layout.id"],
            name=op.f("fk_tk_timetable_layout_id_tk_seat_layout"),
        ),
        sa.ForeignKeyConstraint(
            ["route_id"],
            ["tk_route.id"],
            name=op.f("fk_tk_timetable_route_id_tk_route"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tk_timetable")),
    )
    op.create_table(
        "tk_trip",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("route_id", sa.String(length=32), nullable=False),
        sa.Column("timetable_id", sa.String(length=32), nullable=False),
        sa.Column("layout_id", sa.String(length=32), nullable=False),
        sa.Column("service", sa.String(length=16), nullable=False),
        sa.Column("service_date", sa.Date(), nullable=False),
        sa.Column("departs_at", UtcDateTime(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["layout_id"], ["tk_seat_layout.id"], name=op.f("fk_tk_trip_layout_id_tk_seat_layout")
        ),
        sa.ForeignKeyConstraint(
            ["route_id"], ["tk_route.id"], name=op.f("fk_tk_trip_route_id_tk_route")
        ),
        sa.ForeignKeyConstraint(
            ["timetable_id"], ["tk_timetable.id"], name=op.f("fk_tk_trip_timetable_id_tk_timetable")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tk_trip")),
        sa.UniqueConstraint("timetable_id", "service_date", name="uq_tk_trip_run"),
    )
    op.create_index("ix_tk_trip_route_date", "tk_trip", ["route_id", "service_date"], unique=False)
    op.create_table(
        "tk_trip_seat",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("trip_id", sa.String(length=32), nullable=False),
        sa.Column("seat_no", sa.String(length=16), nullable=False),
        sa.Column("class_code", sa.String(length=16), nullable=False),
        sa.Column("section", sa.String(length=16), nullable=False),
        sa.Column("row", sa.Integer(), nullable=False),
        sa.Column("position", sa.String(length=8), nullable=False),
        sa.Column("legs", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["trip_id"],
            ["tk_trip.id"],
            name=op.f("fk_tk_trip_seat_trip_id_tk_trip"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tk_trip_seat")),
        sa.UniqueConstraint("trip_id", "seat_no", name="uq_tk_trip_seat_no"),
    )
    op.create_index(
        "ix_tk_trip_seat_class", "tk_trip_seat", ["trip_id", "class_code"], unique=False
    )
    op.create_table(
        "tk_seat_claim",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("trip_seat_id", sa.Integer(), nullable=False),
        sa.Column("trip_id", sa.String(length=32), nullable=False),
        sa.Column("order_id", sa.String(length=32), nullable=False),
        sa.Column("mask", sa.BigInteger(), nullable=False),
        sa.Column("claimed_at", UtcDateTime(), nullable=False),
        sa.Column("released_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["trip_seat_id"],
            ["tk_trip_seat.id"],
            name=op.f("fk_tk_seat_claim_trip_seat_id_tk_trip_seat"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tk_seat_claim")),
    )
    op.create_index(
        "ix_tk_seat_claim_open", "tk_seat_claim", ["order_id", "released_at"], unique=False
    )
    op.create_index(op.f("ix_tk_seat_claim_trip_id"), "tk_seat_claim", ["trip_id"], unique=False)
    op.create_index(
        op.f("ix_tk_seat_claim_trip_seat_id"), "tk_seat_claim", ["trip_seat_id"], unique=False
    )
    op.create_table(
        "tk_ticket",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("order_id", sa.String(length=32), nullable=False),
        sa.Column("passenger_name", sa.String(length=64), nullable=False),
        sa.Column("id_type", sa.String(length=16), nullable=False),
        sa.Column("id_number", sa.String(length=32), nullable=False),
        sa.Column("passenger_type", sa.String(length=16), nullable=False),
        sa.Column("trip_id", sa.String(length=32), nullable=False),
        sa.Column("trip_seat_id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("from_seq", sa.Integer(), nullable=False),
        sa.Column("to_seq", sa.Integer(), nullable=False),
        sa.Column("class_code", sa.String(length=16), nullable=False),
        sa.Column("seat_no", sa.String(length=16), nullable=False),
        sa.Column("fare_fen", sa.Integer(), nullable=False),
        sa.Column("price_fen", sa.Integer(), nullable=False),
        sa.Column("insurance_fen", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["claim_id"], ["tk_seat_claim.id"], name=op.f("fk_tk_ticket_claim_id_tk_seat_claim")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["tk_order.id"], name=op.f("fk_tk_ticket_order_id_tk_order")
        ),
        sa.ForeignKeyConstraint(
            ["trip_id"], ["tk_trip.id"], name=op.f("fk_tk_ticket_trip_id_tk_trip")
        ),
        sa.ForeignKeyConstraint(
            ["trip_seat_id"],
            ["tk_trip_seat.id"],
            name=op.f("fk_tk_ticket_trip_seat_id_tk_trip_seat"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tk_ticket")),
    )
    op.create_index(op.f("ix_tk_ticket_id_number"), "tk_ticket", ["id_number"], unique=False)
    op.create_index(op.f("ix_tk_ticket_order_id"), "tk_ticket", ["order_id"], unique=False)
    op.create_index(op.f("ix_tk_ticket_trip_id"), "tk_ticket", ["trip_id"], unique=False)


def downgrade() -> None:
    op.drop_table("tk_ticket")
    op.drop_table("tk_seat_claim")
    op.drop_table("tk_trip_seat")
    op.drop_table("tk_trip")
    op.drop_table("tk_timetable")
    op.drop_table("tk_route_stop")
    op.drop_table("tk_promotion")
    op.drop_table("tk_fare")
    op.drop_table("tk_route")
    op.drop_table("tk_order_log")
    op.drop_table("tk_ledger")
    op.drop_table("tk_layout_seat")
    op.drop_table("tk_station")
    op.drop_table("tk_seat_layout")
    op.drop_table("tk_passenger_type")
    op.drop_table("tk_order")
    op.drop_table("tk_operator")
    op.drop_table("tk_fee_rule")
