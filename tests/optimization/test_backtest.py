"""Backtest: a replay sees immature applications as they were, and counts what a rule saves or loses."""

from __future__ import annotations

import numpy as np

from adflux.optimization.backtest import backtest
from adflux.optimization.rules import Panel
from adflux.optimization.templates import template

CDF = np.array([0.0, 0.4, 0.62, 0.75, 0.84, 0.9, 0.94, 0.97, 0.99] + [1.0] * 13)


def _history(good_cpa: float = 8_000) -> Panel:
    """30 days of two ad groups: one good (CPA 8.000), one bad (CPA 40.000), reported as of today."""
    days = 30
    ages = np.arange(days, 0, -1)
    spend = np.full((2, days), 100_000.0)
    final = np.vstack([np.full(days, 100_000 / good_cpa), np.full(days, 2.5)])
    reported = final * CDF[np.minimum(ages, 21)]
    return Panel(spend, spend / 10, spend / 1_000, spend / 20, reported, ages)


def test_lag_aware_stop_loss_pauses_only_the_bad_ad_group_and_saves_its_spend():
    result = backtest(
        template("stop_loss", 12_000), _history(), CDF, days=14, budgets=np.array([100_000] * 2)
    )
    assert {d.entity for d in result.decisions} == {1}
    assert result.spend_saved > 1_000_000
    assert result.cpa_after < result.cpa_before


def test_raw_stop_loss_also_pauses_the_good_one_and_loses_its_applications():
    # Target 7.000: stop-loss pauses at 10.500; the first ad group matures at 9.000 but its last
    # week, as reported, looks like 11.600.
    history, budgets = _history(good_cpa=9_000), np.array([100_000] * 2)
    result = backtest(template("stop_loss", 7_000, cpa_mode="raw"), history, CDF, days=14, budgets=budgets)
    assert 0 in {d.entity for d in result.decisions}
    lag_aware = backtest(template("stop_loss", 7_000), history, CDF, days=14, budgets=budgets)
    assert 0 not in {d.entity for d in lag_aware.decisions}
    assert result.applications_lost > lag_aware.applications_lost
