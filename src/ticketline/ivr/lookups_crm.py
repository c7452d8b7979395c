"""Who is calling, and their points, over the CRM's customer service.

`identify_caller` runs first in the hotline: it sets the call's `customer` and
`vip_tier` (the tier's queue priority), so the flow greets a known caller by
name and the ACD serves VIPs first. Identifying is not self-service by itself:
its results do not count toward containment.
"""

from __future__ import annotations

from collections.abc import Mapping

from ticketline.crm.errors import CustomerNotFound
from ticketline.crm.lookup import CallerInfo
from ticketline.crm.service import CustomerService
from ticketline.ivr.actions import ActionContext, ActionRegistry, ActionResult
from ticketline.ivr.sayas import speak


class CrmLookups:
    """identify_caller, identify_by_card and points_balance over `CustomerService`."""

    def __init__(self, crm: CustomerService) -> None:
        self.crm = crm

    def bind(self, registry: ActionRegistry) -> None:
        registry.bind("identify_caller", self.identify_caller)
        registry.bind("identify_by_card", self.identify_by_card)
        registry.bind("points_balance", self.points_balance)

    async def orders_of_caller(self, number: str) -> list[str]:
        """Booking codes of the caller's open orders (for keypad order look-ups)."""
        info = await self.crm.lookup_caller(number)
        return [item.code for item in info.open_orders if item.kind == "order"]

    async def identify_caller(self, ctx: ActionContext, args: Mapping[str, object]) -> ActionResult:
        """The customer behind the calling number."""
        return await self.identify_number(ctx.caller)

    async def identify_number(self, number: str) -> ActionResult:
        """The customer behind a phone number (the caller's, or a booking's contact)."""
        return _identified(await self.crm.lookup_caller(number))

    async def identify_by_card(
        self, ctx: ActionContext, args: Mapping[str, object]
    ) -> ActionResult:
        """The customer behind a membership card number typed on the keypad."""
        return _identified(await self.crm.identify(member_card=str(args["card"])))

    async def points_balance(self, ctx: ActionContext, args: Mapping[str, object]) -> ActionResult:
        """The identified member's points, read out."""
        if ctx.customer_id is None:
            return ActionResult("not_found")
        try:
            customer = await self.crm.get(ctx.customer_id)
        except CustomerNotFound:
            return ActionResult("not_found")
        points = int(customer.points_balance or 0)
        reply = {
            "zh": f"您的积分余额为{speak(points, 'number', 'zh')}分。",
            "en": f"Your points balance is {points} point{'s' if points != 1 else ''}.",
        }
        return ActionResult("ok", {"points": points, "reply": reply})


def _identified(info: CallerInfo) -> ActionResult:
    if not info.known or info.customer_id is None:
        return ActionResult("not_found", {"self_service": False})
    customer = {
        "id": info.customer_id,
        "name": info.name or "",
        "vip_tier": info.queue_priority,
        "tier": info.tier.code if info.tier else None,
        "points": info.points_balance,
        "open_orders": len(info.open_orders),
    }
    return ActionResult("ok", {"customer": customer, "self_service": False})
