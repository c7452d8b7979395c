"""The `sms` node queues a real message through the notify outbox."""

from __future__ import annotations

from sqlalchemy import select

from ticketline.app import Application
from ticketline.ivr.engine import run_call
from ticketline.ivr.simulator import SimulatedCall, TextPrompts, parse_script
from ticketline.notify.models import OutboxMessage

from .conftest import flow_of

FLOW = """
flow: texts
start: send
nodes:
  send:
    type: sms
    template: pickup.resend
    values: {company: "'票务热线'", booking_code: "'K7H3P'", pickup_code: "'583920'"}
    next: sent
    error: failed
  sent: {type: hangup, prompt: {zh: 短信已发送, en: Text sent}}
  failed: {type: hangup, prompt: {zh: 短信发送失败, en: Text not sent}}
"""


async def test_sms_node_queues_the_template_to_the_caller(application: Application) -> None:
    await application.notify.install_default_templates()
    deps = application.ivr.deps()
    deps.prompts = TextPrompts()
    call = SimulatedCall(parse_script(""), caller="13800138000")
    await run_call(flow_of(FLOW), call, deps)
    assert "say[zh] 短信已发送" in call.transcript
    async with application.db.sessions() as session:
        messages = list(await session.scalars(select(OutboxMessage)))
    assert [(m.to, m.body, m.ref) for m in messages] == [
        ("+8613800138000", "【票务热线】订单K7H3P的取票密码是583920。", "sim-1")
    ]


async def test_a_template_that_does_not_exist_takes_the_error_branch(
    application: Application,
) -> None:
    deps = application.ivr.deps()
    deps.prompts = TextPrompts()
    call = SimulatedCall(parse_script(""))
    trace = await run_call(flow_of(FLOW.replace("pickup.resend", "no.such")), call, deps)
    assert "say[zh] 短信发送失败" in call.transcript
    assert ("send", "error", "no.such") in [(s.node, s.event, s.label) for s in trace.steps]
