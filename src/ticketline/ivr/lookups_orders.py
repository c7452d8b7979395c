"""Order look-ups and self-service actions over the ticketing service.

Booking codes mix digits and letters; on a keypad a caller presses, for each
letter, the key that carries it (K is 5). Such keys name one code only among a
caller's own orders, so the keys are matched against the codes of the orders
`orders_of_caller` returns (the CRM's view of the caller, once wired); a code
typed as it is (all digits) is looked up directly.

Cancelling needs the caller to ring from the order's contact phone: the flow
reads the code back and asks for confirmation before it calls the action. A new
pickup code only ever goes by SMS to the contact phone, so anyone may ask.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

import phonenumbers

from ticketline.core.errors import Conflict, TicketlineError
from ticketline.ivr.actions import ActionContext, ActionRegistry, ActionResult
from ticketline.ivr.lookups_ticketing import LETTER_KEY
from ticketline.ivr.sayas import speak
from ticketline.ticketing.errors import OrderNotFound
from ticketline.ticketing.schemas import OrderOut, RefundQuote, TicketOut
from ticketline.ticketing.service import TicketingService

OrdersOfCaller = Callable[[str], Awaitable[list[str]]]
IdentifyNumber = Callable[[str], Awaitable[ActionResult]]

STATE_WORDS = {
    "held": ("已预留，尚未确认", "held and not yet confirmed"),
    "booked": ("已预订，尚未支付", "booked and not paid yet"),
    "paid": ("已支付，尚未出票", "paid, the ticket is being issued"),
    "issued": ("已出票，可凭取票密码取票", "issued; collect it with your pickup code"),
    "changed": ("已改签", "changed to a new trip"),
    "picked_up": ("已取票", "collected"),
    "used": ("已使用", "used"),
    "expired": ("已过期取消", "expired"),
    "cancelled": ("已取消", "cancelled"),
    "refunded": ("已退票", "refunded"),
    "void": ("已作废", "void"),
}
UNPAID = frozenset({"held", "booked"})
PICKUP = frozenset({"paid", "issued", "changed"})


def keys_of_code(code: str) -> str:
    """The keys a caller presses for a booking code: digits as they are, letters by key."""
    return "".join(c if c.isdigit() else LETTER_KEY.get(c.lower(), "") for c in code)


class OrderLookups:
    """order_status, resend_pickup_code and cancel_unpaid_booking over `TicketingService`."""

    def __init__(
        self,
        ticketing: TicketingService,
        orders_of_caller: OrdersOfCaller | None = None,
        identify_number: IdentifyNumber | None = None,
    ) -> None:
        self.ticketing = ticketing
        self.orders_of_caller = orders_of_caller
        self.identify_number = identify_number

    def bind(self, registry: ActionRegistry) -> None:
        registry.bind("order_status", self.order_status)
        registry.bind("resend_pickup_code", self.resend_pickup_code)
        registry.bind("cancel_unpaid_booking", self.cancel_unpaid_booking)
        registry.bind("refund_rules", self.refund_rules)
        if self.identify_number is not None:
            registry.bind("identify_by_booking", self.identify_by_booking)

    async def find(self, ctx: ActionContext, keys: str) -> OrderOut | None:
        """The order the caller's keys name: a code as typed, or one of their own orders."""
        try:
            return await self.ticketing.order_status(keys)
        except OrderNotFound:
            pass
        if self.orders_of_caller is None:
            return None
        for code in await self.orders_of_caller(ctx.caller):
            if keys_of_code(code) == keys:
                return await self.ticketing.order_status(code)
        return None

    async def order_status(self, ctx: ActionContext, args: Mapping[str, object]) -> ActionResult:
        """State of an order by its booking code, its first trip, and what is owed."""
        order = await self.find(ctx, str(args["code"]))
        if order is None:
            return ActionResult("not_found")
        values = {
            "code": order.code,
            "state": order.state,
            "unpaid": order.state in UNPAID,
            "pickup": order.state in PICKUP,
            "balance": order.balance_fen,
            "reply": {lang: status_reply(order, lang, self.ticketing) for lang in ("zh", "en")},
        }
        return ActionResult("ok", values)

    async def resend_pickup_code(
        self, ctx: ActionContext, args: Mapping[str, object]
    ) -> ActionResult:
        """A new pickup code by SMS to the order's contact phone."""
        order = await self.find(ctx, str(args["code"]))
        if order is None:
            return ActionResult("not_found")
        if order.state not in PICKUP:
            return ActionResult("not_allowed", {"state": order.state})
        try:
            await self.ticketing.resend_pickup_code(order.code)
        except TicketlineError as exc:
            return ActionResult("not_allowed", {"reason": exc.code})
        reply = {
            "zh": "新的取票密码已通过短信发送到订单预留的手机。",
            "en": "A new pickup code is on its way by text message to the booking's phone.",
        }
        return ActionResult("ok", {"reply": reply})

    async def cancel_unpaid_booking(
        self, ctx: ActionContext, args: Mapping[str, object]
    ) -> ActionResult:
        """Cancel a booking not paid yet, for a caller ringing from its contact phone."""
        order = await self.find(ctx, str(args["code"]))
        if order is None:
            return ActionResult("not_found")
        if order.state not in UNPAID or not same_phone(order.contact_phone, ctx.caller):
            return ActionResult("not_allowed", {"state": order.state})
        try:
            cancelled = await self.ticketing.cancel_unpaid(order.code)
        except Conflict as exc:
            return ActionResult("not_allowed", {"reason": exc.code})
        code = (speak(cancelled.code, "code", "zh"), speak(cancelled.code, "code", "en"))
        reply = {
            "zh": f"订单{code[0]}已取消，座位已释放。",
            "en": f"Booking {code[1]} is cancelled and its seats are released.",
        }
        return ActionResult("ok", {"reply": reply, "state": cancelled.state})

    async def refund_rules(self, ctx: ActionContext, args: Mapping[str, object]) -> ActionResult:
        """What refunding the order now would cost and give back, by the fee rules."""
        order = await self.find(ctx, str(args["code"]))
        if order is None:
            return ActionResult("not_found")
        try:
            quote = await self.ticketing.refund_rules(order.code)
        except TicketlineError:  # nothing left to refund (refunded, used, cancelled...)
            quote = None
        reply = {lang: refund_reply(order.code, quote, lang) for lang in ("zh", "en")}
        values: dict[str, object] = {"code": order.code, "reply": reply}
        if quote is not None:
            values |= {"allowed": quote.allowed, "fee": quote.fee_fen, "refund": quote.refund_fen}
        return ActionResult("ok", values)

    async def identify_by_booking(
        self, ctx: ActionContext, args: Mapping[str, object]
    ) -> ActionResult:
        """The customer who booked: the CRM's customer behind the order's contact phone."""
        order = await self.find(ctx, str(args["code"]))
        if order is None or self.identify_number is None:
            return ActionResult("not_found", {"self_service": False})
        return await self.identify_number(order.contact_phone)


def refund_reply(code: str, quote: RefundQuote | None, lang: str) -> str:
    zh = lang == "zh"
    spoken = speak(code, "code", lang)
    if quote is None or not quote.lines:
        return (
            f"订单{spoken}没有可以退的票。" if zh else f"Booking {spoken} has no ticket to refund."
        )
    if not quote.allowed:
        return (
            f"订单{spoken}现在已不能退票，改签请转人工服务。"
            if zh
            else f"Booking {spoken} can no longer be refunded; an agent can help you change it."
        )
    fee, back = speak(quote.fee_fen, "money", lang), speak(quote.refund_fen, "money", lang)
    if zh:
        return f"订单{spoken}现在退票，手续费{fee}，可退{back}。开车前改签请转人工服务。"
    return f"Refunding booking {spoken} now costs {fee}; you get {back} back."


def same_phone(a: str, b: str) -> bool:
    """Two ways of writing one number (E.164, national, with 86 or without)."""
    try:
        first, second = phonenumbers.parse(a, "CN"), phonenumbers.parse(b, "CN")
    except phonenumbers.NumberParseException:
        return False
    return (first.country_code, first.national_number) == (
        second.country_code,
        second.national_number,
    )


def status_reply(order: OrderOut, lang: str, ticketing: TicketingService) -> str:
    zh = lang == "zh"
    code = speak(order.code, "code", lang)
    state = STATE_WORDS.get(order.state, (order.state, order.state))[0 if zh else 1]
    parts = [f"订单{code}{state}。" if zh else f"Booking {code} is {state}."]
    if order.tickets:
        parts.append(_ticket(order.tickets[0], len(order.tickets), lang, ticketing))
    if order.state in UNPAID and order.balance_fen > 0:
        owed = speak(order.balance_fen, "money", lang)
        parts.append(f"应付{owed}。" if zh else f"{owed} is due.")
        if order.expires_at is not None:
            local = order.expires_at.astimezone(ticketing.zone)
            until = f"{speak(local.date(), 'date', lang)} {speak(local.time(), 'time', lang)}"
            parts.append(f"请在{until}前支付，逾期自动取消。" if zh else f"Please pay by {until}.")
    return ("" if zh else " ").join(parts)


def _ticket(ticket: TicketOut, count: int, lang: str, ticketing: TicketingService) -> str:
    zh = lang == "zh"
    train = speak(ticket.service, "train", lang)
    leaves = ticket.departs_at.astimezone(ticketing.zone)
    day, at = speak(leaves.date(), "date", lang), speak(leaves.time(), "time", lang)
    if zh:
        people = speak(count, "count", lang)
        return (
            f"{day}{train}次，{ticket.from_station}到{ticket.to_station}，{at}开，共{people}张票。"
        )
    tickets = "1 ticket" if count == 1 else f"{count} tickets"
    return f"{train} on {day}, leaving {ticket.from_station} at {at}, {tickets}."
