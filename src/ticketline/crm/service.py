"""Customer use cases: the only writer of customers, phones, tiers, consents and notes.

Functions the IVR and ACD call (no HTTP in between):

- ``await crm.lookup_caller(number) -> CallerInfo`` — the screen pop; ``known`` is
  False for a new caller (or an anonymous/malformed caller id).
- ``await crm.identify(number=None, member_card=None) -> CallerInfo`` — by phone or
  by membership card typed on the keypad.
- ``await crm.loyalty.balance(customer_id) -> int`` — points to read out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ticketline.admin import audit
from ticketline.admin.models import Staff
from ticketline.admin.security import Actor
from ticketline.core.bus import EventBus
from ticketline.core.clock import Clock
from ticketline.core.errors import InvalidInput
from ticketline.core.paging import Page, PageRequest
from ticketline.crm import lookup, phones
from ticketline.crm.errors import (
    CustomerMerged,
    CustomerNotFound,
    DuplicateCustomer,
    TierNotFound,
)
from ticketline.crm.events import CustomerChanged, CustomerCreated, CustomersMerged
from ticketline.crm.lookup import CallerInfo
from ticketline.crm.models import (
    Consent,
    Customer,
    CustomerPhone,
    GreetingSent,
    LoyaltyEntry,
    OpenItem,
    Purchase,
    TimelineEntry,
    Traveller,
    VipTier,
)
from ticketline.crm.schemas import (
    ConsentIn,
    CustomerCreate,
    CustomerUpdate,
    PhoneIn,
    TierIn,
    TravellerIn,
    TravellerOut,
)
from ticketline.db.session import Database

TRAVELLERS_SHOWN = 20
_PROFILE_FIELDS = (
    "name",
    "gender",
    "birthday",
    "id_type",
    "id_number",
    "email",
    "locale",
    "tags",
    "notes",
    "member_card",
    "do_not_call",
)
_REQUIRED_FIELDS = frozenset({"name", "gender", "locale", "tags", "notes", "do_not_call"})


def snapshot(customer: Customer) -> dict[str, Any]:
    """The audited view of a customer (dates as text so it stores as JSON)."""
    values = {name: getattr(customer, name) for name in _PROFILE_FIELDS}
    values["birthday"] = customer.birthday.isoformat() if customer.birthday else None
    values["preferences"] = customer.preferences
    values["vip_tier_id"] = customer.vip_tier_id
    values["named_agent_id"] = customer.named_agent_id
    return values


class CustomerService:
    """Customers and everything hanging off them; every change is audited."""

    def __init__(self, db: Database, clock: Clock, bus: EventBus) -> None:
        self.db = db
        self.clock = clock
        self.bus = bus
        self._reader = lookup.reader_engine(db)

    async def close(self) -> None:
        """Release the screen pop's own connections."""
        if self._reader is not self.db.engine:
            await self._reader.dispose()

    # -- the screen pop ----------------------------------------------------------------

    async def lookup_caller(self, number: str | None) -> CallerInfo:
        """Who is calling from `number` (any dialled form), with tier, last contacts,
        open orders and open work orders; `known=False` for a new caller."""
        e164 = phones.try_normalize(number)
        if e164 is None:
            return CallerInfo.new_caller(None)
        return await lookup.run(self._reader, lookup.by_phone, e164)

    async def identify(
        self, *, number: str | None = None, member_card: str | None = None
    ) -> CallerInfo:
        """For the IVR: the customer behind a membership card (if given) or a number."""
        if member_card:
            return await lookup.run(self._reader, lookup.by_card, member_card.strip().upper())
        return await self.lookup_caller(number)

    # -- customers ---------------------------------------------------------------------

    async def create(self, actor: Actor, data: CustomerCreate) -> Customer:
        """Add a customer; a phone, card or ID document already held by another customer
        raises `DuplicateCustomer` naming it, so the agent can merge instead."""
        numbers = _normalized_phones(data.phones)
        now = self.clock.now()
        async with self.db.transaction() as session:
            await _refuse_duplicates(session, numbers, data.member_card, data)
            customer = Customer(
                name=data.name,
                gender=data.gender,
                birthday=data.birthday,
                birthday_mmdd=data.birthday.strftime("%m-%d") if data.birthday else None,
                id_type=data.id_type if data.id_number else None,
                id_number=data.id_number or None,
                email=data.email,
                locale=data.locale,
                preferences=data.preferences.model_dump(exclude_none=True),
                tags=sorted(set(data.tags)),
                notes=data.notes,
                vip_tier_id=await _tier_id(session, data.vip_tier),
                member_card=data.member_card,
                do_not_call=data.do_not_call,
                status="active",
                points_balance=0,
                created_at=now,
                updated_at=now,
            )
            session.add(customer)
            await session.flush()
            primary = _primary_index(data.phones)
            for i, (number, phone) in enumerate(zip(numbers, data.phones, strict=True)):
                session.add(_phone_row(customer.id, number, phone, i == primary))
            await _record(
                session, actor, "customer.create", customer, now, after=snapshot(customer)
            )
        main_number = numbers[_primary_index(data.phones)] if numbers else None
        await self.bus.publish(CustomerCreated(customer.id, customer.name, main_number))
        return customer

    async def check_new(self, data: CustomerCreate) -> None:
        """Everything `create` would refuse (bad phones, duplicates, unknown tier), raised
        the same way, without writing anything: an import's dry run."""
        numbers = _normalized_phones(data.phones)
        async with self.db.sessions() as session:
            await _refuse_duplicates(session, numbers, data.member_card, data)
            await _tier_id(session, data.vip_tier)

    async def update(self, actor: Actor, customer_id: str, data: CustomerUpdate) -> Customer:
        async with self.db.transaction() as session:
            customer = await _active_customer(session, customer_id)
            before = snapshot(customer)
            await self._apply(session, customer, data)
            after = snapshot(customer)
            if after != before:
                customer.updated_at = self.clock.now()
                await _record(
                    session, actor, "customer.update", customer, customer.updated_at, before, after
                )
        await self.bus.publish(CustomerChanged(customer.id))
        return customer

    async def _apply(self, session: AsyncSession, customer: Customer, data: CustomerUpdate) -> None:
        given = data.model_fields_set
        if data.member_card and "member_card" in given:
            await _refuse_card(session, data.member_card, customer.id)
        if data.id_number and "id_number" in given:
            id_type = data.id_type or customer.id_type
            await _refuse_document(session, id_type, data.id_number, customer.id)
        for name in given & set(_PROFILE_FIELDS):
            value = getattr(data, name)
            if value is None and name in _REQUIRED_FIELDS:
                raise InvalidInput(name, "cannot be cleared")
            setattr(customer, name, sorted(set(value)) if name == "tags" else value)
        if "birthday" in given:
            customer.birthday_mmdd = data.birthday.strftime("%m-%d") if data.birthday else None
        if "preferences" in given:
            prefs = data.preferences.model_dump(exclude_none=True) if data.preferences else {}
            customer.preferences = prefs
        if "vip_tier" in given:
            customer.vip_tier_id = await _tier_id(session, data.vip_tier)
        if "named_agent" in given:
            customer.named_agent_id = await _staff_id(session, data.named_agent)

    async def get(self, customer_id: str) -> Customer:
        async with self.db.sessions() as session:
            customer = await session.get(Customer, customer_id)
            if customer is None:
                raise CustomerNotFound(f"no customer {customer_id}")
            return customer

    async def phones_of(self, customer_ids: list[str]) -> dict[str, list[CustomerPhone]]:
        """Phones of several customers in one query, primary first."""
        found: dict[str, list[CustomerPhone]] = {cid: [] for cid in customer_ids}
        if not customer_ids:
            return found
        async with self.db.sessions() as session:
            rows = await session.scalars(
                select(CustomerPhone)
                .where(CustomerPhone.customer_id.in_(customer_ids))
                .order_by(CustomerPhone.is_primary.desc(), CustomerPhone.number)
            )
            for phone in rows:
                found[phone.customer_id].append(phone)
        return found

    async def search(self, text: str | None, page: PageRequest) -> Page[Customer]:
        """Active customers by name prefix, phone (any form), card or ID number."""
        stmt = select(Customer).where(Customer.status == "active")
        if text and text.strip():
            stmt = stmt.where(_matches(text.strip()))
        async with self.db.sessions() as session:
            total = await session.scalar(select(func.count()).select_from(stmt.subquery()))
            rows = await session.scalars(
                stmt.order_by(Customer.name, Customer.id).offset(page.offset).limit(page.size)
            )
            return Page(items=list(rows), total=total or 0, page=page.page, size=page.size)

    # -- phones ------------------------------------------------------------------------

    async def add_phone(self, actor: Actor, customer_id: str, data: PhoneIn) -> CustomerPhone:
        number = phones.normalize(data.number, field="number")
        now = self.clock.now()
        async with self.db.transaction() as session:
            customer = await _active_customer(session, customer_id)
            await _refuse_phones(session, [number], customer_id)
            existing = list(
                await session.scalars(
                    select(CustomerPhone).where(CustomerPhone.customer_id == customer_id)
                )
            )
            primary = data.primary or not existing
            if primary:
                for other in existing:
                    other.is_primary = False
            phone = CustomerPhone(
                customer_id=customer_id, number=number, label=data.label, is_primary=primary
            )
            session.add(phone)
            customer.updated_at = now
            await _record(
                session, actor, "customer.phone.add", customer, now, after={"number": number}
            )
        await self.bus.publish(CustomerChanged(customer_id))
        return phone

    async def remove_phone(self, actor: Actor, customer_id: str, number: str) -> None:
        e164 = phones.normalize(number, field="number")
        now = self.clock.now()
        async with self.db.transaction() as session:
            customer = await _active_customer(session, customer_id)
            phone = await session.scalar(
                select(CustomerPhone).where(
                    CustomerPhone.customer_id == customer_id, CustomerPhone.number == e164
                )
            )
            if phone is None:
                raise InvalidInput("number", f"{e164} is not a number of this customer")
            await session.delete(phone)
            await session.flush()
            if phone.is_primary:
                await _promote_a_primary(session, customer_id)
            await _record(
                session, actor, "customer.phone.remove", customer, now, before={"number": e164}
            )
        await self.bus.publish(CustomerChanged(customer_id))

    # -- consents and notes ------------------------------------------------------------

    async def record_consent(self, actor: Actor, customer_id: str, data: ConsentIn) -> Consent:
        now = self.clock.now()
        async with self.db.transaction() as session:
            await _active_customer(session, customer_id)
            consent = Consent(
                customer_id=customer_id,
                kind=data.kind,
                granted=data.granted,
                source=data.source,
                at=now,
                actor_name=actor.name,
            )
            session.add(consent)
        return consent

    async def consents(self, customer_id: str) -> list[Consent]:
        """Every consent record, newest first (the first of a kind is the current one)."""
        async with self.db.sessions() as session:
            return list(
                await session.scalars(
                    select(Consent)
                    .where(Consent.customer_id == customer_id)
                    .order_by(Consent.at.desc(), Consent.id)
                )
            )

    async def has_consent(self, customer_id: str, kind: str) -> bool:
        async with self.db.sessions() as session:
            granted = await session.scalar(
                select(Consent.granted)
                .where(Consent.customer_id == customer_id, Consent.kind == kind)
                .order_by(Consent.at.desc())
                .limit(1)
            )
        return bool(granted)

    async def add_note(self, actor: Actor, customer_id: str, text: str) -> TimelineEntry:
        """An agent's note, on the timeline like every other contact."""
        now = self.clock.now()
        async with self.db.transaction() as session:
            await _active_customer(session, customer_id)
            entry = TimelineEntry(
                customer_id=customer_id,
                at=now,
                kind="note",
                title=text[:200],
                detail={"text": text},
                actor_name=actor.name,
            )
            session.add(entry)
        return entry

    # -- VIP tiers ---------------------------------------------------------------------

    async def save_tier(self, actor: Actor, data: TierIn) -> VipTier:
        """Create a tier, or change the one with the same code."""
        now = self.clock.now()
        async with self.db.transaction() as session:
            tier = await session.scalar(select(VipTier).where(VipTier.code == data.code))
            before = _tier_values(tier) if tier else None
            if tier is None:
                tier = VipTier(created_at=now, **data.model_dump())
                session.add(tier)
            else:
                for name, value in data.model_dump().items():
                    setattr(tier, name, value)
            await session.flush()
            await audit.record(
                session,
                actor=actor,
                action="vip_tier.save",
                entity_type="vip_tier",
                entity_id=tier.id,
                at=now,
                before=before,
                after=_tier_values(tier),
            )
        return tier

    async def tiers(self) -> list[VipTier]:
        async with self.db.sessions() as session:
            return list(await session.scalars(select(VipTier).order_by(VipTier.rank)))

    # -- duplicates --------------------------------------------------------------------

    async def merge(self, actor: Actor, keep_id: str, merge_id: str) -> Customer:
        """Fold `merge_id` into `keep_id`: phones, timeline, points, consents, open items
        and purchases move over; the merged record stays, marked `merged`, read-only."""
        if keep_id == merge_id:
            raise InvalidInput("merge_id", "a customer cannot be merged into itself")
        now = self.clock.now()
        async with self.db.transaction() as session:
            keep = await _active_customer(session, keep_id)
            gone = await _active_customer(session, merge_id, field="merge_id")
            before = {"kept": snapshot(keep), "merged": snapshot(gone)}
            await _move_children(session, merge_id, keep_id)
            _fold_profile(keep, gone)
            keep.points_balance += gone.points_balance
            gone.points_balance = 0
            gone.status = "merged"
            gone.merged_into_id = keep_id
            gone.member_card = None
            gone.id_type, gone.id_number = None, None
            keep.updated_at = gone.updated_at = now
            await session.flush()
            await _record(
                session, actor, "customer.merge", keep, now, before, {"merged_id": merge_id}
            )
        await self.bus.publish(CustomersMerged(keep_id, merge_id))
        return keep

    # -- saved travellers ---------------------------------------------------------------

    async def travellers(self, customer_id: str) -> list[TravellerOut]:
        """The people this customer books for, the most recently booked first."""
        async with self.db.sessions() as session:
            await _active_customer(session, customer_id)
            rows = await session.scalars(
                select(Traveller)
                .where(Traveller.customer_id == customer_id)
                .order_by(Traveller.last_used_at.desc(), Traveller.name)
                .limit(TRAVELLERS_SHOWN)
            )
            return [TravellerOut.model_validate(t) for t in rows]

    async def remember_travellers(
        self, actor: Actor, customer_id: str, travellers: list[TravellerIn]
    ) -> list[TravellerOut]:
        """Save the passengers booked for a customer: one entry per document; booking
        the same document again refreshes its name and type and moves it to the top."""
        now = self.clock.now()
        async with self.db.transaction() as session:
            customer = await _active_customer(session, customer_id)  # locked: one writer
            for given in travellers:
                known = await session.scalar(
                    select(Traveller).where(
                        Traveller.customer_id == customer_id,
                        Traveller.id_type == given.id_type,
                        Traveller.id_number == given.id_number,
                    )
                )
                if known is None:
                    known = Traveller(customer_id=customer_id, id_type=given.id_type,
                                      id_number=given.id_number)  # fmt: skip
                    session.add(known)
                known.name, known.passenger_type = given.name, given.passenger_type
                known.last_used_at = now
            after = {"travellers": [t.name for t in travellers]}
            await _record(session, actor, "customer.travellers", customer, now, after=after)
        return await self.travellers(customer_id)


# -- helpers ---------------------------------------------------------------------------


def _normalized_phones(given: list[PhoneIn]) -> list[str]:
    numbers = [phones.normalize(p.number, field=f"phones.{i}.number") for i, p in enumerate(given)]
    if len(set(numbers)) != len(numbers):
        raise InvalidInput("phones", "the same number is given twice")
    if sum(p.primary for p in given) > 1:
        raise InvalidInput("phones", "only one number can be primary")
    return numbers


def _primary_index(given: list[PhoneIn]) -> int:
    return next((i for i, p in enumerate(given) if p.primary), 0)


def _phone_row(customer_id: str, number: str, phone: PhoneIn, primary: bool) -> CustomerPhone:
    return CustomerPhone(
        customer_id=customer_id, number=number, label=phone.label, is_primary=primary
    )


async def _refuse_duplicates(
    session: AsyncSession, numbers: list[str], card: str | None, data: CustomerCreate
) -> None:
    await _refuse_phones(session, numbers, None)
    if card:
        await _refuse_card(session, card, None)
    if data.id_number:
        await _refuse_document(session, data.id_type, data.id_number, None)


async def _refuse_phones(session: AsyncSession, numbers: list[str], own_id: str | None) -> None:
    if not numbers:
        return
    holder = await session.scalar(
        select(CustomerPhone.customer_id).where(CustomerPhone.number.in_(numbers)).limit(1)
    )
    if holder is not None and holder != own_id:
        raise DuplicateCustomer("phones", holder)


async def _refuse_card(session: AsyncSession, card: str, own_id: str | None) -> None:
    holder = await session.scalar(select(Customer.id).where(Customer.member_card == card))
    if holder is not None and holder != own_id:
        raise DuplicateCustomer("member_card", holder)


async def _refuse_document(
    session: AsyncSession, id_type: str | None, number: str, own_id: str | None
) -> None:
    holder = await session.scalar(
        select(Customer.id).where(Customer.id_type == id_type, Customer.id_number == number)
    )
    if holder is not None and holder != own_id:
        raise DuplicateCustomer("id_number", holder)


async def _active_customer(
    session: AsyncSession, customer_id: str, *, field: str = "customer_id"
) -> Customer:
    customer = await session.get(Customer, customer_id, with_for_update=True)
    if customer is None:
        raise CustomerNotFound(f"{field}: no customer {customer_id}", details={"field": field})
    if customer.status == "merged":
        raise CustomerMerged(
            f"{field}: customer {customer_id} was merged into {customer.merged_into_id}",
            details={"field": field, "merged_into_id": customer.merged_into_id},
        )
    return customer


async def _tier_id(session: AsyncSession, code: str | None) -> str | None:
    if code is None:
        return None
    tier_id = await session.scalar(select(VipTier.id).where(VipTier.code == code))
    if tier_id is None:
        raise TierNotFound(f"vip_tier: no tier {code!r}", details={"field": "vip_tier"})
    return tier_id


async def _staff_id(session: AsyncSession, username: str | None) -> str | None:
    if username is None:
        return None
    staff_id = await session.scalar(select(Staff.id).where(Staff.username == username))
    if staff_id is None:
        raise InvalidInput("named_agent", f"no staff member {username!r}")
    return staff_id


async def _promote_a_primary(session: AsyncSession, customer_id: str) -> None:
    first = await session.scalar(
        select(CustomerPhone)
        .where(CustomerPhone.customer_id == customer_id)
        .order_by(CustomerPhone.number)
        .limit(1)
    )
    if first is not None:
        first.is_primary = True


async def _move_children(session: AsyncSession, from_id: str, to_id: str) -> None:
    await session.execute(
        update(CustomerPhone)
        .where(CustomerPhone.customer_id == from_id)
        .values(customer_id=to_id, is_primary=False)
    )
    taken = select(GreetingSent.occasion).where(GreetingSent.customer_id == to_id)
    await session.execute(
        update(GreetingSent)
        .where(GreetingSent.customer_id == from_id, GreetingSent.occasion.not_in(taken))
        .values(customer_id=to_id)
    )
    documents = select(Traveller.id_type + ":" + Traveller.id_number).where(
        Traveller.customer_id == to_id
    )
    await session.execute(
        update(Traveller)
        .where(
            Traveller.customer_id == from_id,
            (Traveller.id_type + ":" + Traveller.id_number).not_in(documents),
        )
        .values(customer_id=to_id)
    )
    for table in (TimelineEntry, Consent, OpenItem, Purchase, LoyaltyEntry):
        await session.execute(
            update(table).where(table.customer_id == from_id).values(customer_id=to_id)
        )


def _fold_profile(keep: Customer, gone: Customer) -> None:
    """Fill the kept record's gaps from the merged one; never overwrite what it has."""
    keep.birthday = keep.birthday or gone.birthday
    keep.birthday_mmdd = keep.birthday_mmdd or gone.birthday_mmdd
    keep.email = keep.email or gone.email
    keep.vip_tier_id = keep.vip_tier_id or gone.vip_tier_id
    keep.named_agent_id = keep.named_agent_id or gone.named_agent_id
    keep.tags = sorted(set(keep.tags) | set(gone.tags))
    keep.do_not_call = keep.do_not_call or gone.do_not_call
    if gone.notes:
        keep.notes = f"{keep.notes}\n{gone.notes}".strip()
    if keep.id_number is None and gone.id_number is not None:
        keep.id_type, keep.id_number = gone.id_type, gone.id_number
        gone.id_type, gone.id_number = None, None
    if keep.member_card is None and gone.member_card is not None:
        keep.member_card, gone.member_card = gone.member_card, None


def _matches(text: str) -> Any:
    conditions = [Customer.name.startswith(text, autoescape=True)]
    conditions.append(Customer.member_card == text.upper())
    conditions.append(Customer.id_number == text)
    e164 = phones.try_normalize(text)
    if e164:
        owner = select(CustomerPhone.customer_id).where(CustomerPhone.number == e164)
        conditions.append(Customer.id.in_(owner))
    return or_(*conditions)


def _tier_values(tier: VipTier) -> dict[str, Any]:
    return {
        "code": tier.code,
        "name_zh": tier.name_zh,
        "name_en": tier.name_en,
        "rank": tier.rank,
        "queue_priority": tier.queue_priority,
        "named_agent": tier.named_agent,
        "points_percent": tier.points_percent,
    }


async def _record(
    session: AsyncSession,
    actor: Actor,
    action: str,
    customer: Customer,
    at: datetime,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    await audit.record(
        session,
        actor=actor,
        action=action,
        entity_type="customer",
        entity_id=customer.id,
        at=at,
        before=before,
        after=after,
    )
