"""Pacing: the daily budget that lands a campaign on its total by its end date, and when it cannot.

Even pacing spends the same each remaining day; front-loaded spends more early (weights falling
linearly from 1.5 to 0.5 over the flight). Each day the plan re-divides what is left over the days
left by their weights, so over- or under-delivery is corrected the next day; the budget is raised
by the platforms' recent delivery ratio (they rarely spend the last peso) but never above what is
left of the total. A campaign without an end date gets a monthly cap spread over the month.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from adflux.constants import PACING_MODES

__all__ = ["PACING_MODES", "PacingPlan", "flight_weights", "plan_pacing"]
LANDING_TOLERANCE = 0.05


@dataclass(frozen=True)
class PacingPlan:
    """Today's daily budget and the state behind it (pesos)."""

    daily_budget: int
    planned_to_date: int  # what the plan meant to have spent before today
    spent: int
    remaining: int
    days_left: int  # including today
    mode: str
    warnings: tuple[str, ...]  # cannot_land, no_end_date, ahead, behind, ended

    @property
    def pace(self) -> float:
        """Actual over planned spend so far (1 = on plan)."""
        return self.spent / self.planned_to_date if self.planned_to_date else 1.0


def flight_weights(days: int, mode: str) -> np.ndarray:
    """Relative spend of each day of a flight."""
    if mode not in PACING_MODES:
        raise ValueError(f"unknown pacing mode {mode!r} (one of {', '.join(PACING_MODES)})")
    if mode == "even" or days <= 1:
        return np.ones(max(days, 0))
    return np.linspace(1.5, 0.5, days)


def _state_warnings(
    spent: int, planned: int, remaining: int, capacity: float | None, days_left: int
) -> list[str]:
    warnings = []
    if capacity is not None and capacity * days_left < (1 - LANDING_TOLERANCE) * remaining:
        warnings.append("cannot_land")
    if planned and spent > planned * (1 + LANDING_TOLERANCE) + 1:
        warnings.append("ahead")
    elif planned and spent < planned * (1 - 2 * LANDING_TOLERANCE):
        warnings.append("behind")
    return warnings


def plan_pacing(
    *,
    total_budget: int,
    spent: int,
    start: date,
    end: date | None,
    today: date,
    mode: str = "even",
    delivery_ratio: float = 1.0,
    capacity: float | None = None,
    monthly_cap: int | None = None,
    spent_this_month: int = 0,
) -> PacingPlan:
    """Today's daily budget for a campaign that has ``spent`` before today.

    ``delivery_ratio``: recent spend over daily budget (platforms under-deliver a little);
    ``capacity``: the most the campaign's audiences have absorbed in a day, if known.
    """
    if end is None:
        return _monthly(total_budget, spent, today, monthly_cap, spent_this_month, mode)
    remaining = max(0, total_budget - spent)
    weights = flight_weights((end - start).days + 1, mode)
    elapsed = max(0, min(len(weights), (today - start).days))
    planned = round(total_budget * weights[:elapsed].sum() / weights.sum()) if len(weights) else 0
    days_left = len(weights) - elapsed
    if days_left <= 0 or remaining <= 0:
        return PacingPlan(0, planned, spent, remaining, 0, mode, ("ended",) if days_left <= 0 else ())
    share = weights[elapsed] / weights[elapsed:].sum()
    ratio = min(1.0, max(0.5, delivery_ratio))
    daily = min(remaining, round(remaining * share / ratio))
    warnings = _state_warnings(spent, planned, remaining, capacity, days_left)
    return PacingPlan(daily, planned, spent, remaining, days_left, mode, tuple(warnings))


def _monthly(
    total_budget: int, spent: int, today: date, monthly_cap: int | None, spent_this_month: int, mode: str
) -> PacingPlan:
    """No end date: spread a monthly cap (default: the total budget) over the rest of the month."""
    cap = monthly_cap if monthly_cap is not None else total_budget
    last = date(today.year, today.month, calendar.monthrange(today.year, today.month)[1])
    days_left = (last - today).days + 1
    left_this_month = max(0, cap - spent_this_month)
    left_total = max(0, total_budget - spent)
    daily = min(left_total, left_this_month // days_left)
    month_days = last.day
    planned = round(cap * (today - (last - timedelta(days=month_days - 1))).days / month_days)
    return PacingPlan(daily, planned, spent_this_month, left_this_month, days_left, mode, ("no_end_date",))
