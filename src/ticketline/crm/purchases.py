"""The purchase history of customers (`customer_purchase`), projected from order events.

`OrderPaid` writes one row per order (the customer found by the order's contact phone,
as for loyalty points); `OrderRefunded` marks it refunded, or for a partial refund
keeps what the order still holds. Both are absolute writes keyed by the order id, so
a replayed event changes nothing. Segments read only this table.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from ticketline.core.clock import Clock
from ticketline.crm.models import CustomerPhone, Purchase
from ticketline.db.session import Database


class PurchaseProjection:
    """Bus handlers keeping `customer_purchase` in step with paid and refunded orders."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def record_paid(self, event: object) -> None:
        """`OrderPaid` handler: one row per order, written once."""
        order_id, phone = getattr(event, "order_id", None), getattr(event, "phone", None)
        if not order_id or not phone:
            return
        async with self.db.transaction() as session:
            known = await session.scalar(select(Purchase).where(Purchase.order_id == order_id))
            if known is not None:
                return
            customer_id = await session.scalar(
                select(CustomerPhone.customer_id).where(CustomerPhone.number == phone)
            )
            if customer_id is None:
                return  # not a customer (yet): nothing to project
            session.add(
                Purchase(
                    customer_id=customer_id,
                    order_id=str(order_id),
                    route=str(getattr(event, "route", "") or "")[:64] or None,
                    amount_fen=int(getattr(event, "total_fen", 0) or 0),
                    travel_at=_instant(getattr(event, "departs_at", "")),
                    paid_at=self.clock.now(),
                    refunded=False,
                )
            )

    async def record_refunded(self, event: object) -> None:
        """`OrderRefunded` handler: a complete refund marks the purchase refunded; a
        partial one leaves it with the total the order still holds."""
        order_id = getattr(event, "order_id", None)
        if not order_id:
            return
        async with self.db.transaction() as session:
            purchase = await session.scalar(
                select(Purchase).where(Purchase.order_id == str(order_id)).with_for_update()
            )
            if purchase is None:
                return
            if getattr(event, "complete", True):
                purchase.refunded = True
            else:
                purchase.amount_fen = max(int(getattr(event, "total_fen", 0) or 0), 0)


def _instant(text: object) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(str(text))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None
