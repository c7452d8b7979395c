"""The flow engine: walks one call through a flow, node by node, over a `CallSession`.

`run_call` answers, then repeats: take the current node, run its handler
(`nodes.py`), record the step, follow the exit. A call keeps the `Flow` object
it started with, so reloading a file never changes a call in progress. Each
node may be visited at most `max_visits` times and a call may take at most the
flow's `max_steps` steps, so no flow can keep a line busy for ever. A caller
hanging up ends the walk wherever it is; the trace records where.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from ticketline.core.clock import Clock
from ticketline.core.errors import TicketlineError
from ticketline.ivr import sayas
from ticketline.ivr.actions import ActionRegistry
from ticketline.ivr.events import IvrCallEnded
from ticketline.ivr.loader import Flow
from ticketline.ivr.schema import PromptRef
from ticketline.ivr.session import (
    AnnouncementSource,
    CallerHungUp,
    CallSession,
    Prompt,
    PromptSource,
    QueuePort,
    SmsSender,
)
from ticketline.ivr.speech import Recognizer
from ticketline.ivr.stats import CallTrace, Event, Outcome

log = logging.getLogger(__name__)

LISTEN_SECONDS = 3.0
WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# Prompts the engine itself needs; a flow overrides one by defining a prompt of the same id.
SYSTEM_PROMPTS: dict[str, dict[str, str]] = {
    "sys.invalid": {"zh": "输入有误。", "en": "Sorry, that is not a valid choice."},
    "sys.timeout": {"zh": "没有收到您的按键。", "en": "We did not receive your input."},
    "sys.confirm": {
        "zh": "您输入的是{readback}。确认请按1，重新输入请按2。",
        "en": "You entered {readback}. Press 1 to confirm, or 2 to enter it again.",
    },
    "sys.error": {
        "zh": "抱歉，系统暂时无法处理您的请求。",
        "en": "Sorry, we cannot handle your request right now.",
    },
    "sys.record": {
        "zh": "请在提示音后留言，按井号键结束。",
        "en": "Please leave a message after the tone, and press hash when you are done.",
    },
    "sys.goodbye": {"zh": "感谢您的来电，再见。", "en": "Thank you for calling. Goodbye."},
}


@dataclass
class IvrDeps:
    """What the engine calls out to; everything but prompts and actions is optional."""

    prompts: PromptSource
    actions: ActionRegistry
    clock: Clock
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    queue: QueuePort | None = None
    sms: SmsSender | None = None
    announcements: AnnouncementSource | None = None
    recognizer: Recognizer | None = None
    publish: Callable[[object], Awaitable[object]] | None = None
    flows: Callable[[str], Flow] | None = None
    voicemail_dir: Path = Path("var/voicemail")


@dataclass(frozen=True)
class Exit:
    """Where a node sends the call: a branch label and the next node (None ends the call)."""

    label: str
    target: str | None
    outcome: Outcome | None = None


class CallRun:
    """One call inside a flow: its variables, language, trace and visit counts."""

    def __init__(self, flow: Flow, session: CallSession, deps: IvrDeps) -> None:
        self.flow = flow
        self.session = session
        self.deps = deps
        self.visits: Counter[str] = Counter()
        self.steps = 0
        now = deps.clock.now()
        self.trace = CallTrace(session.call_id, flow.name, flow.version, session.caller, now)
        self.vars: dict[str, object] = {
            "caller": session.caller,
            "called": session.called,
            "call_id": session.call_id,
            "lang": flow.definition.language,
            "flow": flow.name,
            "customer": None,
            "vip_tier": 0,
            "value": "",
            "digits": "",
            "speech": "",
            "readback": "",
        }
        self.refresh_time()

    @property
    def lang(self) -> str:
        return str(self.vars["lang"])

    def now(self) -> datetime:
        return self.deps.clock.now()

    def refresh_time(self) -> None:
        local = self.now().astimezone(self.deps.zone)
        self.vars.update(
            now=local.isoformat(timespec="minutes"),
            today=local.date().isoformat(),
            hour=local.hour,
            minute=local.minute,
            weekday=WEEKDAY_NAMES[local.weekday()],
        )

    def mark(self, node: str, event: Event, label: str = "") -> None:
        self.trace.add(node, event, label)

    def evaluate(self, source: str) -> object:
        return self.flow.expr(source).evaluate(self.vars)

    def lookup(self, name: str) -> object:
        """A dotted variable path (`result.status`) for prompt placeholders."""
        value: object = self.vars
        for part in name.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        return value

    def text_of(self, ref: PromptRef, key: str) -> tuple[str, str]:
        """The prompt key and the filled text of `ref` in the caller's language."""
        if isinstance(ref, str):
            key = f"{self.flow.name}.{ref}"
            texts = self._named_prompt(ref)
        else:
            texts = {str(lang): text for lang, text in ref.items()}
        template = texts.get(self.lang) or next(iter(texts.values()), "")
        return key, sayas.fill(template, self.lang, self.lookup)

    def _named_prompt(self, prompt_id: str) -> dict[str, str]:
        defined = self.flow.definition.prompts.get(prompt_id)
        if defined is not None:
            return {lang: getattr(defined, lang) or "" for lang in ("zh", "en")}
        return SYSTEM_PROMPTS[prompt_id]

    async def say(self, ref: PromptRef | None, key: str, *, barge_in: bool = True) -> bool:
        """Speak a prompt (None says nothing); True when the caller cut it short with a key."""
        if ref is None:
            return False
        prompt_key, text = self.text_of(ref, key)
        if not text.strip():
            return False
        try:
            prompt = await self.deps.prompts.prompt(prompt_key, text, self.lang)
        except TicketlineError as exc:  # no speech: the caller hears a tone, the call goes on
            log.error("IVR prompt %s unavailable: %s", prompt_key, exc.message)
            prompt = Prompt(prompt_key, text, self.lang, None)
        return await self.session.play(prompt, barge_in=barge_in)

    def flow_file(self, name: str) -> Path | None:
        """A recorded file named by the flow, only from the flow's own folder."""
        base = Path(self.flow.path).parent.resolve() if self.flow.path else Path.cwd()
        path = (base / name).resolve()
        return path if path.is_relative_to(base) and path.is_file() else None

    async def listen_for(self, words: Mapping[str, Sequence[str]]) -> str:
        """The menu key a spoken answer names, or '' (no recognizer, silence, no match)."""
        recognizer = self.deps.recognizer
        listen = getattr(self.session, "listen", None)
        if recognizer is None or listen is None or self.lang not in recognizer.languages():
            return ""
        audio = await listen(seconds=LISTEN_SECONDS)
        if not audio:
            return ""
        choice = await asyncio.to_thread(recognizer.choose, audio, words, self.lang)
        self.vars["speech"] = choice or ""
        return choice or ""

    async def say_system(self, prompt_id: str, *, barge_in: bool = True) -> bool:
        return await self.say(prompt_id, prompt_id, barge_in=barge_in)


NodeHandler = Callable[[CallRun, str, object], Awaitable[Exit]]


async def run_call(
    flow: Flow, session: CallSession, deps: IvrDeps, *, start: str | None = None
) -> CallTrace:
    """Answer and walk the call through `flow` until it hangs up, leaves, or is handed off."""
    from ticketline.ivr.nodes import HANDLERS

    run = CallRun(flow, session, deps)
    current: str | None = start or flow.definition.start
    try:
        await session.answer()
        while current is not None:
            current = await _step(run, current, HANDLERS)
    except CallerHungUp:
        run.mark(_last_node(run), "hangup")
        run.trace.outcome = "caller_hangup"
    except Exception:
        log.exception("IVR flow %s failed on call %s", flow.name, session.call_id)
        run.mark(_last_node(run), "error")
        run.trace.outcome = "error"
        await _hangup_quietly(session)
    run.trace.ended_at = deps.clock.now()
    await _announce(run)
    return run.trace


async def _step(run: CallRun, node_id: str, handlers: Mapping[type, NodeHandler]) -> str | None:
    node = run.flow.node(node_id)
    run.steps += 1
    run.visits[node_id] += 1
    if run.steps > run.flow.definition.max_steps or (
        node.max_visits is not None and run.visits[node_id] > node.max_visits
    ):
        return await _over_limit(run, node_id, node.on_limit)
    run.mark(node_id, "enter")
    run.refresh_time()
    result = await handlers[type(node)](run, node_id, node)
    run.mark(node_id, "exit", result.label)
    if result.outcome is not None:
        run.trace.outcome = result.outcome
    if result.target is None:
        return None
    if result.target.startswith("flow:"):
        return _switch_flow(run, result.target.removeprefix("flow:"))
    return result.target


async def _over_limit(run: CallRun, node_id: str, on_limit: str | None) -> str | None:
    run.mark(node_id, "limit")
    if on_limit is not None and run.steps <= run.flow.definition.max_steps:
        return on_limit
    await run.say_system("sys.goodbye", barge_in=False)
    await run.session.hangup()
    run.trace.outcome = "self_service"
    return None


def _switch_flow(run: CallRun, target: str) -> str | None:
    """`flow:name` or `flow:name:node`: continue in the current version of another flow."""
    name, _, node = target.partition(":")
    if run.deps.flows is None:
        raise LookupError(f"no flow registry to reach flow {name!r}")
    run.flow = run.deps.flows(name)
    run.vars["flow"] = run.flow.name
    return node or run.flow.definition.start


def _last_node(run: CallRun) -> str:
    return run.trace.steps[-1].node if run.trace.steps else run.flow.definition.start


async def _hangup_quietly(session: CallSession) -> None:
    try:
        await session.hangup()
    except Exception:  # the call is already broken; ending it must not raise again
        log.debug("hangup after a failure also failed", exc_info=True)


async def _announce(run: CallRun) -> None:
    if run.deps.publish is None:
        return
    trace = run.trace
    await run.deps.publish(
        IvrCallEnded(
            call_id=trace.call_id,
            flow=trace.flow,
            version=trace.version,
            caller=trace.caller,
            outcome=trace.outcome,
            contained=trace.contained,
            path=tuple(trace.path),
            steps=tuple((s.node, s.event, s.label) for s in trace.steps),
            started_at=trace.started_at,
            ended_at=trace.ended_at or trace.started_at,
        )
    )
