"""Tables of the catalog and of seat inventory.

Inventory invariant: `TripSeat.legs` has bit i set when leg i (stop i to stop i+1)
of that seat is taken. Bits are only ever set by one conditional UPDATE
(`legs & mask = 0`) and cleared by subtracting a mask that the releasing claim
owns, so two claims can never hold the same leg of the same seat.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ticketline.core.ids import new_id
from ticketline.db.base import Base, UtcDateTime


class Operator(Base):
    """A carrier (coach company, railway) or a venue operator."""

    __tablename__ = "tk_operator"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    product: Mapped[str] = mapped_column(String(16))  # rail, coach, event


class Station(Base):
    """A place trips stop at; `pinyin` and `initials` serve quick search (北京南 = bjn)."""

    __tablename__ = "tk_station"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name_zh: Mapped[str] = mapped_column(String(64), index=True)
    name_en: Mapped[str] = mapped_column(String(64))
    city: Mapped[str] = mapped_column(String(64))
    pinyin: Mapped[str] = mapped_column(String(128), index=True)
    initials: Mapped[str] = mapped_column(String(32), index=True)


class SeatLayout(Base):
    """The seats of a vehicle or a hall: copied into every trip that uses it."""

    __tablename__ = "tk_seat_layout"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))


class LayoutSeat(Base):
    """One seat of a layout. `section` is a coach car or a hall section. A general-
    admission place has `numbered` false: its `seat_no` is only a key, never shown, and
    a quota of N places is N such rows, so it is sold by the same claim as a seat."""

    __tablename__ = "tk_layout_seat"
    __table_args__ = (UniqueConstraint("layout_id", "seat_no", name="uq_tk_layout_seat_no"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    layout_id: Mapped[str] = mapped_column(ForeignKey("tk_seat_layout.id", ondelete="CASCADE"))
    seat_no: Mapped[str] = mapped_column(String(16))
    class_code: Mapped[str] = mapped_column(String(16))
    section: Mapped[str] = mapped_column(String(16))
    row: Mapped[int] = mapped_column(Integer)
    position: Mapped[str] = mapped_column(String(8))  # window, aisle, middle, none
    numbered: Mapped[bool] = mapped_column(Boolean)


class Route(Base):
    """An ordered line of stops run by one operator; a venue is a one-leg route."""

    __tablename__ = "tk_route"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    operator_id: Mapped[str] = mapped_column(ForeignKey("tk_operator.id"))
    name: Mapped[str] = mapped_column(String(100))
    product: Mapped[str] = mapped_column(String(16))  # rail, coach, event


class RouteStop(Base):
    """Stop `seq` of a route; minutes are counted from the first departure."""

    __tablename__ = "tk_route_stop"
    __table_args__ = (
        UniqueConstraint("route_id", "seq", name="uq_tk_route_stop_seq"),
        Index("ix_tk_route_stop_station", "station_id", "route_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    route_id: Mapped[str] = mapped_column(ForeignKey("tk_route.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    station_id: Mapped[str] = mapped_column(ForeignKey("tk_station.id"))
    arrive_min: Mapped[int] = mapped_column(Integer)
    depart_min: Mapped[int] = mapped_column(Integer)
    km: Mapped[int] = mapped_column(Integer)


class Timetable(Base):
    """A departure time of a route on some weekdays (bit 0 = Monday) between two dates."""

    __tablename__ = "tk_timetable"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    route_id: Mapped[str] = mapped_column(ForeignKey("tk_route.id", ondelete="CASCADE"))
    layout_id: Mapped[str] = mapped_column(ForeignKey("tk_seat_layout.id"))
    service: Mapped[str] = mapped_column(String(16))  # G101, K7, a show's title code
    departs_local: Mapped[str] = mapped_column(String(5))  # HH:MM in the site's zone
    weekdays: Mapped[int] = mapped_column(Integer)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date] = mapped_column(Date)


class Trip(Base):
    """One run of a timetable on one service date; the unit seats are sold on."""

    __tablename__ = "tk_trip"
    __table_args__ = (
        UniqueConstraint("timetable_id", "service_date", name="uq_tk_trip_run"),
        Index("ix_tk_trip_route_date", "route_id", "service_date"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    route_id: Mapped[str] = mapped_column(ForeignKey("tk_route.id"))
    timetable_id: Mapped[str] = mapped_column(ForeignKey("tk_timetable.id"))
    layout_id: Mapped[str] = mapped_column(ForeignKey("tk_seat_layout.id"))
    service: Mapped[str] = mapped_column(String(16))
    service_date: Mapped[date] = mapped_column(Date)
    departs_at: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(16))  # scheduled, cancelled


class TripSeat(Base):
    """A seat of one trip; `legs` is the bitmask of legs already held or sold. An
    unnumbered one is a general-admission place (see LayoutSeat)."""

    __tablename__ = "tk_trip_seat"
    __table_args__ = (
        UniqueConstraint("trip_id", "seat_no", name="uq_tk_trip_seat_no"),
        Index("ix_tk_trip_seat_legs", "trip_id", "class_code", "legs"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    trip_id: Mapped[str] = mapped_column(ForeignKey("tk_trip.id", ondelete="CASCADE"))
    seat_no: Mapped[str] = mapped_column(String(16))
    class_code: Mapped[str] = mapped_column(String(16))
    section: Mapped[str] = mapped_column(String(16))
    row: Mapped[int] = mapped_column(Integer)
    position: Mapped[str] = mapped_column(String(8))
    legs: Mapped[int] = mapped_column(BigInteger)
    numbered: Mapped[bool] = mapped_column(Boolean, default=True)


class Fare(Base):
    """The adult fare of one class between two stops of a route (computed or edited)."""

    __tablename__ = "tk_fare"
    __table_args__ = (
        UniqueConstraint("route_id", "class_code", "from_seq", "to_seq", name="uq_tk_fare_leg"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    route_id: Mapped[str] = mapped_column(ForeignKey("tk_route.id", ondelete="CASCADE"))
    class_code: Mapped[str] = mapped_column(String(16))
    from_seq: Mapped[int] = mapped_column(Integer)
    to_seq: Mapped[int] = mapped_column(Integer)
    amount_fen: Mapped[int] = mapped_column(Integer)


class PassengerType(Base):
    """Adult, child, student...: a discount in percent off the adult fare."""

    __tablename__ = "tk_passenger_type"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(32))
    name_en: Mapped[str] = mapped_column(String(32))
    percent_off: Mapped[int] = mapped_column(Integer)


class Promotion(Base):
    """Percent off for travel dates in a range, optionally one route and one class."""

    __tablename__ = "tk_promotion"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    route_id: Mapped[str | None] = mapped_column(ForeignKey("tk_route.id", ondelete="CASCADE"))
    class_code: Mapped[str | None] = mapped_column(String(16))
    travel_from: Mapped[date] = mapped_column(Date)
    travel_to: Mapped[date] = mapped_column(Date)
    percent_off: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean)


class SeatClaim(Base):
    """The legs of one seat an order holds; `released_at` set once they are given back."""

    __tablename__ = "tk_seat_claim"
    __table_args__ = (Index("ix_tk_seat_claim_open", "order_id", "released_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    trip_seat_id: Mapped[int] = mapped_column(ForeignKey("tk_trip_seat.id"), index=True)
    trip_id: Mapped[str] = mapped_column(String(32), index=True)
    order_id: Mapped[str] = mapped_column(String(32))
    mask: Mapped[int] = mapped_column(BigInteger)
    claimed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    released_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
