"""HTTP API of the ticketing money side: settlement, credit, carrier deposits,
commission policies, the income and cost journal, profit per ticket and stock.

Reading needs finance.read, writing finance.write.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field, StringConstraints

from ticketline.admin.permissions import Perm
from ticketline.admin.security import Principal, require
from ticketline.ticketing.finance import PRODUCTS
from ticketline.ticketing.schemas import (
    DepositEntryOut,
    DepositIn,
    DepositOut,
    StrictModel,
    TopUpIn,
)
from ticketline.ticketing.service import TicketingService
from ticketline.ticketing.stock import KINDS

Finance = Annotated[Principal, Depends(require(Perm.FINANCE_READ))]
Treasurer = Annotated[Principal, Depends(require(Perm.FINANCE_WRITE))]
Code = Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=r"^[a-z0-9_-]+$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Serial = Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9-]+$")]
From = Annotated[date, Query(alias="from")]
To = Annotated[date, Query(alias="to")]


class CreditOut(BaseModel):
    code: str
    contact_name: str
    contact_phone: str
    due: date
    owed_fen: int


class SettlementOut(BaseModel):
    actor: str
    method: str
    payments_fen: int
    refunds_fen: int
    count: int


class CommissionIn(StrictModel):
    """`operator` null: the default of the product; `percent` in tenths of a percent."""

    operator: Code | None = None
    product: Literal[PRODUCTS]  # type: ignore[valid-type]
    percent: int = Field(ge=0, le=1000)
    fixed_fen: int = Field(0, ge=0, le=100_000)


class CommissionOut(BaseModel):
    operator: str | None
    product: str
    percent: int
    fixed_fen: int
    updated_at: datetime
    updated_by: str


class CategoryIn(StrictModel):
    code: Code
    kind: Literal["income", "cost"]
    name_zh: Name
    name_en: Name


class CategoryOut(BaseModel):
    code: str
    kind: str
    name_zh: str
    name_en: str
    system: bool


class EntryIn(StrictModel):
    """A manual amount: positive books it, negative corrects an earlier one."""

    category: Code
    amount_fen: int
    day: date
    note: Note = ""


class CategoryTotalOut(BaseModel):
    code: str
    kind: str
    name_zh: str
    name_en: str
    amount_fen: int


class ReportOut(BaseModel):
    """Income and costs by category over the days `first`..`last`, and the profit."""

    first: date
    last: date
    categories: list[CategoryTotalOut]
    income_fen: int
    cost_fen: int
    profit_fen: int


class TicketProfitOut(BaseModel):
    code: str
    ticket_id: str
    passenger_name: str
    operator: str
    issued_on: date
    income_fen: int
    cost_fen: int
    profit_fen: int


class StockIn(StrictModel):
    code: Code
    kind: Literal[KINDS]  # type: ignore[valid-type]
    operator: Code | None = None
    name: Name
    alert_below: int = Field(ge=0, le=100_000)


class ReceiveIn(StrictModel):
    quantity: int = Field(ge=1, le=100_000)
    serial_from: Serial | None = None
    serial_to: Serial | None = None


class CountIn(StrictModel):
    on_hand: int = Field(ge=0, le=1_000_000)
    note: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class StockOut(BaseModel):
    code: str
    kind: str
    operator: str | None
    name: str
    on_hand: int
    alert_below: int
    low: bool
    updated_at: datetime


class MovementOut(BaseModel):
    kind: str
    quantity: int
    on_hand_after: int
    serial_from: str | None
    serial_to: str | None
    order_id: str | None
    note: str | None
    at: datetime
    actor: str


def build_finance_router(service: TicketingService) -> APIRouter:
    router = APIRouter(prefix="/api/ticketing/finance", tags=["finance"])
    _takings_routes(router, service)
    _deposit_routes(router, service)
    _journal_routes(router, service)
    _stock_routes(router, service)
    return router


def _takings_routes(router: APIRouter, service: TicketingService) -> None:
    @router.get("/settlement", response_model=list[SettlementOut])
    async def settlement(
        _: Finance, day: Annotated[date, Query(alias="date")]
    ) -> list[SettlementOut]:
        """Money taken and given back on a local day, per agent and payment method."""
        lines = await service.payments.settlement(day)
        return [SettlementOut.model_validate(line, from_attributes=True) for line in lines]

    @router.get("/credit", response_model=list[CreditOut])
    async def credit(_: Finance, overdue: bool = False) -> list[CreditOut]:
        """Orders on credit still owing, earliest due first; `overdue` for those past due."""
        lines = await (service.payments.overdue() if overdue else service.payments.credit_owed())
        return [CreditOut.model_validate(line, from_attributes=True) for line in lines]


def _deposit_routes(router: APIRouter, service: TicketingService) -> None:
    @router.get("/deposits", response_model=list[DepositOut])
    async def deposits(_: Finance) -> list[DepositOut]:
        """Carrier deposit accounts, with `low` when under their alert threshold."""
        return [DepositOut(**d.__dict__) for d in await service.deposits.accounts()]

    @router.put("/deposits/{operator}", response_model=DepositOut)
    async def open_deposit(operator: str, body: DepositIn, who: Treasurer) -> DepositOut:
        """Put a carrier on deposit, or change the balance that raises the alert."""
        view = await service.deposits.open_or_set(who.actor, operator, body.alert_below_fen)
        return DepositOut(**view.__dict__)

    @router.post("/deposits/{operator}/top-ups", response_model=DepositOut)
    async def top_up(operator: str, body: TopUpIn, who: Treasurer) -> DepositOut:
        view = await service.deposits.top_up(who.actor, operator, body.amount_fen, body.reference)
        return DepositOut(**view.__dict__)

    @router.get("/deposits/{operator}/entries", response_model=list[DepositEntryOut])
    async def deposit_entries(operator: str, _: Finance) -> list[DepositEntryOut]:
        entries = await service.deposits.entries(operator)
        return [DepositEntryOut.model_validate(e, from_attributes=True) for e in entries]


def _journal_routes(router: APIRouter, service: TicketingService) -> None:
    finance = service.finance

    @router.get("/commissions", response_model=list[CommissionOut])
    async def commissions(_: Finance) -> list[CommissionOut]:
        """Commission policies; a null operator is the product's default."""
        return [_commission(policy, operator) for policy, operator in await finance.policies()]

    @router.put("/commissions", response_model=CommissionOut)
    async def set_commission(body: CommissionIn, who: Treasurer) -> CommissionOut:
        """Set the commission of tickets issued from now on (issued ones keep theirs)."""
        policy = await finance.set_policy(
            who.actor, body.operator, body.product, body.percent, body.fixed_fen
        )
        return _commission(policy, body.operator)

    @router.get("/categories", response_model=list[CategoryOut])
    async def categories(_: Finance) -> list[CategoryOut]:
        return [
            CategoryOut.model_validate(c, from_attributes=True) for c in await finance.categories()
        ]

    @router.post("/categories", response_model=CategoryOut, status_code=201)
    async def add_category(body: CategoryIn, who: Treasurer) -> CategoryOut:
        made = await finance.add_category(
            who.actor, body.code, body.kind, body.name_zh, body.name_en
        )
        return CategoryOut.model_validate(made, from_attributes=True)

    @router.post("/entries", status_code=201)
    async def add_entry(body: EntryIn, who: Treasurer) -> dict[str, int]:
        """Book a manual income or cost to a category that is not booked automatically."""
        entry = await finance.add_entry(
            who.actor, body.category, body.amount_fen, body.day, body.note
        )
        return {"id": entry.id}

    @router.get("/report", response_model=ReportOut)
    async def report(_: Finance, first: From, last: To) -> ReportOut:
        totals = await finance.report(first, last)
        income = sum(t.amount_fen for t in totals if t.kind == "income")
        cost = sum(t.amount_fen for t in totals if t.kind == "cost")
        lines = [CategoryTotalOut(**t.__dict__) for t in totals]
        return ReportOut(
            first=first,
            last=last,
            categories=lines,
            income_fen=income,
            cost_fen=cost,
            profit_fen=income - cost,
        )

    @router.get("/ticket-profits", response_model=list[TicketProfitOut])
    async def ticket_profits(_: Finance, first: From, last: To) -> list[TicketProfitOut]:
        """Tickets issued on those days: what each brought in, cost and left as profit
        (refunds and changes since included)."""
        return [TicketProfitOut(**p.__dict__) for p in await finance.ticket_profits(first, last)]


def _stock_routes(router: APIRouter, service: TicketingService) -> None:
    stock = service.stock

    @router.get("/stock", response_model=list[StockOut])
    async def items(_: Finance) -> list[StockOut]:
        """Blank ticket and insurance form stock, with `low` when under the alert level."""
        return [StockOut(**item.__dict__) for item in await stock.items()]

    @router.post("/stock", response_model=StockOut, status_code=201)
    async def create(body: StockIn, who: Treasurer) -> StockOut:
        view = await stock.create(
            who.actor, body.code, body.kind, body.operator, body.name, body.alert_below
        )
        return StockOut(**view.__dict__)

    @router.post("/stock/{code}/receipts", response_model=StockOut)
    async def receive(code: str, body: ReceiveIn, who: Treasurer) -> StockOut:
        view = await stock.receive(who.actor, code, body.quantity, body.serial_from, body.serial_to)
        return StockOut(**view.__dict__)

    @router.post("/stock/{code}/counts", response_model=StockOut)
    async def count(code: str, body: CountIn, who: Treasurer) -> StockOut:
        """Set the stock to what was counted; the difference is kept with the reason."""
        return StockOut(**(await stock.count(who.actor, code, body.on_hand, body.note)).__dict__)

    @router.get("/stock/{code}/movements", response_model=list[MovementOut])
    async def movements(code: str, _: Finance) -> list[MovementOut]:
        return [
            MovementOut.model_validate(m, from_attributes=True) for m in await stock.movements(code)
        ]


def _commission(policy: object, operator: str | None) -> CommissionOut:
    return CommissionOut.model_validate({**vars(policy), "operator": operator})
