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

Intervals come from a bootstrap over campaigns (days of one campaign are not independent). This
follows the estimators of the Open Bandit Pipeline (Saito et al., 2021), on arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]
BOOTSTRAP_ROUNDS = 1000


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
    low: float
    high: float
    matched: int  # logged days whose level the target policy would also have chosen
    effective_size: float  # (sum w)^2 / sum w^2 of the matched days' weights

    def contains(self, value: float) -> bool:
        """Whether ``value`` lies in the interval."""
        return self.low <= value <= self.high


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
) -> tuple[float, float]:
    ids, inverse = np.unique(clusters, return_inverse=True)
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
