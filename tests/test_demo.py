"""The demo's volume (what `scripts/demo` loads on top of the base demo): 1,000 customers
with history and 50 work orders in every state, consistent and loaded only once."""

from __future__ import annotations

from sqlalchemy import func, select

from ticketline.app import Application
from ticketline.core.paging import PageRequest
from ticketline.crm.demo import demo_mobiles
from ticketline.crm.models import Customer, LoyaltyEntry
from ticketline.demo import seed_history
from ticketline.workorders.service import WorkOrderFilter
from ticketline.workorders.states import State


async def test_the_demo_has_a_thousand_customers_with_history(demo_app: Application) -> None:
    assert await seed_history(demo_app) == (1000, 50)
    mobiles = demo_mobiles()
    assert len(set(mobiles)) == 1000
    callers = [await demo_app.crm.lookup_caller(number) for number in mobiles[::25]]
    assert all(c.known for c in callers)
    assert len({c.customer_id for c in callers}) == len(callers)
    assert sum(1 for c in callers if c.last_contacts) > 20
    assert {c.tier for c in callers} > {None}
    assert await seed_history(demo_app) == (0, 0)  # a second run adds nothing


async def test_demo_points_balances_match_their_ledgers(demo_app: Application) -> None:
    await seed_history(demo_app)
    earned = (
        select(LoyaltyEntry.customer_id, func.sum(LoyaltyEntry.points).label("points"))
        .group_by(LoyaltyEntry.customer_id)
        .subquery()
    )
    query = select(Customer.points_balance, func.coalesce(earned.c.points, 0)).outerjoin(
        earned, earned.c.customer_id == Customer.id
    )
    async with demo_app.db.sessions() as session:
        rows = (await session.execute(query)).all()
    assert len(rows) >= 1000
    assert all(balance == points for balance, points in rows)
    assert sum(balance for balance, _ in rows) > 0


async def test_demo_work_orders_cover_every_state(demo_app: Application) -> None:
    await seed_history(demo_app)
    counts = {}
    for state in State:
        found = await demo_app.workorders.search(WorkOrderFilter(state=state.value), PageRequest())
        counts[state.value] = found.total
        assert all(order.customer_id for order in found.items)  # each is a customer's
    assert sum(counts.values()) == 50
    assert all(counts.values()), counts
    overdue = await demo_app.workorders.search(
        WorkOrderFilter(overdue_at=demo_app.clock.now()), PageRequest()
    )
    assert overdue.total > 0  # some were opened days ago with hours to solve them
    rated = [o for o in (await demo_app.workorders.search(
        WorkOrderFilter(state="closed"), PageRequest())).items if o.satisfaction]  # fmt: skip
    assert rated
