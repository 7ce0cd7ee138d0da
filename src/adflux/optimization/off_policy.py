"""Off-policy evaluation: what a new allocation policy would have bought, from the allocator's log.

The unit is an ad group-day the allocator logged: the level of its share (relative to an even
split, :data:`adflux.optimization.allocation.LEVEL_EDGES`), that level's propensity under the
allocator's randomness, the budget and the applications it bought (matured, or corrected for the
lag). A target policy says, for each logged ad group-day, which budget it would have given (a
fixed split — even, a manager's weights, the allocator's learned shares frozen — or any
deterministic rule); its level is the bin of that budget.

- **IPS** (inverse propensity scoring): the applications of the days whose logged level matches the
  target's, weighted by 1 / propensity. Within a level the logged and target budgets differ a
  little, so each matched day's applications are first moved along the learned curve to the
  target budget (q̂(target) / q̂(logged)).
- **Doubly robust**: the learned curve's prediction at the target budget for every day, plus the
  IPS-weighted error of that prediction on the matched days (right if either the curve or the
  propensities are).

Intervals come from a bootstrap over campaigns (days of one campaign are not independent): with
fewer than MIN_CAMPAIGNS campaigns in the log there is no interval, only the point estimates (a
bootstrap of so few clusters would claim more certainty than it has). :func:`compare_splits` is the
one method the product (the policy comparison, pooling every campaign the allocator ran) and the
benchmark use: the logs of several campaigns, each with its learned curves, and fixed-split target
policies. This follows the estimators of the Open Bandit Pipeline (Saito et al., 2021), on arrays.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from adflux.optimization.allocation import level_of
from adflux.optimization.allocation_model import Posterior

Array = NDArray[np.float64]
BOOTSTRAP_ROUNDS = 1000
MIN_CAMPAIGNS = 10  # fewer campaigns in the log: point estimates, no campaign-bootstrap interval
FROZEN_DAYS = 7


@dataclass(frozen=True)
class LoggedData:
    """The allocator's log, one entry per ad group-day (flat, aligned arrays)."""

    campaign: NDArray[np.int64]  # cluster for the bootstrap
    level: NDArray[np.int64]
    propensity: Array
    budget: Array
    applications: Array  # matured or lag-corrected

    def __post_init__(self) -> None:
        lengths = {
            len(a) for a in (self.campaign, self.level, self.propensity, self.budget, self.applications)
        }
        if len(lengths) != 1:
            raise ValueError("every logged array must have one entry per ad group-day")
        if (self.propensity <= 0).any() or (self.propensity > 1).any():
            raise ValueError("propensities must be in (0, 1]")


@dataclass(frozen=True)
class Estimate:
    """A policy's expected applications over the logged days, with its interval."""

    method: str
    value: float
    low: float | None  # None: too few campaigns to resample
    high: float | None
    matched: int  # logged days whose level the target policy would also have chosen
    effective_size: float  # (sum w)^2 / sum w^2 of the matched days' weights

    def contains(self, value: float) -> bool:
        """Whether ``value`` lies in the interval (False without one)."""
        return self.low is not None and self.high is not None and self.low <= value <= self.high


def _per_unit(
    data: LoggedData, target_level: NDArray[np.int64], predicted_logged: Array, predicted_target: Array
) -> tuple[Array, Array, Array]:
    match = data.level == target_level
    weight = np.where(match, 1 / data.propensity, 0.0)
    adjust = np.where(predicted_logged > 0, predicted_target / np.maximum(predicted_logged, 1e-12), 1.0)
    moved = data.applications * adjust
    ips = weight * moved
    dr = predicted_target + weight * (moved - predicted_target)
    return ips, dr, weight


def _interval(
    per_unit: Array, clusters: NDArray[np.int64], confidence: float, rng: np.random.Generator
) -> tuple[float | None, float | None]:
    ids, inverse = np.unique(clusters, return_inverse=True)
    if len(ids) < MIN_CAMPAIGNS:
        return None, None
    sums = np.bincount(inverse, weights=per_unit, minlength=len(ids))
    picks = rng.integers(0, len(ids), size=(BOOTSTRAP_ROUNDS, len(ids)))
    totals = sums[picks].sum(axis=1)
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(totals, [tail, 100 - tail])
    return float(low), float(high)


def evaluate_policy(
    data: LoggedData,
    target_level: NDArray[np.int64],
    predicted_logged: Array,
    predicted_target: Array,
    *,
    confidence: float = 0.95,
    seed: int = 0,
) -> dict[str, Estimate]:
    """IPS and doubly robust estimates of the target policy's applications over the logged days.

    ``predicted_logged`` / ``predicted_target``: the learned curve's expected applications of each
    logged ad group-day at its logged budget / at the target policy's budget.
    """
    if not 0 < confidence < 1:
        raise ValueError("confidence must be between 0 and 1")
    target_level = np.asarray(target_level, np.int64)
    ips, dr, weight = _per_unit(
        data, target_level, np.asarray(predicted_logged), np.asarray(predicted_target)
    )
    matched = weight > 0
    size = float(weight.sum() ** 2 / (weight**2).sum()) if matched.any() else 0.0
    out = {}
    for method, per_unit in (("ips", ips), ("dr", dr)):
        low, high = _interval(per_unit, data.campaign, confidence, np.random.default_rng(seed))
        out[method] = Estimate(method, float(per_unit.sum()), low, high, int(matched.sum()), size)
    return out


def logged_value(data: LoggedData, *, confidence: float = 0.95, seed: int = 0) -> Estimate:
    """What the logging policy (the allocator) bought, with the same bootstrap interval."""
    low, high = _interval(data.applications, data.campaign, confidence, np.random.default_rng(seed))
    return Estimate(
        "logged", float(data.applications.sum()), low, high, len(data.level), float(len(data.level))
    )


@dataclass(frozen=True)
class CampaignLog:
    """One campaign's logged ad group-days (aligned arrays) and each ad group's learned curve.

    ``group`` indexes ``curves`` (and a target policy's shares); ``day`` is any day number.
    """

    group: NDArray[np.int64]
    day: NDArray[np.int64]
    budget: Array
    level: NDArray[np.int64]
    propensity: Array
    applications: Array  # matured or lag-corrected
    curves: Sequence[Posterior]


@dataclass(frozen=True)
class SplitEstimate:
    """A fixed-split policy's estimates over every logged campaign, and each campaign's part."""

    policy: str
    ips: Estimate
    dr: Estimate
    ips_by_campaign: list[float]
    dr_by_campaign: list[float]


@dataclass(frozen=True)
class SplitComparison:
    """What the logging policy bought and what each fixed split would have, on the same days."""

    campaigns: int
    entries: int
    logged: Estimate
    logged_by_campaign: list[float]
    policies: list[SplitEstimate]

    @property
    def has_interval(self) -> bool:
        """Whether there were enough campaigns for the campaign bootstrap."""
        return self.logged.low is not None


def frozen_shares(log: CampaignLog, days: int = FROZEN_DAYS) -> Array:
    """Each ad group's mean share of the pool over the log's last ``days`` days."""
    n = len(log.curves)
    last = np.unique(log.day)[-days:]
    shares = []
    for day in last:
        budgets = np.bincount(log.group[log.day == day], weights=log.budget[log.day == day], minlength=n)
        if budgets.sum() > 0:
            shares.append(budgets / budgets.sum())
    return np.asarray(np.mean(shares, axis=0), float) if shares else np.full(n, 1 / max(n, 1))


def _target(log: CampaignLog, shares: Array) -> tuple[NDArray[np.int64], Array, Array]:
    """Per logged ad group-day: the target's level, the curve at the logged and at the target budget."""
    days, inverse = np.unique(log.day, return_inverse=True)
    pools = np.bincount(inverse, weights=log.budget, minlength=len(days))
    every = np.ones(len(shares), bool)
    levels = level_of(np.outer(pools, shares), every)  # (days, groups)
    target_budget = shares[log.group] * pools[inverse]
    return levels[inverse, log.group], _curves_at(log, log.budget), _curves_at(log, target_budget)


def _curves_at(log: CampaignLog, budgets: Array) -> Array:
    """Each logged ad group-day's expected applications at ``budgets`` on its ad group's curve."""
    out = np.zeros(len(budgets))
    for index, curve in enumerate(log.curves):
        pick = log.group == index
        if pick.any():
            out[pick] = curve.expected(budgets[pick])
    return out


def compare_splits(
    logs: Sequence[CampaignLog],
    shares: Mapping[str, Sequence[Array]],
    *,
    confidence: float = 0.95,
    seed: int = 0,
) -> SplitComparison:
    """IPS and doubly robust estimates of fixed-split policies over several campaigns' logs.

    ``shares[policy][c]``: each ad group's fixed share of campaign ``c``'s daily pool (the pool is
    what the logging policy split that day). One cluster per campaign for the bootstrap.
    """
    campaign = np.concatenate([np.full(len(log.group), c, np.int64) for c, log in enumerate(logs)])
    data = LoggedData(
        campaign,
        np.concatenate([log.level for log in logs]).astype(np.int64),
        np.concatenate([log.propensity for log in logs]).astype(float),
        np.concatenate([log.budget for log in logs]).astype(float),
        np.concatenate([log.applications for log in logs]).astype(float),
    )
    count = len(logs)
    estimates = []
    for policy, per_campaign in shares.items():
        parts = [_target(log, np.asarray(s, float)) for log, s in zip(logs, per_campaign, strict=True)]
        level, at_logged, at_target = (np.concatenate(arrays) for arrays in zip(*parts, strict=True))
        result = evaluate_policy(data, level, at_logged, at_target, confidence=confidence, seed=seed)
        ips, dr, _weight = _per_unit(data, level, at_logged, at_target)
        estimates.append(
            SplitEstimate(
                policy,
                result["ips"],
                result["dr"],
                np.bincount(campaign, weights=ips, minlength=count).tolist(),
                np.bincount(campaign, weights=dr, minlength=count).tolist(),
            )
        )
    return SplitComparison(
        count,
        len(campaign),
        logged_value(data, confidence=confidence, seed=seed),
        np.bincount(campaign, weights=data.applications, minlength=count).tolist(),
        estimates,
    )
