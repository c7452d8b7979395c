"""Work-order progress over the work-order service, for callers who quote their code.

Codes are WO-YYMM-NNNN: digits only, so the caller keys the eight digits. Only
the phone the work order was opened for (or its customer's) may hear it, as on
the public status page.
"""

from __future__ import annotations

from collections.abc import Mapping

from ticketline.ivr.actions import ActionContext, ActionRegistry, ActionResult
from ticketline.ivr.sayas import speak
from ticketline.workorders.errors import WorkOrderNotFound
from ticketline.workorders.service import PublicView, WorkOrderService

STATE_WORDS = {
    "new": ("已受理，正在分派", "received and being assigned"),
    "assigned": ("已分派给专人", "assigned to a colleague"),
    "in_progress": ("正在处理中", "being worked on"),
    "waiting_customer": ("正在等待您的回复", "waiting for your reply"),
    "resolved": ("已处理完毕", "resolved"),
    "closed": ("已关闭", "closed"),
    "reopened": ("已重新打开，正在处理", "reopened and being worked on"),
}
MAX_REPLY = 120


def code_of_keys(keys: str) -> str | None:
    """WO-YYMM-NNNN from the eight digits a caller keys (or a code typed in full)."""
    digits = "".join(c for c in keys if c.isdigit())
    if len(digits) != 8:
        return None
    return f"WO-{digits[:4]}-{digits[4:]}"


class WorkOrderLookups:
    """workorder_status over `WorkOrderService`."""

    def __init__(self, workorders: WorkOrderService) -> None:
        self.workorders = workorders

    def bind(self, registry: ActionRegistry) -> None:
        registry.bind("workorder_status", self.workorder_status)

    async def workorder_status(
        self, ctx: ActionContext, args: Mapping[str, object]
    ) -> ActionResult:
        """State and last public reply of a work order, for the phone it belongs to."""
        code = code_of_keys(str(args["code"]))
        if code is None:
            return ActionResult("not_found")
        try:
            view = await self.workorders.public_status(code, ctx.caller)
        except WorkOrderNotFound:
            return ActionResult("not_found")
        reply = {lang: status_reply(view, lang) for lang in ("zh", "en")}
        return ActionResult("ok", {"code": view.code, "state": view.state, "reply": reply})


def status_reply(view: PublicView, lang: str) -> str:
    zh = lang == "zh"
    digits = view.code.removeprefix("WO-").replace("-", "")
    spoken = speak(digits, "digits", lang)
    state = STATE_WORDS.get(view.state, (view.state, view.state))[0 if zh else 1]
    parts = [f"工单{spoken}{state}。" if zh else f"Work order {spoken} is {state}."]
    if view.last_reply:
        reply = view.last_reply[:MAX_REPLY]
        parts.append(f"最新回复：{reply}" if zh else f"Our latest reply: {reply}")
    return ("" if zh else " ").join(parts)
