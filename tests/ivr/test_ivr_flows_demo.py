"""The shipped flows and the demo's ACD agree: every queue it sends callers to exists."""

from __future__ import annotations

from ticketline.app import Application
from ticketline.demo import seed_acd
from ticketline.ivr.loader import load_file
from ticketline.ivr.schema import Queue

from .conftest import FLOWS


async def test_every_queue_of_the_hotline_exists_in_the_demo(demo_app: Application) -> None:
    await seed_acd(demo_app)  # idempotent: the demo's queues are there
    await demo_app.acd.load()
    flow = load_file(FLOWS / "hotline.yaml")
    named = {n.queue for n in flow.definition.nodes.values() if isinstance(n, Queue)}
    assert named == {"booking", "refund", "complaint", "english"}
    assert named <= set(demo_app.acd_runtime.router.queues)


async def test_the_theatre_box_office_queue_exists_in_the_demo(demo_app: Application) -> None:
    await seed_acd(demo_app)
    await demo_app.acd.load()
    flow = load_file(FLOWS / "theatre.yaml")
    named = {n.queue for n in flow.definition.nodes.values() if isinstance(n, Queue)}
    assert named == {"box_office"}
    assert named <= set(demo_app.acd_runtime.router.queues)
