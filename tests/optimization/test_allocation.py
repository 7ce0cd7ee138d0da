"""The allocator: learned curves, limits a manager sets, propensities, and moves explained in Spanish."""

from __future__ import annotations

import numpy as np
import pytest

from adflux.optimization.allocation import LEVEL_EDGES, Limits, allocate, best_split, bounds, level_of
from adflux.optimization.allocation_model import (
    REFERENCE,
    GroupHistory,
    PoolKey,
    Prior,
    pool_priors,
    posterior,
    prior_for,
)
from adflux.optimization.allocation_moves import explain, moves, pesos


def _history(rate: float, days: int = 20, budget: float = REFERENCE, seed: int = 0) -> GroupHistory:
    rng = np.random.default_rng(seed)
    return GroupHistory(np.full(days, budget), rng.poisson(rate, days).astype(float), np.ones(days))


def test_posterior_learns_the_rate_and_young_days_count_as_part_of_a_day() -> None:
    prior = Prior(1.0, 2.0)
    good, bad = posterior(_history(6.0), prior), posterior(_history(1.0, seed=1), prior)
    assert good.mean_curve()[0] == pytest.approx(6.0, rel=0.25)
    assert bad.mean_curve()[0] == pytest.approx(1.0, rel=0.4)
    # A day of age with F = 0.5 that reported 3 applications is evidence of a rate of 6, not 3.
    young = GroupHistory(np.full(30, REFERENCE), np.full(30, 3.0), np.full(30, 0.5))
    assert posterior(young, prior).mean_curve()[0] == pytest.approx(6.0, rel=0.05)


def test_beta_is_learned_when_spend_varies() -> None:
    spend = np.tile([25_000.0, 400_000.0], 40)
    flat = GroupHistory(spend, np.round(50 * (spend / REFERENCE) ** 0.5), np.ones(80))
    steep = GroupHistory(spend, np.round(50 * (spend / REFERENCE) ** 0.98), np.ones(80))
    prior = Prior(1.0, 50.0)
    assert posterior(flat, prior).mean_curve()[1] == 0.5
    assert posterior(steep, prior).mean_curve()[1] == 0.98


def test_priors_pool_by_category_then_fall_back_to_coarser_pools() -> None:
    histories = {
        PoolKey("tiktok", "operativo", "logistica"): [_history(8.0, seed=s) for s in range(4)],
        PoolKey("tiktok", "operativo", "salud"): [_history(2.0, seed=s) for s in range(2)],
    }
    priors = pool_priors(histories)
    logistics = prior_for(PoolKey("tiktok", "operativo", "logistica", "Bogotá"), priors)
    assert logistics.pool == "tiktok/operativo/logistica" and logistics.mean == pytest.approx(8.0, rel=0.2)
    health = prior_for(PoolKey("tiktok", "operativo", "salud"), priors)  # 2 groups: too few alone
    assert health.pool == "tiktok/operativo" and 2.0 < health.mean < 8.0
    assert prior_for(PoolKey("meta", "profesional"), priors).pool == "default"


def test_best_split_equalises_marginal_applications_per_peso() -> None:
    thetas, betas = np.array([4.0, 1.0, 2.0]), np.array([0.5, 0.5, 0.8])
    low, high = np.zeros(3), np.full(3, 1e9)
    split = best_split(300_000, thetas, betas, low, high)[0]
    assert split.sum() == pytest.approx(300_000)
    marginal = thetas * betas / REFERENCE * (split / REFERENCE) ** (betas - 1)
    assert marginal == pytest.approx(np.full(3, marginal[0]), rel=1e-3)
    assert split[0] > split[2] > split[1] > 0


def test_allocation_keeps_the_managers_limits() -> None:
    rng = np.random.default_rng(3)
    posts = [posterior(_history(r, seed=i), Prior(1.0, 2.0)) for i, r in enumerate((9.0, 1.0, 1.0, 1.0))]
    limits = Limits(min_share=0.05, max_move=0.1, explore=0.0)
    previous = np.full(4, 100_000.0)
    budgets = allocate(400_000, posts, previous, np.ones(4, bool), limits, rng).budgets
    assert budgets.sum() == pytest.approx(400_000, abs=4)
    assert (budgets >= 0.05 * 400_000 - 1).all()
    assert (np.abs(budgets - previous) <= 0.1 * 400_000 + 1).all()
    assert budgets[0] == pytest.approx(140_000, abs=2)  # the best one grew by the most allowed
    for _ in range(20):  # day after day it keeps moving toward the best, never below the minimum
        budgets = allocate(400_000, posts, budgets, np.ones(4, bool), limits, rng).budgets
    assert budgets[0] == pytest.approx(400_000 * 0.85, rel=0.01) and budgets[1:].min() >= 19_999


def test_inactive_ad_groups_get_nothing_and_capacity_caps_a_group() -> None:
    rng = np.random.default_rng(4)
    posts = [posterior(_history(r, seed=i), Prior(1.0, 2.0)) for i, r in enumerate((9.0, 3.0, 1.0))]
    active = np.array([True, True, False])
    capacity = np.array([50_000.0, np.inf, np.inf])
    limits = Limits(min_share=0.05, max_move=1.0, explore=0.0)
    allocation = allocate(300_000, posts, np.full(3, 100_000.0), active, limits, rng, capacity)
    assert allocation.budgets[2] == 0
    assert allocation.budgets[0] <= 50_000 * 1.25 + 1 and allocation.budgets.sum() == pytest.approx(
        300_000, abs=3
    )


def test_propensities_match_how_often_the_allocator_picks_each_level() -> None:
    posts = [posterior(_history(r, days=3, seed=i), Prior(1.0, 2.0)) for i, r in enumerate((3.0, 2.0, 2.5))]
    limits = Limits(min_share=0.05, max_move=0.5, explore=0.2)
    previous = np.full(3, 100_000.0)
    seen, logged = np.zeros((3, len(LEVEL_EDGES) - 1)), []
    rng = np.random.default_rng(5)
    for _ in range(300):
        allocation = allocate(300_000, posts, previous, np.ones(3, bool), limits, rng)
        seen[np.arange(3), allocation.levels] += 1
        logged.append((allocation.levels, allocation.propensities))
    frequency = seen / 300
    gaps = [np.abs(p - frequency[np.arange(3), levels]) for levels, p in logged]
    assert float(np.mean(gaps)) < 0.04 and float(np.max(gaps)) < 0.15
    assert all((p > 0).all() and (p <= 1).all() for _, p in logged)


def test_levels_and_bounds_are_relative_to_an_even_split() -> None:
    active = np.ones(4, bool)
    assert level_of(np.array([100.0, 100.0, 20.0, 180.0]), active).tolist() == [3, 3, 0, 5]
    low, high = bounds(400.0, np.array([100.0, 100.0, 100.0, 100.0]), active, Limits(0.1, 0.05), None)
    assert low.tolist() == [80.0] * 4 and high.tolist() == [120.0] * 4
    with pytest.raises(ValueError):
        Limits(min_share=1.2)


def test_each_move_is_explained_in_plain_spanish() -> None:
    prior = Prior(1.0, 2.0)
    posts = [posterior(_history(r, seed=i), prior) for i, r in enumerate((20.0, 10.0))]
    found = moves(np.array([100_000.0, 100_000.0]), np.array([140_000.0, 60_000.0]), posts)
    assert [m.delta for m in found] == [40_000, -40_000]
    labels, platforms = ["TikTok · Operativos 18–24", "Meta · Operativos 18–24"], ["TikTok", "Meta"]
    up = explain(found[0], labels, platforms)
    assert up.startswith("TikTok · Operativos 18–24: +$ 40.000/día, CPA $ ")
    assert up.endswith(" en Meta") and "frente a" in up
    assert explain(found[1], labels, platforms).startswith("Meta · Operativos 18–24: −$ 40.000/día")
    cpa_up = found[0].cpa
    assert cpa_up is not None and found[0].other_cpa is not None and cpa_up < found[0].other_cpa
    assert pesos(5100.4) == "$ 5.100"
    assert moves(np.array([100_000.0]), np.array([100_400.0]), posts[:1]) == []
