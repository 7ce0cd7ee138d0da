"""Off-policy evaluation: IPS and doubly robust estimates recover what a policy the log never ran buys."""

from __future__ import annotations

import numpy as np
import pytest

from adflux.optimization.off_policy import LoggedData, evaluate_policy, logged_value

RATES = np.array([2.0, 5.0, 9.0])  # expected applications at level 0, 1, 2


def _log(rng: np.random.Generator, campaigns: int = 40, days: int = 30) -> tuple[LoggedData, np.ndarray]:
    """A logging policy that picks level 2 with probability 0.6, 1 with 0.3, 0 with 0.1."""
    probabilities = np.array([0.1, 0.3, 0.6])
    n = campaigns * days
    quality = rng.lognormal(0, 0.3, campaigns).repeat(days)
    level = rng.choice(3, size=n, p=probabilities)
    applications = rng.poisson(RATES[level] * quality).astype(float)
    data = LoggedData(
        np.arange(campaigns).repeat(days), level, probabilities[level], RATES[level] * 10_000.0, applications
    )
    return data, quality


def test_estimates_recover_a_policy_the_log_rarely_ran() -> None:
    rng = np.random.default_rng(7)
    hits = {"ips": 0, "dr": 0}
    errors = {"ips": [], "dr": []}
    for _ in range(40):
        data, quality = _log(rng)
        target = np.zeros(len(data.level), np.int64)  # always level 0: logged 10 % of the time
        truth = float((RATES[0] * quality).sum())
        # The curve learned is right on average but blind to each campaign's quality.
        estimates = evaluate_policy(data, target, RATES[data.level], np.full(len(target), RATES[0]), seed=1)
        for method, estimate in estimates.items():
            hits[method] += estimate.contains(truth)
            errors[method].append(estimate.value / truth - 1)
            assert estimate.low <= estimate.value <= estimate.high
    assert hits["ips"] >= 34 and hits["dr"] >= 34  # a 95 % interval: at least 85 % of 40 runs
    assert abs(np.mean(errors["ips"])) < 0.03 and abs(np.mean(errors["dr"])) < 0.03
    assert np.std(errors["dr"]) < np.std(errors["ips"])  # the curve takes out most of the noise


def test_matched_days_and_effective_size() -> None:
    data, _quality = _log(np.random.default_rng(1), campaigns=5, days=10)
    estimates = evaluate_policy(data, data.level.copy(), np.ones(50), np.ones(50))
    assert estimates["ips"].matched == 50
    other = evaluate_policy(data, (data.level + 1) % 3, np.ones(50), np.ones(50))
    assert other["ips"].matched == 0 and other["ips"].value == 0 and other["ips"].effective_size == 0
    assert other["dr"].value == pytest.approx(50.0)  # no matched days: the curve alone


def test_within_a_level_applications_move_along_the_curve_to_the_target_budget() -> None:
    data = LoggedData(np.array([0]), np.array([1]), np.array([1.0]), np.array([90_000.0]), np.array([9.0]))
    estimate = evaluate_policy(data, np.array([1]), np.array([9.0]), np.array([10.0]))["ips"]
    assert estimate.value == pytest.approx(10.0)


def test_logged_value_and_bad_input() -> None:
    data, _quality = _log(np.random.default_rng(2), campaigns=10, days=5)
    value = logged_value(data)
    assert value.value == data.applications.sum() and value.low < value.value < value.high
    with pytest.raises(ValueError, match="propensities"):
        LoggedData(np.array([0]), np.array([0]), np.array([0.0]), np.array([1.0]), np.array([1.0]))
    with pytest.raises(ValueError, match="one entry"):
        LoggedData(np.array([0, 1]), np.array([0]), np.array([1.0]), np.array([1.0]), np.array([1.0]))
    with pytest.raises(ValueError, match="confidence"):
        evaluate_policy(data, data.level, np.ones(50), np.ones(50), confidence=1.5)
