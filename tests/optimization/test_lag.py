"""Lag correction: the lag learned from one snapshot, and CPA corrected with an honest interval."""

from __future__ import annotations

import numpy as np

from adflux.optimization.lag import corrected_cpa, estimate_lag_cdf, maturity_age, raw_cpa

TRUE_CDF = np.array([0.0, 0.4, 0.62, 0.75, 0.84, 0.9, 0.94, 0.97, 0.99] + [1.0] * 13)


def _snapshot(seed: int = 0, groups: int = 200, days: int = 30):
    """Per ad group-day spend and applications as reported today, with a known lag."""
    rng = np.random.default_rng(seed)
    ages = np.tile(np.arange(days, 0, -1), groups)
    spend = rng.uniform(50_000, 150_000, ages.size)
    final = rng.poisson(spend / 10_000)  # true CPA 10.000
    reported = rng.binomial(final, TRUE_CDF[np.minimum(ages, 21)])
    return spend, reported, ages


def test_the_lag_is_recovered_from_a_single_snapshot():
    spend, reported, ages = _snapshot()
    cdf = estimate_lag_cdf(spend, reported, ages)
    assert np.all(np.diff(cdf) >= 0)
    assert np.allclose(cdf[1:8], TRUE_CDF[1:8], atol=0.05)
    assert maturity_age(cdf) in (6, 7, 8)


def test_without_matured_history_nothing_is_corrected():
    spend, reported, ages = _snapshot(days=10)
    assert np.all(estimate_lag_cdf(spend, reported, ages)[1:] == 1.0)


def test_recent_days_look_dear_raw_but_the_corrected_interval_holds_the_truth():
    rng = np.random.default_rng(1)
    spend = np.full((300, 5), 100_000.0)
    ages = np.arange(5, 0, -1)
    final = rng.poisson(spend / 10_000)
    reported = rng.binomial(final, TRUE_CDF[ages])
    raw = raw_cpa(spend, reported)
    estimate = corrected_cpa(spend, reported, ages, TRUE_CDF, level=0.8)
    assert np.median(raw) > 13_000  # a third dearer than the truth
    assert abs(np.median(estimate.point) - 10_000) < 800
    covered = (estimate.low <= 10_000) & (estimate.high >= 10_000)
    assert 0.7 <= covered.mean() <= 0.92


def test_no_applications_yet_is_an_infinite_point_with_a_finite_low_end():
    estimate = corrected_cpa(np.array([[100_000.0, 100_000.0]]), np.zeros((1, 2)), np.array([2, 1]), TRUE_CDF)
    assert np.isinf(estimate.point[0])
    assert 0 < estimate.low[0] < np.inf
