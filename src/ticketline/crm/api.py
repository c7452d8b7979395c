"""HTTP API of the CRM area: thin handlers over CustomerService and the timeline."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse

from ticketline.admin.permissions import Perm
from ticketline.admin.security import Principal, require
from ticketline.core.errors import InvalidInput
from ticketline.core.paging import Page, PageRequest
from ticketline.core.uploads import MultipartReader, declared_too_large, upload_doc
from ticketline.crm import imports
from ticketline.crm.errors import ImportTooLarge
from ticketline.crm.lookup import CallerInfo, Contact, OpenItemInfo, TierInfo
from ticketline.crm.loyalty import LoyaltyService
from ticketline.crm.models import (
    Customer,
    CustomerPhone,
    LoyaltyEntry,
    Segment,
    TimelineEntry,
    VipTier,
)
from ticketline.crm.schemas import (
    AdjustIn,
    BalanceOut,
    CallerOut,
    ConsentIn,
    ConsentOut,
    CustomerCreate,
    CustomerOut,
    CustomerPage,
    CustomerUpdate,
    ImportOut,
    LedgerOut,
    MergeIn,
    NoteIn,
    OpenItemOut,
    PhoneIn,
    PhoneOut,
    RedeemIn,
    RejectedRowOut,
    RuleIn,
    RuleOut,
    SegmentFilter,
    SegmentIn,
    SegmentMemberOut,
    SegmentOut,
    SegmentPage,
    TierIn,
    TierOut,
    TimelineOut,
)
from ticketline.crm.segments import Member, SegmentService, filter_of
from ticketline.crm.service import CustomerService
from ticketline.crm.timeline import TimelineRecorder

Reader = Annotated[Principal, Depends(require(Perm.CRM_READ))]
Writer = Annotated[Principal, Depends(require(Perm.CRM_WRITE))]
Operator = Annotated[Principal, Depends(require(Perm.SETTINGS_WRITE))]
Supervisor = Annotated[Principal, Depends(require(Perm.CALLS_SUPERVISE))]
Marketer = Annotated[Principal, Depends(require(Perm.CRM_SEGMENTS))]
PageNo = Annotated[int, Query(ge=1)]
PageSize = Annotated[int, Query(ge=1, le=500)]


def build_router(
    service: CustomerService,
    timeline: TimelineRecorder,
    loyalty: LoyaltyService,
    segments: SegmentService,
) -> APIRouter:
    router = APIRouter(prefix="/api/crm", tags=["crm"])

    async def outs(customers: list[Customer]) -> list[CustomerOut]:
        tiers = {t.id: t.code for t in await service.tiers()}
        numbers = await service.phones_of([c.id for c in customers])
        return [_customer_out(c, tiers, numbers[c.id]) for c in customers]

    async def out(customer: Customer) -> CustomerOut:
        return (await outs([customer]))[0]

    @router.get("/lookup", response_model=CallerOut)
    async def lookup(
        _: Reader,
        number: Annotated[str | None, Query(max_length=40)] = None,
        card: Annotated[str | None, Query(max_length=20)] = None,
    ) -> CallerOut:
        """The screen pop: who calls from `number` (or holds `card`), with context."""
        if not number and not card:
            raise InvalidInput("number", "give a calling number or a member card")
        return caller_out(await service.identify(number=number, member_card=card))

    @router.get("/customers", response_model=CustomerPage)
    async def search(
        _: Reader,
        q: Annotated[str | None, Query(max_length=100)] = None,
        page: PageNo = 1,
        size: PageSize = 50,
    ) -> CustomerPage:
        found = await service.search(q, PageRequest(page, size))
        return CustomerPage(
            items=await outs(found.items), total=found.total, page=found.page, size=found.size
        )

    @router.post("/customers", response_model=CustomerOut, status_code=201)
    async def create(body: CustomerCreate, who: Writer) -> CustomerOut:
        return await out(await service.create(who.actor, body))

    @router.post("/customers/import", response_model=ImportOut, openapi_extra=upload_doc())
    async def import_customers(
        request: Request,
        who: Writer,
        dry_run: bool = False,
        report: Literal["json", "csv"] = "json",
    ) -> ImportOut | Response:
        """Customers from a CSV or .xlsx file; rows that fail are reported, not imported.
        `dry_run` checks without writing; `report=csv` answers the rejected rows as CSV.
        The upload is read as it arrives and refused as soon as it passes the limit."""
        filename, content = await _read_upload(request)
        done = await imports.import_customers(
            service, who.actor, filename, content, dry_run=dry_run
        )
        if report == "csv":
            return Response(
                done.rejected_csv(),
                media_type="text/csv; charset=utf-8",
                headers={
                    "content-disposition": 'attachment; filename="rejected.csv"',
                    "x-imported": str(done.imported),
                    "x-total": str(done.total),
                },
            )
        return ImportOut(
            imported=done.imported,
            total=done.total,
            dry_run=done.dry_run,
            ignored_columns=done.ignored_columns,
            rejected=[
                RejectedRowOut(row=r.row, column=r.column, message=r.message) for r in done.rejected
            ],
        )

    @router.get("/customers/{customer_id}", response_model=CustomerOut)
    async def get(customer_id: str, _: Reader) -> CustomerOut:
        return await out(await service.get(customer_id))

    @router.patch("/customers/{customer_id}", response_model=CustomerOut)
    async def update(customer_id: str, body: CustomerUpdate, who: Writer) -> CustomerOut:
        return await out(await service.update(who.actor, customer_id, body))

    @router.post("/customers/{customer_id}/phones", response_model=CustomerOut, status_code=201)
    async def add_phone(customer_id: str, body: PhoneIn, who: Writer) -> CustomerOut:
        await service.add_phone(who.actor, customer_id, body)
        return await out(await service.get(customer_id))

    @router.delete("/customers/{customer_id}/phones/{number}", status_code=204)
    async def remove_phone(customer_id: str, number: str, who: Writer) -> None:
        await service.remove_phone(who.actor, customer_id, number)

    @router.post("/customers/{customer_id}/merge", response_model=CustomerOut)
    async def merge(customer_id: str, body: MergeIn, who: Writer) -> CustomerOut:
        """Fold another customer (a duplicate) into this one, keeping all history."""
        return await out(await service.merge(who.actor, customer_id, body.merge_id))

    @router.get("/customers/{customer_id}/consents", response_model=list[ConsentOut])
    async def consents(customer_id: str, _: Reader) -> list[ConsentOut]:
        return [
            ConsentOut(kind=c.kind, granted=c.granted, source=c.source, at=c.at, actor=c.actor_name)
            for c in await service.consents(customer_id)
        ]

    @router.post("/customers/{customer_id}/consents", status_code=201)
    async def record_consent(customer_id: str, body: ConsentIn, who: Writer) -> ConsentOut:
        c = await service.record_consent(who.actor, customer_id, body)
        return ConsentOut(
            kind=c.kind, granted=c.granted, source=c.source, at=c.at, actor=c.actor_name
        )

    @router.post("/customers/{customer_id}/notes", response_model=TimelineOut, status_code=201)
    async def add_note(customer_id: str, body: NoteIn, who: Writer) -> TimelineOut:
        return timeline_out(await service.add_note(who.actor, customer_id, body.text))

    @router.get("/customers/{customer_id}/timeline", response_model=list[TimelineOut])
    async def entries(
        customer_id: str,
        _: Reader,
        kind: Annotated[list[str] | None, Query(max_length=20)] = None,
        page: PageNo = 1,
        size: PageSize = 50,
    ) -> list[TimelineOut]:
        await service.get(customer_id)
        found = await timeline.entries(customer_id, PageRequest(page, size), kind)
        return [timeline_out(e) for e in found.items]

    @router.get("/customers/{customer_id}/points", response_model=BalanceOut)
    async def points(
        customer_id: str, _: Reader, page: PageNo = 1, size: PageSize = 50
    ) -> BalanceOut:
        """Balance and statement (newest first)."""
        balance = await loyalty.balance(customer_id)
        found = await loyalty.statement(customer_id, PageRequest(page, size))
        return BalanceOut(
            customer_id=customer_id, balance=balance, entries=[ledger_out(e) for e in found.items]
        )

    @router.post("/customers/{customer_id}/points/redeem", response_model=BalanceOut)
    async def redeem(customer_id: str, body: RedeemIn, who: Writer) -> BalanceOut:
        await loyalty.redeem(
            who.actor, customer_id, body.points, body.cause_type, body.cause_id, body.note
        )
        return await points(customer_id, who)

    @router.post("/customers/{customer_id}/points/adjust", response_model=BalanceOut)
    async def adjust(customer_id: str, body: AdjustIn, who: Supervisor) -> BalanceOut:
        """A manual correction, for supervisors; the reason is kept on the entry."""
        await loyalty.adjust(who.actor, customer_id, body.points, body.reason)
        return await points(customer_id, who)

    @router.get("/loyalty/rules", response_model=list[RuleOut])
    async def rules(_: Reader) -> list[RuleOut]:
        return [RuleOut.model_validate(r, from_attributes=True) for r in await loyalty.rules()]

    @router.put("/loyalty/rules/{code}", response_model=RuleOut)
    async def save_rule(code: str, body: RuleIn, who: Operator) -> RuleOut:
        if body.code != code:
            raise InvalidInput("code", "must match the code in the path")
        rule = await loyalty.save_rule(who.actor, body)
        return RuleOut.model_validate(rule, from_attributes=True)

    @router.get("/tiers", response_model=list[TierOut])
    async def tiers(_: Reader) -> list[TierOut]:
        return [tier_out(t) for t in await service.tiers()]

    @router.put("/tiers/{code}", response_model=TierOut)
    async def save_tier(code: str, body: TierIn, who: Operator) -> TierOut:
        if body.code != code:
            raise InvalidInput("code", "must match the code in the path")
        return tier_out(await service.save_tier(who.actor, body))

    # -- segments ----------------------------------------------------------------------

    @router.post("/segments/preview", response_model=SegmentPage)
    async def preview_segment(
        body: SegmentFilter, _: Marketer, page: PageNo = 1, size: PageSize = 50
    ) -> SegmentPage:
        """How many customers a filter holds, and the first of them (by name)."""
        return segment_page(await segments.preview(body, PageRequest(page, size)))

    @router.get("/segments", response_model=list[SegmentOut])
    async def list_segments(_: Marketer) -> list[SegmentOut]:
        return [segment_out(s) for s in await segments.segments()]

    @router.get("/segments/{code}", response_model=SegmentOut)
    async def get_segment(code: str, _: Marketer) -> SegmentOut:
        """A saved segment with how many customers it holds now."""
        return segment_out(await segments.get(code), await segments.count(code))

    @router.put("/segments/{code}", response_model=SegmentOut)
    async def save_segment(code: str, body: SegmentIn, who: Marketer) -> SegmentOut:
        return segment_out(await segments.save(who.actor, code, body))

    @router.delete("/segments/{code}", status_code=204)
    async def delete_segment(code: str, who: Marketer) -> None:
        await segments.delete(who.actor, code)

    @router.get("/segments/{code}/customers", response_model=SegmentPage)
    async def run_segment(
        code: str, _: Marketer, page: PageNo = 1, size: PageSize = 50
    ) -> SegmentPage:
        return segment_page(await segments.run(code, PageRequest(page, size)))

    @router.get("/segments/{code}/export.csv")
    async def export_segment(code: str, who: Marketer) -> StreamingResponse:
        """The segment's customers as CSV (UTF-8 with a BOM for Excel), streamed."""
        chunks = await segments.export_csv(who.actor, code)
        return StreamingResponse(
            chunks,
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="segment-{code}.csv"'},
        )

    return router


def segment_out(segment: Segment, count: int | None = None) -> SegmentOut:
    return SegmentOut(
        code=segment.code,
        name=segment.name,
        filter=filter_of(segment),
        created_at=segment.created_at,
        count=count,
    )


def segment_page(found: Page[Member]) -> SegmentPage:
    return SegmentPage(
        items=[SegmentMemberOut.model_validate(m, from_attributes=True) for m in found.items],
        total=found.total,
        page=found.page,
        size=found.size,
    )


def _customer_out(
    customer: Customer, tiers: dict[str, str], phones: list[CustomerPhone]
) -> CustomerOut:
    return CustomerOut(
        id=customer.id,
        name=customer.name,
        gender=customer.gender,
        birthday=customer.birthday,
        id_type=customer.id_type,
        id_number=customer.id_number,
        email=customer.email,
        locale=customer.locale,
        preferences=customer.preferences,
        tags=customer.tags,
        notes=customer.notes,
        vip_tier=tiers.get(customer.vip_tier_id or ""),
        named_agent_id=customer.named_agent_id,
        member_card=customer.member_card,
        do_not_call=customer.do_not_call,
        status=customer.status,
        merged_into_id=customer.merged_into_id,
        points_balance=customer.points_balance,
        phones=[PhoneOut(number=p.number, label=p.label, primary=p.is_primary) for p in phones],
        created_at=customer.created_at,
        last_contact_at=customer.last_contact_at,
    )


def ledger_out(entry: LoyaltyEntry) -> LedgerOut:
    return LedgerOut(
        id=entry.id,
        at=entry.at,
        kind=entry.kind,
        points=entry.points,
        balance_after=entry.balance_after,
        expires_at=entry.expires_at,
        cause_type=entry.cause_type,
        cause_id=entry.cause_id,
        note=entry.note,
        actor=entry.actor_name,
    )


def tier_out(tier: VipTier | TierInfo) -> TierOut:
    return TierOut(
        code=tier.code,
        name_zh=tier.name_zh,
        name_en=tier.name_en,
        rank=tier.rank,
        queue_priority=tier.queue_priority,
        named_agent=tier.named_agent,
        points_percent=tier.points_percent,
    )


def timeline_out(entry: TimelineEntry | Contact) -> TimelineOut:
    if isinstance(entry, Contact):
        return TimelineOut(
            id=entry.entry_id,
            at=entry.at,
            kind=entry.kind,
            title=entry.title,
            detail={},
            ref_type=entry.ref_type,
            ref_id=entry.ref_id,
            actor=entry.actor,
        )
    return TimelineOut(
        id=entry.id,
        at=entry.at,
        kind=entry.kind,
        title=entry.title,
        detail=entry.detail,
        ref_type=entry.ref_type,
        ref_id=entry.ref_id,
        actor=entry.actor_name,
    )


def _item_out(item: OpenItemInfo) -> OpenItemOut:
    return OpenItemOut(
        kind=item.kind,
        ref_id=item.ref_id,
        code=item.code,
        state=item.state,
        title=item.title,
        amount_fen=item.amount_fen,
        updated_at=item.updated_at,
    )


def caller_out(info: CallerInfo) -> CallerOut:
    return CallerOut(
        known=info.known,
        number=info.number,
        customer_id=info.customer_id,
        name=info.name,
        vip_tier=tier_out(info.tier) if info.tier else None,
        named_agent_id=info.named_agent_id,
        do_not_call=info.do_not_call,
        locale=info.locale,
        points_balance=info.points_balance,
        last_contacts=[timeline_out(c) for c in info.last_contacts],
        open_orders=[_item_out(i) for i in info.open_orders],
        open_work_orders=[_item_out(i) for i in info.open_work_orders],
    )


async def _read_upload(request: Request) -> tuple[str, bytes]:
    """The file part of a multipart body, refused once it passes `imports.MAX_BYTES`."""
    if declared_too_large(request.headers.get("content-length"), imports.MAX_BYTES):
        raise _too_large()
    reader = MultipartReader(request.headers.get("content-type", ""), request.stream())
    filename = await reader.file("file")
    content = bytearray()
    async for chunk in reader.chunks():
        content += chunk
        if len(content) > imports.MAX_BYTES:
            raise _too_large()
    return filename, bytes(content)


def _too_large() -> ImportTooLarge:
    return ImportTooLarge(
        f"file: larger than {imports.MAX_BYTES // (1024 * 1024)} MB; split it",
        details={"field": "file", "max_bytes": imports.MAX_BYTES},
    )
