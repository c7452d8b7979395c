"""Safe expressions over call variables: parsed once at load, evaluated without `eval`.

A flow writes conditions such as ``customer.vip_tier >= 2 and hour < 21`` or
values such as ``digits[:4]``. The text is parsed with `ast` and only a small
whitelist of node kinds is accepted: literals, names, attribute access on
mappings (``customer.name``), comparisons, boolean and arithmetic operators,
``x if c else y``, slicing, and calls of the few functions in `FUNCTIONS`.
Anything else (lambdas, comprehensions, dunder names, ``**``) is refused when
the flow loads, with the reason. Evaluation walks the tree; results that grow
past `MAX_TEXT` characters are refused so a flow cannot build huge strings.
"""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

MAX_TEXT = 2000
MAX_SOURCE = 500


class ExprError(ValueError):
    """An expression that cannot be parsed, or fails when evaluated."""


def _matches(text: object, pattern: object) -> bool:
    return re.fullmatch(str(pattern), str(text)) is not None


def _default(value: object, fallback: object) -> object:
    return fallback if value is None or value == "" else value


FUNCTIONS: dict[str, Callable[..., object]] = {
    "len": lambda value: len(value),
    "int": lambda value: int(str(value)) if str(value).strip() else 0,
    "str": lambda value: "" if value is None else str(value),
    "lower": lambda value: str(value).lower(),
    "upper": lambda value: str(value).upper(),
    "matches": _matches,
    "startswith": lambda value, prefix: str(value).startswith(str(prefix)),
    "default": _default,
}

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
}
_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Is: operator.is_,
    ast.IsNot: operator.is_not,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}


@dataclass(frozen=True)
class Expression:
    """A checked expression and the variable names it reads."""

    source: str
    tree: ast.expr
    names: frozenset[str]

    def evaluate(self, variables: Mapping[str, object]) -> object:
        """The value over `variables`; an unknown name or a bad operation is ExprError."""
        try:
            return _eval(self.tree, variables)
        except ExprError:
            raise
        except (TypeError, ValueError, ZeroDivisionError, KeyError, IndexError) as exc:
            raise ExprError(f"{self.source!r}: {exc}") from exc

    def truth(self, variables: Mapping[str, object]) -> bool:
        return bool(self.evaluate(variables))


def compile_expr(source: str) -> Expression:
    """Parse and check `source`; raise ExprError naming what is not allowed."""
    if len(source) > MAX_SOURCE:
        raise ExprError(f"expression longer than {MAX_SOURCE} characters")
    try:
        tree = ast.parse(source.strip(), mode="eval").body
    except SyntaxError as exc:
        raise ExprError(f"syntax error in {source!r}: {exc.msg}") from exc
    names: set[str] = set()
    _check(tree, names)
    return Expression(source, tree, frozenset(names))


def _check(node: ast.AST, names: set[str]) -> None:
    if isinstance(node, ast.Name):
        if node.id.startswith("_"):
            raise ExprError(f"name {node.id!r} is not allowed")
        if node.id not in FUNCTIONS and node.id not in ("true", "false", "none"):
            names.add(node.id)
        return
    if isinstance(node, ast.Call):
        _check_call(node, names)
        return
    if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
        raise ExprError(f"attribute {node.attr!r} is not allowed")
    if isinstance(node, ast.BinOp) and type(node.op) not in _BINARY:
        raise ExprError(f"operator {type(node.op).__name__} is not allowed")
    if not isinstance(node, _ALLOWED):
        raise ExprError(f"{type(node).__name__} is not allowed in a flow expression")
    for child in ast.iter_child_nodes(node):
        _check(child, names)


def _check_call(node: ast.Call, names: set[str]) -> None:
    if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
        raise ExprError(f"only these functions may be called: {', '.join(sorted(FUNCTIONS))}")
    if node.keywords:
        raise ExprError("keyword arguments are not allowed")
    for arg in node.args:
        _check(arg, names)


_ALLOWED = (
    ast.Constant,
    ast.Attribute,
    ast.Subscript,
    ast.Slice,
    ast.BoolOp,
    ast.And,
    ast.Or,
    ast.UnaryOp,
    ast.Not,
    ast.USub,
    ast.BinOp,
    ast.Compare,
    ast.IfExp,
    ast.Tuple,
    ast.List,
    ast.Load,
    *_BINARY,
    *_COMPARE,
)


def _eval(node: ast.expr, env: Mapping[str, object]) -> object:
    handler = _HANDLERS.get(type(node))
    if handler is None:  # pragma: no cover - _check refused it already
        raise ExprError(f"{type(node).__name__} is not allowed")
    result = handler(node, env)
    if isinstance(result, str | list | tuple) and len(result) > MAX_TEXT:
        raise ExprError(f"value longer than {MAX_TEXT}")
    return result


def _name(node: Any, env: Mapping[str, object]) -> object:
    constants = {"true": True, "false": False, "none": None}
    if node.id in constants:
        return constants[node.id]
    if node.id not in env:
        raise ExprError(f"unknown variable {node.id!r}")
    return env[node.id]


def _attribute(node: Any, env: Mapping[str, object]) -> object:
    base = _eval(node.value, env)
    if base is None:
        return None  # customer.name on an unknown caller reads as none, not a crash
    if isinstance(base, Mapping):
        return base.get(node.attr)
    raise ExprError(f"{node.attr!r} read from a {type(base).__name__}, not a record")


def _subscript(node: Any, env: Mapping[str, object]) -> object:
    base: Any = _eval(node.value, env)
    if isinstance(node.slice, ast.Slice):
        parts = [None if p is None else _eval(p, env) for p in (node.slice.lower, node.slice.upper)]
        return base[parts[0] : parts[1]]
    key: Any = _eval(node.slice, env)
    return base.get(key) if isinstance(base, Mapping) else base[key]


def _boolop(node: Any, env: Mapping[str, object]) -> object:
    result: object = None
    for value in node.values:
        result = _eval(value, env)
        if isinstance(node.op, ast.And) and not result:
            return result
        if isinstance(node.op, ast.Or) and result:
            return result
    return result


def _unary(node: Any, env: Mapping[str, object]) -> object:
    value: Any = _eval(node.operand, env)
    return (not value) if isinstance(node.op, ast.Not) else -value


def _binop(node: Any, env: Mapping[str, object]) -> object:
    left, right = _eval(node.left, env), _eval(node.right, env)
    if isinstance(node.op, ast.Mult) and (isinstance(left, str) or isinstance(right, str)):
        raise ExprError("strings cannot be repeated")
    return _BINARY[type(node.op)](left, right)


def _compare(node: Any, env: Mapping[str, object]) -> object:
    left = _eval(node.left, env)
    for op, comparator in zip(node.ops, node.comparators, strict=True):
        right = _eval(comparator, env)
        if not _COMPARE[type(op)](left, right):
            return False
        left = right
    return True


def _ifexp(node: Any, env: Mapping[str, object]) -> object:
    return _eval(node.body, env) if _eval(node.test, env) else _eval(node.orelse, env)


def _call(node: Any, env: Mapping[str, object]) -> object:
    return FUNCTIONS[node.func.id](*(_eval(arg, env) for arg in node.args))


_HANDLERS: dict[type[ast.AST], Callable[[Any, Mapping[str, object]], object]] = {
    ast.Constant: lambda node, env: node.value,
    ast.Name: _name,
    ast.Attribute: _attribute,
    ast.Subscript: _subscript,
    ast.BoolOp: _boolop,
    ast.UnaryOp: _unary,
    ast.BinOp: _binop,
    ast.Compare: _compare,
    ast.IfExp: _ifexp,
    ast.Call: _call,
    ast.Tuple: lambda node, env: tuple(_eval(e, env) for e in node.elts),
    ast.List: lambda node, env: [_eval(e, env) for e in node.elts],
}
