"""A flow as a Mermaid diagram: one box per node, one arrow per exit, labelled."""

from __future__ import annotations

import re

from ticketline.ivr.loader import Flow
from ticketline.ivr.schema import Goto, Hangup, Lookup, Menu, Node, Queue, targets

_SHAPES: dict[type, tuple[str, str]] = {
    Menu: ("{{", "}}"),
    Lookup: ("[(", ")]"),
    Queue: ("[/", "/]"),
    Hangup: ("([", "])"),
    Goto: (">", "]"),
}


def mermaid(flow: Flow) -> str:
    """Mermaid `flowchart` text for `flow` (paste into any Mermaid viewer, or mmdc to SVG)."""
    lines = ["flowchart TD", f"  start((start)) --> {_id(flow.definition.start)}"]
    for node_id, node in flow.definition.nodes.items():
        lines.append(f"  {_box(node_id, node)}")
        for where, target in targets(node).items():
            label = _label(where)
            arrow = f"-- {label} -->" if label else "-->"
            lines.append(f"  {_id(node_id)} {arrow} {_id(target)}")
        if isinstance(node, Goto) and node.flow is not None:
            lines.append(f"  {_id(node_id)} -.-> flow_{_id(node.flow)}[[flow {node.flow}]]")
    return "\n".join(lines) + "\n"


def _box(node_id: str, node: Node) -> str:
    opening, closing = _SHAPES.get(type(node), ("[", "]"))
    detail: str = node.type
    if isinstance(node, Lookup):
        detail = f"lookup {node.action}"
    elif isinstance(node, Queue):
        detail = f"queue {node.queue}"
    return f'{_id(node_id)}{opening}"{node_id}<br/><small>{detail}</small>"{closing}'


def _label(where: str) -> str:
    if where.startswith("options."):
        return f"key {where.removeprefix('options.')}"
    if where.startswith("outcomes."):
        return where.removeprefix("outcomes.")
    if where.startswith("cases."):
        return f"case {where.removeprefix('cases.')}"
    return "" if where == "next" else where


def _id(name: str) -> str:
    return re.sub(r"\W", "_", name)
