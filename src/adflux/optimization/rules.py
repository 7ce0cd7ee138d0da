"""Rules over arrays: conditions on a window of metrics, combined with AND/OR, and the actions they take.

A panel holds one row per entity (campaign, platform campaign or ad group) and one column per day,
oldest first, with the age of each column as of the evaluation (1 = yesterday). A rule's CPA
condition is judged as the rule's ``cpa_mode`` says: ``lag_aware`` asks the lag-corrected
interval (CPA > X only when even its low end is above X; CPA < X only when its high end is below),
``matured`` uses only days old enough to have matured, and ``raw`` takes the reported CPA as is —
which pauses ad groups whose applications simply have not arrived yet.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from adflux.constants import RULE_ACTIONS, RULE_CPA_MODES, RULE_LEVELS, RULE_METRICS
from adflux.optimization.lag import Array, corrected_cpa, maturity_age, raw_cpa

METRICS = RULE_METRICS
OPERATORS: dict[str, Callable[[Array, float], Array]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}
ACTIONS = RULE_ACTIONS
LEVELS = RULE_LEVELS
CPA_MODES = RULE_CPA_MODES


@dataclass(frozen=True)
class Condition:
    """``metric op value`` over the last ``window`` days."""

    metric: str
    op: str
    value: float
    window: int = 7

    def __post_init__(self) -> None:
        if self.metric not in METRICS:
            raise ValueError(f"unknown metric {self.metric!r} (one of {', '.join(METRICS)})")
        if self.op not in OPERATORS:
            raise ValueError(f"unknown operator {self.op!r} (one of {', '.join(OPERATORS)})")
        if not 1 <= self.window <= 90:
            raise ValueError("a window is 1 to 90 days")


@dataclass(frozen=True)
class Action:
    """What a rule does: pause, resume, change the daily budget (by ``percent`` or ``amount``), notify."""

    kind: str
    percent: float | None = None
    amount: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in ACTIONS:
            raise ValueError(f"unknown action {self.kind!r} (one of {', '.join(ACTIONS)})")
        if self.kind == "budget" and (self.percent is None) == (self.amount is None):
            raise ValueError("a budget action changes by a percent or by an amount, one of them")


@dataclass(frozen=True)
class Rule:
    """Conditions, how they combine, the action, and the brakes (cooldown, cap on change per day)."""

    name: str
    conditions: tuple[Condition, ...]
    action: Action
    combine: str = "all"
    level: str = "ad_group"
    cooldown_days: int = 3
    max_change_per_day: float = 0.5  # share of the daily budget a budget action may move in a day
    cpa_mode: str = "lag_aware"
    confidence: float = 0.8  # of the CPA interval a lag-aware condition asks

    def __post_init__(self) -> None:
        if not self.conditions:
            raise ValueError("a rule needs at least one condition")
        if self.combine not in ("all", "any"):
            raise ValueError("conditions combine with 'all' (AND) or 'any' (OR)")
        if self.level not in LEVELS:
            raise ValueError(f"unknown level {self.level!r} (one of {', '.join(LEVELS)})")
        if self.cpa_mode not in CPA_MODES:
            raise ValueError(f"unknown CPA mode {self.cpa_mode!r} (one of {', '.join(CPA_MODES)})")
        if not 0.5 <= self.confidence < 1:
            raise ValueError("confidence is between 0.5 and 1")


@dataclass(frozen=True)
class Panel:
    """Daily metrics of N entities over D days (oldest first) and each day's age at evaluation."""

    spend: Array
    impressions: Array
    clicks: Array
    reach: Array
    applications: Array
    ages: np.ndarray
    extras: dict[str, Array] = field(default_factory=dict)  # per entity: pacing, days_left

    @property
    def size(self) -> int:
        return int(self.spend.shape[0])

    def window(self, days: int, *, min_age: int = 0) -> Panel:
        """The last ``days`` columns among those at least ``min_age`` old."""
        keep = np.flatnonzero(self.ages >= min_age)[-days:]
        return Panel(
            self.spend[:, keep],
            self.impressions[:, keep],
            self.clicks[:, keep],
            self.reach[:, keep],
            self.applications[:, keep],
            self.ages[keep],
            self.extras,
        )


def _ratio(top: Array, bottom: Array) -> Array:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(bottom > 0, top / np.maximum(bottom, 1e-12), np.nan)


def _cpa_test(rule: Rule, condition: Condition, panel: Panel, cdf: Array) -> tuple[Array, dict[str, Array]]:
    """Whether each entity's CPA passes the condition, and the numbers behind it."""
    compare = OPERATORS[condition.op]
    if rule.cpa_mode == "raw":
        part = panel.window(condition.window)
        value = raw_cpa(part.spend, part.applications)
        return compare(value, condition.value), {"cpa": value}
    min_age = maturity_age(cdf) if rule.cpa_mode == "matured" else 0
    part = panel.window(condition.window, min_age=min_age)
    estimate = corrected_cpa(part.spend, part.applications, part.ages, cdf, rule.confidence)
    # Above a threshold only when even the optimistic end is; below only when the pessimistic is.
    bound = estimate.low if condition.op in (">", ">=") else estimate.high
    passed = compare(
        np.nan_to_num(bound, nan=np.inf if condition.op in ("<", "<=") else -np.inf), condition.value
    )
    evidence = {"cpa": estimate.point, "cpa_low": estimate.low, "cpa_high": estimate.high}
    evidence["applications_expected"] = estimate.applications
    return passed, evidence


def metric_values(metric: str, part: Panel, cdf: Array, cpa_mode: str) -> Array:
    """One non-CPA metric per entity over the panel's columns."""
    if metric == "spend":
        return part.spend.sum(axis=1)
    if metric == "applications":
        if cpa_mode == "raw":
            return part.applications.sum(axis=1)
        return corrected_cpa(part.spend, part.applications, part.ages, cdf).applications
    if metric == "ctr":
        return _ratio(part.clicks.sum(axis=1), part.impressions.sum(axis=1))
    if metric == "cpc":
        return _ratio(part.spend.sum(axis=1), part.clicks.sum(axis=1))
    if metric == "frequency":
        return _ratio(part.impressions.sum(axis=1), part.reach.sum(axis=1))
    values = part.extras.get(metric)
    if values is None:
        raise ValueError(f"the panel has no {metric!r} figures")
    return np.asarray(values, float)


@dataclass(frozen=True)
class Evaluation:
    """Which entities meet the rule's conditions, and the numbers behind each verdict."""

    fired: np.ndarray
    evidence: dict[str, Array]


def evaluate(rule: Rule, panel: Panel, cdf: Array) -> Evaluation:
    """Evaluate every condition for every entity at once and combine them."""
    tests: list[np.ndarray] = []
    evidence: dict[str, Array] = {}
    for condition in rule.conditions:
        if condition.metric == "cpa":
            cpa_passed, numbers = _cpa_test(rule, condition, panel, cdf)
            tests.append(np.asarray(cpa_passed, bool))
            evidence.update(numbers)
        else:
            values = metric_values(condition.metric, panel.window(condition.window), cdf, rule.cpa_mode)
            passed = np.asarray(OPERATORS[condition.op](values, condition.value), bool)
            tests.append(passed & ~np.isnan(values))
            evidence[condition.metric] = values
    stacked = np.vstack(tests)
    fired = stacked.all(axis=0) if rule.combine == "all" else stacked.any(axis=0)
    return Evaluation(fired=np.asarray(fired, bool), evidence=evidence)


@dataclass(frozen=True)
class Decision:
    """One action on one entity, with the budget before and after and the numbers behind it."""

    entity: int
    kind: str
    budget_before: int
    budget_after: int
    evidence: dict[str, float]


def _new_budget(rule: Rule, budget: int) -> int:
    action = rule.action
    change = budget * action.percent / 100 if action.percent is not None else float(action.amount or 0)
    limit = budget * rule.max_change_per_day
    change = max(-limit, min(limit, change))
    return max(0, round(budget + change))


def decide(
    rule: Rule,
    evaluation: Evaluation,
    *,
    active: np.ndarray,
    budgets: np.ndarray,
    days_since_action: np.ndarray,
) -> list[Decision]:
    """The actions a fired rule takes, respecting what applies to each entity and the cooldown."""
    kind = rule.action.kind
    applies = ~np.asarray(active, bool) if kind == "resume" else np.asarray(active, bool)
    if kind == "notify":
        applies = np.ones_like(applies)
    ready = np.asarray(days_since_action) >= rule.cooldown_days
    decisions = []
    for entity in np.flatnonzero(evaluation.fired & applies & ready):
        before = int(budgets[entity])
        after = _new_budget(rule, before) if kind == "budget" else before
        if kind == "budget" and after == before:
            continue
        evidence = {
            name: float(values[entity]) for name, values in evaluation.evidence.items() if len(values)
        }
        decisions.append(Decision(int(entity), kind, before, after, evidence))
    return decisions
