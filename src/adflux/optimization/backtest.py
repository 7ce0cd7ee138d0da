"""Backtest: replay a rule over the last N days of history, as the data looked on each of those days.

On each replayed day a day's applications are thinned to what had been reported by then (today's
count times the share reported at that age over the share reported today), so the rule sees the
same immature CPA it would have seen live. What it does then changes the history that follows:
a pause removes the entity's later spend and its matured applications (saved / lost), a budget
change scales them (a linear estimate: it ignores diminishing returns, so gains from raising
budgets are upper bounds), a resume restores them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from adflux.optimization.lag import Array, reported_share
from adflux.optimization.rules import Decision, Panel, Rule, decide, evaluate


@dataclass(frozen=True)
class ReplayedDecision:
    """What the rule would have done on replayed day ``day`` (column index) to ``entity``."""

    day: int
    entity: int
    kind: str
    budget_before: int
    budget_after: int
    evidence: dict[str, float]


@dataclass(frozen=True)
class BacktestResult:
    """The replay's decisions and what they would have saved or lost (matured applications)."""

    decisions: tuple[ReplayedDecision, ...]
    spend: float  # what was actually spent over the replayed days
    applications: float  # matured applications of the replayed days as they happened
    spend_saved: float  # negative: the rule would have spent more
    applications_lost: float  # negative: the rule would have gained

    @property
    def cpa_after(self) -> float:
        """CPA over the replayed days had the rule been on."""
        applications = self.applications - self.applications_lost
        return (self.spend - self.spend_saved) / applications if applications > 0 else float("inf")

    @property
    def cpa_before(self) -> float:
        """CPA over the replayed days as they happened."""
        return self.spend / self.applications if self.applications > 0 else float("inf")


def _as_of(panel: Panel, day: int, scale: Array, matured: Array, cdf: Array) -> Panel:
    """The panel as it looked at the start of column ``day``, with the replay's changes applied."""
    ages = panel.ages[:day] - panel.ages[day]
    cols = slice(0, day)
    return Panel(
        panel.spend[:, cols] * scale[:, cols],
        panel.impressions[:, cols] * scale[:, cols],
        panel.clicks[:, cols] * scale[:, cols],
        panel.reach[:, cols] * scale[:, cols],
        matured[:, cols] * reported_share(cdf, ages) * scale[:, cols],
        ages,
        panel.extras,
    )


def _apply(decision: Decision, day: int, scale: Array, active: np.ndarray, budgets: np.ndarray) -> None:
    i = decision.entity
    if decision.kind == "pause":
        scale[i, day:], active[i] = 0.0, False
    elif decision.kind == "resume":
        scale[i, day:], active[i] = 1.0, True
    elif decision.kind == "budget" and decision.budget_before:
        scale[i, day:] *= decision.budget_after / decision.budget_before
        budgets[i] = decision.budget_after


def backtest(rule: Rule, panel: Panel, cdf: Array, days: int, budgets: np.ndarray) -> BacktestResult:
    """Replay ``rule`` over the last ``days`` columns of ``panel`` (reported as of today)."""
    total_days = panel.spend.shape[1]
    days = max(1, min(days, total_days - 1))
    matured = panel.applications / reported_share(cdf, panel.ages)
    scale = np.ones_like(panel.spend, dtype=float)
    # Active at the start of the replay: spent on its last day before it.
    active = panel.spend[:, total_days - days - 1] > 0
    budgets = np.asarray(budgets, float).copy()
    since_action = np.full(panel.size, 10_000)
    decisions: list[ReplayedDecision] = []
    for day in range(total_days - days, total_days):
        evaluation = evaluate(rule, _as_of(panel, day, scale, matured, cdf), cdf)
        for decision in decide(
            rule, evaluation, active=active, budgets=budgets, days_since_action=since_action
        ):
            _apply(decision, day, scale, active, budgets)
            since_action[decision.entity] = -1
            decisions.append(
                ReplayedDecision(
                    day,
                    decision.entity,
                    decision.kind,
                    decision.budget_before,
                    decision.budget_after,
                    decision.evidence,
                )
            )
        since_action += 1
    window = slice(total_days - days, total_days)
    spend, apps = panel.spend[:, window], matured[:, window]
    return BacktestResult(
        decisions=tuple(decisions),
        spend=float(spend.sum()),
        applications=float(apps.sum()),
        spend_saved=float((spend * (1 - scale[:, window])).sum()),
        applications_lost=float((apps * (1 - scale[:, window])).sum()),
    )
