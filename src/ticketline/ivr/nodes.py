"""One handler per node type: what the node does to the call and which exit it takes."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import date, time
from typing import Any

import phonenumbers

from ticketline.core.errors import TicketlineError
from ticketline.ivr import hours
from ticketline.ivr.actions import ActionContext, ActionResult
from ticketline.ivr.engine import CallRun, Exit, NodeHandler
from ticketline.ivr.events import IvrCallQueued, VoicemailLeft
from ticketline.ivr.sayas import speak
from ticketline.ivr.schema import (
    Announce,
    Branch,
    Collect,
    Goto,
    Hangup,
    Language,
    Lookup,
    Menu,
    Play,
    Queue,
    Say,
    Schedule,
    SetVars,
    Sms,
    Transfer,
    Voicemail,
)
from ticketline.ivr.session import Prompt, QueueRequest, QueueResult

log = logging.getLogger(__name__)


async def say(run: CallRun, node_id: str, node: Say) -> Exit:
    await run.say(node.prompt, f"{run.flow.name}.{node_id}", barge_in=node.barge_in)
    return Exit("next", node.next)


async def play(run: CallRun, node_id: str, node: Play) -> Exit:
    prompt = Prompt(f"file:{node.file}", "", run.lang, run.flow_file(node.file))
    await run.session.play(prompt, barge_in=node.barge_in)
    return Exit("next", node.next)


async def announce(run: CallRun, node_id: str, node: Announce) -> Exit:
    source = run.deps.announcements
    try:
        notices = [] if source is None else await source.active(run.flow.name, run.now())
    except Exception:  # a notice must never stand between the caller and the menu
        log.exception("IVR announcements unavailable")
        notices = []
    for index, texts in enumerate(notices):
        key = f"{run.flow.name}.announce.{index}"
        if await run.say(dict(texts), key, barge_in=node.barge_in):  # type: ignore[arg-type]
            break
    return Exit("next", node.next)


async def menu(run: CallRun, node_id: str, node: Menu) -> Exit:
    for attempt in range(node.retries):
        await run.say(node.prompt, f"{run.flow.name}.{node_id}")
        key = await _one_key(run, node)
        if key in node.options:
            run.vars["digits"] = key
            return Exit(key, node.options[key])
        last = attempt == node.retries - 1
        if key == "":
            run.mark(node_id, "timeout")
            if not last:
                await run.say(node.timeout_prompt or "sys.timeout", f"{node_id}.timeout")
        else:
            run.mark(node_id, "invalid", key)
            await run.say(node.invalid_prompt or "sys.invalid", f"{node_id}.invalid")
    return Exit("fallback", node.fallback)


async def _one_key(run: CallRun, node: Menu) -> str:
    got = await run.session.collect_digits(
        min_digits=1,
        max_digits=1,
        timeout=node.timeout,
        inter_digit_timeout=node.timeout,
        terminator="",
    )
    if got.digits or not node.words:
        return got.digits[:1]
    return await run.listen_for(node.words)


async def collect(run: CallRun, node_id: str, node: Collect) -> Exit:
    for _ in range(node.retries):
        await run.say(node.prompt, f"{run.flow.name}.{node_id}")
        # With a terminator the caller ends with it: one digit of room so that '#' after
        # a full-length entry ends this entry instead of spilling into the next wait.
        got = await run.session.collect_digits(
            min_digits=node.min,
            max_digits=node.max + 1 if node.terminator else node.max,
            timeout=node.timeout,
            inter_digit_timeout=node.inter_digit_timeout,
            terminator=node.terminator,
        )
        if not got.digits:
            run.mark(node_id, "timeout")
            continue
        value = validate_digits(node, got.digits, run)
        if value is None:
            run.mark(node_id, "invalid", got.digits)
            await run.say(node.invalid_prompt or "sys.invalid", f"{node_id}.invalid")
            continue
        if node.confirm and not await _confirmed(run, node, value):
            continue
        run.vars[node.var] = value
        run.vars["value"] = value
        return Exit("ok", node.next)
    return Exit("fallback", node.fallback)


async def _confirmed(run: CallRun, node: Collect, value: str) -> bool:
    formats = {"date": "date", "time": "time", "phone": "phone"}
    run.vars["readback"] = speak(value, formats.get(node.validate_as, "digits"), run.lang)
    await run.say_system("sys.confirm")
    got = await run.session.collect_digits(
        min_digits=1, max_digits=1, timeout=node.timeout, inter_digit_timeout=1, terminator=""
    )
    return got.digits[:1] == "1"


def validate_digits(node: Collect, digits: str, run: CallRun) -> str | None:
    """The value to store for what the caller typed, or None if it does not pass."""
    if not digits.isdigit() or not node.min <= len(digits) <= node.max:
        return None
    if node.pattern is not None and not re.fullmatch(node.pattern, digits):
        return None
    value = _as_kind(node.validate_as, digits, run)
    if value is None:
        return None
    if node.check is not None and not run.flow.expr(node.check).truth(run.vars | {"value": value}):
        return None
    return value


def _as_kind(kind: str, digits: str, run: CallRun) -> str | None:
    if kind == "date":
        return _as_date(digits, run)
    if kind == "time":
        return _as_time(digits)
    if kind == "phone":
        return _as_phone(digits)
    return digits


def _as_date(digits: str, run: CallRun) -> str | None:
    """YYYYMMDD, or MMDD meaning the next such day; never a day already past."""
    today = run.now().astimezone(run.deps.zone).date()
    try:
        if len(digits) == 8:
            chosen = date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
        elif len(digits) == 4:
            chosen = date(today.year, int(digits[:2]), int(digits[2:]))
            if chosen < today:
                chosen = chosen.replace(year=today.year + 1)
        else:
            return None
    except ValueError:
        return None
    return chosen.isoformat() if chosen >= today else None


def _as_time(digits: str) -> str | None:
    if len(digits) != 4:
        return None
    try:
        return time(int(digits[:2]), int(digits[2:])).strftime("%H:%M")
    except ValueError:
        return None


def _as_phone(digits: str) -> str | None:
    try:
        number = phonenumbers.parse(digits, "CN")
    except phonenumbers.NumberParseException:
        return None
    return digits if phonenumbers.is_valid_number(number) else None


async def set_vars(run: CallRun, node_id: str, node: SetVars) -> Exit:
    for name, source in node.vars.items():
        run.vars[name] = run.evaluate(source)
    return Exit("next", node.next)


async def branch(run: CallRun, node_id: str, node: Branch) -> Exit:
    for index, case in enumerate(node.cases):
        if run.flow.expr(case.when).truth(run.vars):
            return Exit(f"case {index}", case.then)
    return Exit("else", node.otherwise)


async def schedule(run: CallRun, node_id: str, node: Schedule) -> Exit:
    state = hours.status(run.flow.definition.calendars[node.calendar], run.now())
    if state == "holiday":
        return Exit("holiday", node.holiday or node.closed)
    return Exit(state, node.open if state == "open" else node.closed)


async def lookup(run: CallRun, node_id: str, node: Lookup) -> Exit:
    args = {name: run.evaluate(source) for name, source in node.args.items()}
    context = ActionContext(
        call_id=run.session.call_id,
        caller=run.session.caller,
        lang=run.lang,
        now=run.now(),
        customer_id=_customer_id(run),
    )
    try:
        result = await run.deps.actions.call(node.action, context, args)
    except TicketlineError as exc:
        log.warning("IVR action %s refused: %s", node.action, exc.message)
        run.mark(node_id, "error", node.action)
        run.vars[node.into] = {"outcome": "error"}
        return Exit("error", node.error)
    except Exception:
        log.exception("IVR action %s failed", node.action)
        run.mark(node_id, "error", node.action)
        run.vars[node.into] = {"outcome": "error"}
        return Exit("error", node.error)
    _remember(run, node, result)
    return Exit(result.outcome, node.outcomes.get(result.outcome, node.error))


def _remember(run: CallRun, node: Lookup, result: ActionResult) -> None:
    run.vars[node.into] = {"outcome": result.outcome, **result.values}
    customer = result.values.get("customer")
    if isinstance(customer, Mapping):
        run.vars["customer"] = dict(customer)
        run.vars["vip_tier"] = customer.get("vip_tier", 0) or 0
    if result.outcome == "ok" and result.values.get("self_service", True):
        run.trace.served = True


def _customer_id(run: CallRun) -> str | None:
    customer = run.vars.get("customer")
    if isinstance(customer, Mapping) and customer.get("id") is not None:
        return str(customer["id"])
    return None


async def queue(run: CallRun, node_id: str, node: Queue) -> Exit:
    port = run.deps.queue
    request = QueueRequest(
        queue=node.queue,
        skill=node.skill,
        priority=int(str(run.evaluate(node.priority) or 0)),
        caller=run.session.caller,
        language=run.lang,
        customer_id=_customer_id(run),
        variables={k: v for k, v in run.vars.items() if _plain(v)},
    )
    if port is not None and run.deps.publish is not None:
        queued = IvrCallQueued(run.session.call_id, node.queue, tuple(run.trace.path), _keyed(run))
        await run.deps.publish(queued)
    result = (
        QueueResult("unavailable") if port is None else await port.enqueue(run.session, request)
    )
    if result.outcome == "connected":
        return Exit("connected", None, "queued")
    return Exit(result.outcome, node.outcomes.get(result.outcome, node.next))


def _keyed(run: CallRun) -> tuple[tuple[str, str], ...]:
    """What the caller keyed in (the collect nodes' variables) and their language."""
    names = [n.var for n in run.flow.definition.nodes.values() if isinstance(n, Collect)]
    keyed = [(name, run.vars[name]) for name in dict.fromkeys(names) if run.vars.get(name)]
    return (("lang", run.lang), *((name, str(value)) for name, value in keyed))


def _plain(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


async def voicemail(run: CallRun, node_id: str, node: Voicemail) -> Exit:
    await run.say(node.prompt or "sys.record", f"{run.flow.name}.{node_id}", barge_in=False)
    stamp = run.now().strftime("%Y/%m/%d")
    folder = run.deps.voicemail_dir / node.box / stamp
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{run.session.call_id}.wav"
    seconds = await run.session.record(path, max_seconds=node.max_seconds)
    if run.deps.publish is not None and seconds > 0:
        event = VoicemailLeft(
            run.session.call_id, run.session.caller, node.box, str(path), seconds, run.now()
        )
        await run.deps.publish(event)
    run.trace.outcome = "voicemail"
    return Exit("recorded" if seconds > 0 else "empty", node.next, "voicemail")


async def transfer(run: CallRun, node_id: str, node: Transfer) -> Exit:
    from ticketline.ivr.sayas import PLACEHOLDER

    target = PLACEHOLDER.sub(lambda m: str(run.lookup(m.group(1)) or ""), node.to)
    await run.say(node.prompt, f"{run.flow.name}.{node_id}", barge_in=False)
    if target and await run.session.transfer(target):
        return Exit("transferred", None, "transferred")
    run.mark(node_id, "error", "transfer failed")
    return Exit("failed", node.next)


async def sms(run: CallRun, node_id: str, node: Sms) -> Exit:
    if run.deps.sms is None:
        return Exit("error", node.error)
    values = {name: run.evaluate(source) for name, source in node.values.items()}
    locale = "zh_CN" if run.lang == "zh" else "en"
    try:
        await run.deps.sms.queue_sms(
            str(run.evaluate(node.to)),
            node.template,
            values,
            locale=locale,
            ref=run.session.call_id,
        )
    except Exception:
        log.exception("IVR could not queue SMS %s", node.template)
        run.mark(node_id, "error", node.template)
        return Exit("error", node.error)
    return Exit("sent", node.next)


async def language(run: CallRun, node_id: str, node: Language) -> Exit:
    chosen = node.language if node.language in ("zh", "en") else str(run.evaluate(node.language))
    if chosen in run.flow.definition.languages:
        run.vars["lang"] = chosen
    return Exit(str(run.vars["lang"]), node.next)


async def hangup(run: CallRun, node_id: str, node: Hangup) -> Exit:
    await run.say(node.prompt, f"{run.flow.name}.{node_id}", barge_in=False)
    await run.session.hangup()
    outcome = run.trace.outcome if run.trace.outcome == "voicemail" else node.outcome
    return Exit("hangup", None, outcome)


async def goto(run: CallRun, node_id: str, node: Goto) -> Exit:
    if node.flow is None:
        return Exit("goto", node.node)
    target = f"flow:{node.flow}" + (f":{node.node}" if node.node else "")
    return Exit("goto", target)


HANDLERS: dict[type, NodeHandler] = {
    Say: say,  # type: ignore[dict-item]
    Play: play,  # type: ignore[dict-item]
    Announce: announce,  # type: ignore[dict-item]
    Menu: menu,  # type: ignore[dict-item]
    Collect: collect,  # type: ignore[dict-item]
    SetVars: set_vars,  # type: ignore[dict-item]
    Branch: branch,  # type: ignore[dict-item]
    Schedule: schedule,  # type: ignore[dict-item]
    Lookup: lookup,  # type: ignore[dict-item]
    Queue: queue,  # type: ignore[dict-item]
    Voicemail: voicemail,  # type: ignore[dict-item]
    Transfer: transfer,  # type: ignore[dict-item]
    Sms: sms,  # type: ignore[dict-item]
    Language: language,  # type: ignore[dict-item]
    Hangup: hangup,  # type: ignore[dict-item]
    Goto: goto,  # type: ignore[dict-item]
}
