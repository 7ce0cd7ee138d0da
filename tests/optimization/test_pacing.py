"""Pacing: lands on the total by the end date, never over it, and says when it cannot."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from adflux.optimization.pacing import flight_weights, plan_pacing

START, END = date(2026, 3, 1), date(2026, 3, 30)


def _fly(total: int, delivered: float, mode: str = "even", capacity: float | None = None) -> tuple[int, list]:
    spent, plans = 0, []
    for offset in range(30):
        plan = plan_pacing(
            total_budget=total,
            spent=spent,
            start=START,
            end=END,
            today=START + timedelta(days=offset),
            mode=mode,
            delivery_ratio=delivered,
            capacity=capacity,
        )
        plans.append(plan)
        spent += min(int(plan.daily_budget * delivered), int(capacity or 10**12))
    return spent, plans


def test_an_under_delivering_platform_still_lands_within_five_percent_and_never_over():
    spent, plans = _fly(3_000_000, delivered=0.9)
    assert 0.95 * 3_000_000 <= spent <= 3_000_000
    assert all(plan.daily_budget <= plan.remaining for plan in plans)


def test_front_loaded_spends_more_early_and_still_lands():
    spent, plans = _fly(3_000_000, delivered=1.0, mode="front_loaded")
    assert plans[0].daily_budget > 1.4 * plans[-5].daily_budget
    assert 0.95 * 3_000_000 <= spent <= 3_000_000
    assert flight_weights(30, "front_loaded").sum() == np.float64(30)


def test_an_audience_too_small_raises_cannot_land():
    _spent, plans = _fly(3_000_000, delivered=1.0, capacity=60_000)
    assert "cannot_land" in plans[3].warnings


def test_no_end_date_gets_a_monthly_cap_and_a_warning():
    plan = plan_pacing(
        total_budget=10_000_000,
        spent=0,
        start=START,
        end=None,
        today=date(2026, 3, 21),
        monthly_cap=1_100_000,
        spent_this_month=900_000,
    )
    assert plan.warnings == ("no_end_date",)
    assert plan.days_left == 11 and plan.daily_budget == 200_000 // 11


def test_after_the_end_date_nothing_is_spent():
    plan = plan_pacing(total_budget=1_000, spent=500, start=START, end=END, today=END + timedelta(days=1))
    assert plan.daily_budget == 0 and "ended" in plan.warnings
