"""A playbook's policy as code: which openings it takes (conditions), and the budget it gives
one (a fixed amount, or a formula over the opening's salary and experience).

Both are checked when the playbook is saved, so an unknown field or a formula that cannot be
computed is an error the manager sees then, not a surprise at 3 a.m.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable
from typing import Any

from adflux.catalogue import gettext as _
from adflux.constants import MODALITIES
from adflux.models import JobOpening
from adflux.services.errors import ValidationFailed
from adflux.services.feeds.fields import category_code, fold

LIST_CONDITIONS = ("categories", "cities", "departments", "companies", "modalities", "keywords")
NUMBER_CONDITIONS = ("salary_min", "salary_max", "experience_min", "experience_max")
CONDITIONS = LIST_CONDITIONS + NUMBER_CONDITIONS
FORMULA_NAMES = ("salary_min", "salary_max", "salary", "experience_years_min")
_OPERATORS: dict[type, Callable[..., Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.USub: operator.neg,
}
_FUNCTIONS: dict[str, Callable[..., Any]] = {"min": min, "max": max, "round": round}
# An opening used to try a formula when the playbook is saved.
_SAMPLE = {"salary_min": 2_000_000, "salary_max": 3_000_000, "salary": 2_500_000, "experience_years_min": 2}


def check_conditions(conditions: dict[str, Any]) -> dict[str, Any]:
    """The conditions cleaned, or a ValidationFailed naming what is wrong."""
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    for name, value in conditions.items():
        if name not in CONDITIONS:
            errors.setdefault("conditions", []).append(f"unknown field {name!r}; use {', '.join(CONDITIONS)}")
        elif name in LIST_CONDITIONS:
            if (
                not isinstance(value, list)
                or not value
                or not all(isinstance(v, str) and v.strip() for v in value)
            ):
                errors.setdefault("conditions", []).append(f"{name} must be a non-empty list of words")
            else:
                clean[name] = [v.strip() for v in value]
        elif isinstance(value, bool) or not isinstance(value, int) or value < 0:
            errors.setdefault("conditions", []).append(f"{name} must be a whole number, 0 or more")
        else:
            clean[name] = value
    for category in clean.get("categories", []):
        if category_code(category) is None:
            errors.setdefault("conditions", []).append(f"unknown category {category!r}")
    for modality in clean.get("modalities", []):
        if fold(modality) not in MODALITIES:
            errors.setdefault("conditions", []).append(f"unknown modality {modality!r}")
    if errors:
        raise ValidationFailed(_("The playbook's conditions are invalid"), errors=errors)
    return clean


def matches(conditions: dict[str, Any], job: JobOpening) -> bool:
    """Whether the opening meets every condition (an empty set of conditions takes every one)."""
    if "categories" in conditions:
        wanted = {category_code(c) for c in conditions["categories"]}
        if job.category not in wanted:
            return False
    for name, value in (
        ("cities", job.city),
        ("departments", job.department),
        ("companies", job.company),
        ("modalities", job.modality),
    ):
        if name in conditions and not _any_equal(conditions[name], value):
            return False
    if "keywords" in conditions:
        text = fold(f"{job.title} {job.description}")
        if not any(fold(word) in text for word in conditions["keywords"]):
            return False
    return _numbers_match(conditions, job)


def _any_equal(words: list[str], value: str) -> bool:
    folded = fold(value)
    # "Bogotá" matches "Bogotá D.C.": a word matches a value it starts as a whole word.
    return any(folded == fold(w) or folded.startswith(fold(w) + " ") for w in words)


def _numbers_match(conditions: dict[str, Any], job: JobOpening) -> bool:
    top = job.salary_max if job.salary_max is not None else job.salary_min
    bottom = job.salary_min if job.salary_min is not None else job.salary_max
    if "salary_min" in conditions and (top is None or top < conditions["salary_min"]):
        return False
    if "salary_max" in conditions and (bottom is None or bottom > conditions["salary_max"]):
        return False
    experience = job.experience_years_min or 0
    if "experience_min" in conditions and experience < conditions["experience_min"]:
        return False
    return not ("experience_max" in conditions and experience > conditions["experience_max"])


# -- budget formulas ----------------------------------------------------------------------------


def check_formula(formula: str) -> str:
    """The formula if it parses, uses only known names and computes on a sample opening."""
    formula = formula.strip()
    try:
        value = _evaluate(formula, _SAMPLE)
    except ValueError as exc:
        raise ValidationFailed(
            _("The budget formula cannot be used: %(exc)s", exc=exc), errors={"budget_formula": [str(exc)]}
        ) from None
    if value <= 0:
        raise ValidationFailed(
            _(
                "The budget formula gives no positive budget for a sample opening "
                "(salary 2.000.000–3.000.000)"
            ),
            errors={"budget_formula": ["not positive"]},
        )
    return formula


def formula_budget(formula: str, job: JobOpening) -> int:
    """The whole-peso budget the formula gives this opening; ValueError says why it cannot."""
    low, high = job.salary_min, job.salary_max
    names = {
        "salary_min": low if low is not None else high,
        "salary_max": high if high is not None else low,
        "salary": None if low is None and high is None else ((low or high or 0) + (high or low or 0)) / 2,
        "experience_years_min": job.experience_years_min or 0,
    }
    value = _evaluate(formula, names)
    if value <= 0:
        raise ValueError(f"the formula gives {value:.0f}, not a positive budget")
    return round(value)


def _evaluate(formula: str, names: dict[str, Any]) -> float:
    try:
        tree = ast.parse(formula, mode="eval")
    except SyntaxError:
        raise ValueError(f"{formula!r} is not a formula (e.g. salary_max * 0.5)") from None
    if len(formula) > 300:
        raise ValueError("the formula is longer than 300 characters")
    return float(_node(tree.body, names))


def _node(node: ast.AST, names: dict[str, Any]) -> Any:
    if (
        isinstance(node, ast.Constant)
        and isinstance(node.value, (int, float))
        and not isinstance(node.value, bool)
    ):
        return node.value
    if isinstance(node, ast.Name):
        if node.id not in FORMULA_NAMES:
            raise ValueError(f"unknown name {node.id!r}; use {', '.join(FORMULA_NAMES)}")
        if names.get(node.id) is None:
            raise ValueError(f"the opening publishes no {node.id}")
        return names[node.id]
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        left, right = _node(node.left, names), _node(node.right, names)
        if isinstance(node.op, (ast.Div, ast.FloorDiv)) and right == 0:
            raise ValueError("division by zero")
        return _OPERATORS[type(node.op)](left, right)
    if isinstance(node, ast.UnaryOp) and type(node.op) in _OPERATORS:
        return _OPERATORS[type(node.op)](_node(node.operand, names))
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in _FUNCTIONS
        and not node.keywords
        and node.args
    ):
        return _FUNCTIONS[node.func.id](*(_node(a, names) for a in node.args))
    raise ValueError(f"{ast.unparse(node)!r} is not allowed (numbers, + - * /, min, max, round)")
