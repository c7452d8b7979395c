"""Flow expressions: what they compute, and what they refuse to run."""

from __future__ import annotations

import pytest

from ticketline.ivr.expr import ExprError, compile_expr

VARS = {
    "caller": "13800138000",
    "vip_tier": 2,
    "hour": 20,
    "customer": {"name": "王芳", "vip_tier": 2},
    "nobody": None,
    "code": "20261201",
}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("vip_tier >= 2 and hour < 21", True),
        ("customer.name", "王芳"),
        ("nobody.name", None),
        ("nobody is none", True),
        ("customer is not none and customer.vip_tier > 1", True),
        ("code[:4]", "2026"),
        ("int(code[4:6]) + 1", 13),
        ("'VIP' if vip_tier >= 2 else 'regular'", "VIP"),
        ("caller in ('13800138000', '95105')", True),
        ("matches(code, '\\\\d{8}')", True),
        ("len(caller) == 11", True),
        ("default(nobody, 'guest')", "guest"),
        ("1 < hour < 21", True),
    ],
)
def test_expressions_compute_over_call_variables(source: str, expected: object) -> None:
    assert compile_expr(source).evaluate(VARS) == expected


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("__import__('os')", "only these functions"),
        ("caller.__class__", "not allowed"),
        ("[x for x in caller]", "not allowed"),
        ("lambda: 1", "not allowed"),
        ("2 ** 100000", "Pow"),
        ("open('/etc/passwd')", "only these functions"),
        ("len(caller, key=1)", "keyword"),
        ("vip_tier >=", "syntax error"),
        ("x" * 600, "longer than"),
    ],
)
def test_unsafe_or_broken_expressions_are_refused_when_compiled(source: str, reason: str) -> None:
    with pytest.raises(ExprError, match=reason):
        compile_expr(source)


def test_names_lists_the_variables_an_expression_reads() -> None:
    assert compile_expr("customer.name and len(code) > hour").names == {"customer", "code", "hour"}


def test_evaluation_errors_name_the_expression() -> None:
    with pytest.raises(ExprError, match="unknown variable 'missing'"):
        compile_expr("missing + 1").evaluate(VARS)
    with pytest.raises(ExprError, match="'vip_tier / 0'"):
        compile_expr("vip_tier / 0").evaluate(VARS)
    with pytest.raises(ExprError, match="cannot be repeated"):
        compile_expr("caller * 1000").evaluate(VARS)
