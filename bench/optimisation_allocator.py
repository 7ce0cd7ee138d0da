"""The allocator and the oracle flying simulated campaigns (used by bench_optimisation.py).

The allocator sees only what AdFlux would: each ad group's spend and applications as reported so
far (young days thinned by the lag estimated from history) and priors pooled from the portal's
history (a previous month of campaigns of the same job categories, other ad groups' hidden
quality). The oracle knows the scenario: each day it splits the same pool to maximise the
noise-free matured applications the scenario's curves promise (greedy on a fine budget grid, which
is optimal for concave curves), with no minimum share and no limit on moves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from adflux.optimization.allocation import Limits, allocate
from adflux.optimization.allocation_model import GroupHistory, PoolKey, Prior, pool_priors, posteriors
from adflux.optimization.pacing import plan_pacing
from adflux.sandbox.market import Delivery, GroupTraits, deliver, expected_rates, impressions_for
from adflux.sandbox.scenario import Scenario

ORACLE_STEPS = 120


@dataclass
class LoggedDay:
    """One ad group-day as the allocator logged it (what off-policy evaluation reads)."""

    campaign: int
    group: int
    day: int
    budget: float
    share_level: int
    propensity: float
    applications: int  # matured


@dataclass
class Flight:
    """One campaign's flight under one policy."""

    spend: float = 0.0
    applications: int = 0
    rows: int = 0
    log: list[LoggedDay] = field(default_factory=list)
    paused: set[int] = field(default_factory=set)  # allocation never pauses (same shape as rules')
    revived: set[int] = field(default_factory=set)


def key_of(group: GroupTraits) -> PoolKey:
    """The pool an ad group's prior comes from (the bench's campaigns have no city)."""
    return PoolKey(group.platform, group.profile, group.category)


def history_priors(scenario: Scenario, seed: int, campaigns: list, days: int) -> dict[PoolKey, Prior]:
    """Priors pooled from a previous month of the same categories (other ad groups, even split)."""
    histories: dict[PoolKey, list[GroupHistory]] = {}
    start = campaigns[0].start if hasattr(campaigns[0], "start") else date(2026, 3, 2)
    for campaign in campaigns:
        budget = campaign.total / days / len(campaign.groups)
        for group in campaign.groups:
            warm = GroupTraits(**{**group.__dict__, "key": "history-" + group.key})
            rows = [
                deliver(scenario, seed, warm, start - timedelta(days=days - o), budget) for o in range(days)
            ]
            spend = np.array([d.spend for d in rows])
            apps = np.array([d.applications for d in rows], float)
            histories.setdefault(key_of(group), []).append(GroupHistory(spend, apps, np.ones(days)))
    return pool_priors(histories)


def _histories(rows: list[list[Delivery]], today: int, cdf: np.ndarray) -> list[GroupHistory]:
    out = []
    for row in rows:
        ages = np.arange(today, today - len(row), -1)
        spend = np.array([d.spend for d in row])
        apps = np.array([d.reported(today - j) for j, d in enumerate(row)], float)
        out.append(GroupHistory(spend, apps, cdf[np.minimum(ages, len(cdf) - 1)]))
    return out


def _pool(campaign, spent: float, today: int, days: int, start: date, ratio: float) -> float:
    plan = plan_pacing(
        total_budget=campaign.total,
        spent=round(spent),
        start=start,
        end=start + timedelta(days=days - 1),
        today=start + timedelta(days=today),
        delivery_ratio=ratio,
    )
    return float(plan.daily_budget)


def _ratio(rows: list[list[Delivery]], given: list[float]) -> float:
    recent = sum(d.spend for row in rows for d in row[-3:])
    return recent / sum(given[-3:]) if given else 1.0


def _capacity(rows: list[list[Delivery]], budgets: list[np.ndarray]) -> np.ndarray | None:
    """Recent spend of ad groups that could not spend their budget (others: no cap)."""
    if len(budgets) < 2:
        return None
    spend = np.array([[d.spend for d in row[-2:]] for row in rows])
    given = np.stack(budgets[-2:], axis=1)
    short = (spend.sum(axis=1) < 0.85 * given.sum(axis=1)) & (given.sum(axis=1) > 0)
    return np.where(short, spend.max(axis=1), np.inf)


def fly_allocator(
    scenario: Scenario,
    seed: int,
    number: int,
    campaign,
    days: int,
    start: date,
    cdf: np.ndarray,
    priors: dict[PoolKey, Prior],
    limits: Limits,
) -> Flight:
    """One campaign under the allocator, logging every ad group-day with its propensity."""
    n = len(campaign.groups)
    rng = np.random.default_rng([seed, number, 20])
    keys = [key_of(g) for g in campaign.groups]
    rows: list[list[Delivery]] = [[] for _ in range(n)]
    out, given, budgets_log = Flight(), [], []
    previous = np.full(n, 1.0)
    for today in range(days):
        pool = _pool(campaign, out.spend, today, days, start, _ratio(rows, given))
        posts = posteriors(_histories(rows, today, cdf), keys, priors)
        allocation = allocate(
            pool, posts, previous, np.ones(n, bool), limits, rng, _capacity(rows, budgets_log)
        )
        given.append(pool)
        budgets_log.append(allocation.budgets)
        for i, group in enumerate(campaign.groups):
            delivery = deliver(scenario, seed, group, start + timedelta(days=today), allocation.budgets[i])
            rows[i].append(delivery)
            out.spend += delivery.spend
            out.applications += delivery.applications
            out.rows += 1
            out.log.append(
                LoggedDay(
                    number,
                    i,
                    today,
                    float(allocation.budgets[i]),
                    int(allocation.levels[i]),
                    float(allocation.propensities[i]),
                    delivery.applications,
                )
            )
        previous = allocation.budgets
    return out


_CURVES: dict[tuple, float] = {}


def _expected(scenario: Scenario, seed: int, group: GroupTraits, weekday: float, budget: float) -> float:
    key = (id(scenario), seed, group.key, weekday, budget)
    if key in _CURVES:
        return _CURVES[key]
    day = date(2026, 3, 2) + timedelta(days=scenario.weekday.index(weekday))
    bought, _cost = impressions_for(scenario, group, day, budget * 0.96)
    _reach, ctr, cvr = expected_rates(scenario, seed, group, day, bought)
    _CURVES[key] = bought * ctr * cvr
    return _CURVES[key]


def oracle_split(
    scenario: Scenario, seed: int, groups: list[GroupTraits], day: date, pool: float
) -> np.ndarray:
    """The split of ``pool`` that maximises the scenario's noise-free matured applications."""
    step = pool / ORACLE_STEPS
    weekday = scenario.weekday[day.weekday()]
    budgets = np.zeros(len(groups))
    now = np.zeros(len(groups))
    for _ in range(ORACLE_STEPS):
        gains = [
            _expected(scenario, seed, g, weekday, round(b + step)) - now[i]
            for i, (g, b) in enumerate(zip(groups, budgets, strict=True))
        ]
        best = int(np.argmax(gains))
        budgets[best] += step
        now[best] += gains[best]
    return budgets


def fly_split(scenario: Scenario, seed: int, campaign, days: int, start: date, shares_of) -> Flight:
    """One campaign paced daily, split by ``shares_of(day, pool)`` (pesos per ad group)."""
    n = len(campaign.groups)
    rows: list[list[Delivery]] = [[] for _ in range(n)]
    out, given = Flight(), []
    for today in range(days):
        day = start + timedelta(days=today)
        pool = _pool(campaign, out.spend, today, days, start, _ratio(rows, given))
        given.append(pool)
        for i, (group, budget) in enumerate(zip(campaign.groups, shares_of(day, pool), strict=True)):
            delivery = deliver(scenario, seed, group, day, float(budget))
            rows[i].append(delivery)
            out.spend += delivery.spend
            out.applications += delivery.applications
            out.rows += 1
    return out
