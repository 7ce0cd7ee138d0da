"""Budget allocation: Thompson sampling on response curves, within a manager's limits.

Each day a campaign's daily budget (what pacing says it may spend today) is a pool across its ad
groups (platform × segment). The allocator draws one response curve per ad group from its
posterior (:mod:`adflux.optimization.allocation_model`) and splits the pool to maximise the
applications those curves promise: with concave curves the best split equalises marginal
applications per peso, found by bisection on that marginal value. The split stays within the
limits: every active ad group keeps at least ``min_share`` of the pool (so it keeps learning), no
ad group's budget moves by more than ``max_move`` of the pool in a day, and an ad group that could
not spend its budget lately gets no more than it spent plus a margin.

With probability ``explore`` a day is an exploration day (shares drawn at random above the
minimum), so every budget level keeps a known chance of being tried; the propensity of each ad
group's level (the bin its share falls in, :data:`LEVEL_EDGES`) is estimated by repeating the
draw, which is what off-policy evaluation (:mod:`adflux.optimization.off_policy`) needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from adflux.optimization.allocation_model import REFERENCE, Posterior

Array = NDArray[np.float64]

# Ad group share relative to an even split: level bins [edge_k, edge_k+1).
LEVEL_EDGES = np.array([0.0, 0.35, 0.6, 0.85, 1.15, 1.5, 2.0, 3.0, np.inf])
PROPENSITY_DRAWS = 200
CAPACITY_MARGIN = 1.25  # an under-delivering ad group gets at most its recent spend times this


@dataclass(frozen=True)
class Limits:
    """What a manager allows the allocator to do."""

    min_share: float = 0.02  # of the pool, for every active ad group
    max_move: float = 0.25  # of the pool, per ad group per day
    explore: float = 0.03  # probability that a day's split is drawn at random above the minimum

    def __post_init__(self) -> None:
        if not 0 <= self.min_share < 1 or not 0 < self.max_move <= 1 or not 0 <= self.explore < 1:
            raise ValueError("min_share in [0, 1), max_move in (0, 1], explore in [0, 1)")


@dataclass(frozen=True)
class Allocation:
    """Today's split of the pool and what the off-policy log needs."""

    budgets: Array  # pesos per ad group (0 for inactive ones)
    levels: NDArray[np.int64]  # bin of each ad group's share relative to an even split
    propensities: Array  # probability of that bin under the allocator's randomness
    explored: bool  # whether today's split was an exploration draw


def level_of(budgets: Array, active: NDArray[np.bool_]) -> NDArray[np.int64]:
    """Bin of each active ad group's share relative to an even split of the active ones."""
    pool = budgets[active].sum()
    even = pool / max(int(active.sum()), 1)
    relative = np.where(active, budgets / max(even, 1e-9), 0.0)
    return np.asarray(np.clip(np.searchsorted(LEVEL_EDGES, relative, side="right") - 1, 0, 7), np.int64)


def bounds(
    pool: float, previous: Array, active: NDArray[np.bool_], limits: Limits, capacity: Array | None
) -> tuple[Array, Array]:
    """Lower and upper budget of each ad group today (0 for inactive ones); always feasible."""
    n = int(active.sum())
    floor = min(limits.min_share, 1 / max(n, 1)) * pool
    prev = np.where(active, previous, 0.0)
    prev = prev * pool / prev.sum() if prev.sum() > 0 else np.where(active, pool / max(n, 1), 0.0)
    move = limits.max_move * pool
    low = np.where(active, np.maximum(floor, prev - move), 0.0)
    high = np.where(active, np.maximum(low, prev + move), 0.0)
    if capacity is not None:
        high = np.where(active, np.maximum(low, np.minimum(high, capacity * CAPACITY_MARGIN)), 0.0)
    if high.sum() < pool:  # the limits cannot hold the pool: spread the rest over the active ones
        high = high + np.where(active, (pool - high.sum()) / max(n, 1), 0.0)
    if low.sum() > pool:
        low = low * pool / low.sum()
    return low, high


def best_split(pool: float, thetas: Array, betas: Array, low: Array, high: Array) -> Array:
    """Budgets within [low, high] summing to ``pool`` that maximise sum theta·(b/REF)^beta.

    ``thetas`` and ``betas`` may be (draws, groups): every row is solved at once.
    """
    thetas, betas = np.atleast_2d(np.maximum(thetas, 1e-12)), np.atleast_2d(betas)
    if pool <= 0:
        return np.zeros_like(thetas)
    exponent = 1 / (betas - 1)

    def at(marginal: Array) -> Array:
        # d/db theta·(b/R)^beta = theta·beta/R·(b/R)^(beta-1) = marginal  →  b
        with np.errstate(over="ignore", divide="ignore"):
            b = REFERENCE * (marginal[:, None] * REFERENCE / (thetas * betas)) ** exponent
        return np.clip(np.nan_to_num(b, nan=0.0, posinf=1e18), low, high)

    lo, hi = np.full(len(thetas), np.log(1e-15)), np.full(len(thetas), np.log(1e3))
    for _ in range(64):
        mid = (lo + hi) / 2
        over = at(np.exp(mid)).sum(axis=1) > pool
        lo, hi = np.where(over, mid, lo), np.where(over, hi, mid)
    budgets = at(np.exp((lo + hi) / 2))
    gap = pool - budgets.sum(axis=1, keepdims=True)  # a few pesos left: give them to who has room
    room = np.where(gap > 0, high - budgets, budgets - low)
    total = room.sum(axis=1, keepdims=True)
    return np.asarray(budgets + np.where(total > 0, gap * room / np.maximum(total, 1e-9), 0.0), float)


def _explore_split(pool: float, active: NDArray[np.bool_], limits: Limits, rng: np.random.Generator) -> Array:
    n = int(active.sum())
    floor = min(limits.min_share, 1 / max(n, 1))
    shares = np.zeros(len(active))
    shares[active] = floor + (1 - n * floor) * rng.dirichlet(np.ones(n))
    return shares * pool


def _draws(
    pool: float,
    posteriors: Sequence[Posterior],
    box: tuple[Array, Array],
    active: NDArray[np.bool_],
    limits: Limits,
    rng: np.random.Generator,
    count: int,
) -> tuple[Array, NDArray[np.bool_]]:
    """``count`` independent splits from the allocator's randomness, and which were exploration."""
    samples = [p.samples(rng, count) for p in posteriors]
    thetas = np.stack([s[0] for s in samples], axis=1)
    betas = np.stack([s[1] for s in samples], axis=1)
    splits = best_split(pool, thetas, betas, *box)
    explored = rng.random(count) < limits.explore
    for row in np.flatnonzero(explored):
        splits[row] = _explore_split(pool, active, limits, rng)
    return splits, explored


def allocate(
    pool: float,
    posteriors: Sequence[Posterior],
    previous: Array,
    active: NDArray[np.bool_],
    limits: Limits,
    rng: np.random.Generator,
    capacity: Array | None = None,
) -> Allocation:
    """Today's split of ``pool`` pesos, and each ad group's propensity for its level.

    The first draw is today's split; the next PROPENSITY_DRAWS replay the same randomness to
    estimate how likely each ad group's level was (as the Open Bandit Pipeline does for Thompson
    sampling).
    """
    active = np.asarray(active, bool)
    box = bounds(pool, np.asarray(previous, float), active, limits, capacity)
    splits, explored = _draws(pool, posteriors, box, active, limits, rng, PROPENSITY_DRAWS + 1)
    levels = level_of(splits[0], active)
    replay = np.stack([level_of(split, active) for split in splits[1:]])
    counts = np.stack([(replay == k).sum(axis=0) for k in range(len(LEVEL_EDGES) - 1)], axis=1)
    # Smoothing keeps a level never drawn in the replay at a small, non-zero propensity.
    probabilities = (counts + 1 / counts.shape[1]) / (PROPENSITY_DRAWS + 1)
    propensities = probabilities[np.arange(len(active)), levels]
    return Allocation(np.round(splits[0]), levels, propensities, bool(explored[0]))
