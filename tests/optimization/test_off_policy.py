"""Off-policy evaluation: IPS and doubly robust estimates recover what a policy the log never ran buys."""

from __future__ import annotations

import numpy as np
import pytest

from adflux.optimization.allocation import level_of
from adflux.optimization.allocation_model import REFERENCE, GroupHistory, Prior, posterior
from adflux.optimization.off_policy import (
    MIN_CAMPAIGNS,
    CampaignLog,
    LoggedData,
    compare_splits,
    evaluate_policy,
    frozen_shares,
    logged_value,
)

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


SPLITS = np.array([[0.6, 0.2, 0.2], [0.2, 0.6, 0.2], [1 / 3, 1 / 3, 1 / 3]])
SPLIT_ODDS = np.array([0.45, 0.45, 0.1])
POOL = 300_000.0


def _campaign(rng: np.random.Generator, days: int = 20) -> tuple[CampaignLog, float]:
    """A campaign of 3 ad groups logged by a policy choosing among SPLITS; its even split's truth."""
    thetas = rng.uniform(2.0, 12.0, 3)
    levels = level_of(SPLITS * POOL, np.ones(3, bool))  # (splits, groups)
    chosen = rng.choice(3, size=days, p=SPLIT_ODDS)
    budgets = SPLITS[chosen] * POOL  # (days, groups)
    mean = thetas * (budgets / REFERENCE) ** 0.7
    applications = rng.poisson(mean).astype(float)
    level = levels[chosen]
    # A group's propensity: the odds of every split that gives it the same level.
    propensity = np.array(
        [[SPLIT_ODDS[levels[:, g] == level[d, g]].sum() for g in range(3)] for d in range(days)]
    )
    group = np.tile(np.arange(3), days)
    curves = [
        posterior(GroupHistory(budgets[:, g], applications[:, g], np.ones(days)), Prior(2.0, 6.0))
        for g in range(3)
    ]
    log = CampaignLog(
        group,
        np.repeat(np.arange(days), 3),
        budgets.ravel(),
        level.ravel(),
        propensity.ravel(),
        applications.ravel(),
        curves,
    )
    truth = float((thetas * (POOL / 3 / REFERENCE) ** 0.7).sum() * days)
    return log, truth


def test_compare_splits_pools_campaigns_and_its_interval_covers_the_even_split() -> None:
    rng = np.random.default_rng(11)
    hits, runs = 0, 30
    for run in range(runs):
        pairs = [_campaign(rng) for _ in range(20)]
        logs = [log for log, _truth in pairs]
        truth = sum(t for _log, t in pairs)
        result = compare_splits(logs, {"even": [np.full(3, 1 / 3)] * len(logs)}, seed=run)
        (even,) = result.policies
        assert result.has_interval and result.campaigns == 20 and result.entries == 20 * 20 * 3
        assert even.dr.low is not None and even.dr.low <= even.dr.value <= even.dr.high
        assert sum(even.dr_by_campaign) == pytest.approx(even.dr.value)
        assert sum(result.logged_by_campaign) == pytest.approx(result.logged.value)
        hits += even.dr.contains(truth)
    assert hits >= 0.85 * runs  # a 95 % interval over 20 campaigns resampled whole


def test_too_few_campaigns_give_points_without_an_interval() -> None:
    rng = np.random.default_rng(3)
    logs = [_campaign(rng)[0] for _ in range(MIN_CAMPAIGNS - 1)]
    result = compare_splits(logs, {"even": [np.full(3, 1 / 3)] * len(logs)})
    assert not result.has_interval and result.logged.low is None and result.logged.high is None
    (even,) = result.policies
    assert even.dr.low is None and even.dr.value > 0 and not even.dr.contains(even.dr.value)
    more = compare_splits([*logs, _campaign(rng)[0]], {"even": [np.full(3, 1 / 3)] * MIN_CAMPAIGNS})
    assert more.has_interval and more.logged.low is not None


def test_frozen_shares_are_the_last_weeks_mean_split() -> None:
    days = np.repeat(np.arange(10), 2)
    budgets = np.array([[50.0, 50.0]] * 3 + [[80.0, 20.0]] * 7).ravel()
    log = CampaignLog(
        np.tile([0, 1], 10), days, budgets, np.zeros(20, np.int64), np.ones(20), np.zeros(20), [None, None]
    )  # type: ignore[list-item]
    assert frozen_shares(log) == pytest.approx([0.8, 0.2])
    assert frozen_shares(log, days=10) == pytest.approx([0.71, 0.29])
