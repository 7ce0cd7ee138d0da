"""Optimisation benchmark: rules, lag and pacing on simulated campaigns whose truth is known.

50 simulated campaigns (2-3 platforms x 2 audience profiles each, a job category, a 30-day flight,
a fixed total budget and a target CPA) run through the sandbox's market under a scenario file
(`adflux.sandbox.market`, the same response the sandbox's reports come from), directly on the
engine (`adflux.optimization`), no HTTP. In the same run, on the same random draws (each ad
group-day's draws are seeded by seed, ad group and day, so policies differ only by their budgets):

1. **today**: the budget split once by fixed (even) weights, total/days a day, capped at the total;
   no rules.
2. **pacing**: even pacing re-planned daily (engine `plan_pacing`), fixed split.
3. **lag-aware rules**: pacing + stop-loss, revive and scale-winners templates on the
   lag-corrected CPA interval (paused ad groups' budget goes to the others through pacing).
4. **raw-CPA rules**: the same rules on the CPA as reported that day.

Applications are counted matured (every one the days will ever be credited with). The lag
distribution the rules use is estimated from history alone (a previous month of the same
campaigns, one snapshot) — the engine never reads the scenario. An ad group is "good" when its
noise-free matured CPA at its even daily budget (from the scenario: the truth) is under the target.

5. **allocator**: pacing + the budget allocator (Thompson sampling on response curves, priors
   pooled from a previous month of history; `bench/optimisation_allocator.py`).
6. **oracle**: pacing + the split that maximises the scenario's noise-free applications (knows
   the truth; no minimum share, no limit on moves).

"Even split" in the allocation figures is **pacing** (equal spend to the allocator's).

Usage:
    .venv/bin/python bench/bench_optimisation.py --scenario bench/scenarios/long_lag.json --seed 1
        [--scenario ...] [--campaigns 50] [--days 30] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
from optimisation_allocator import fly_allocator, fly_split, history_priors, oracle_split

from adflux.optimization.allocation import Limits
from adflux.optimization.lag import estimate_lag_cdf
from adflux.optimization.pacing import plan_pacing
from adflux.optimization.rules import Panel, Rule, decide, evaluate
from adflux.optimization.templates import template
from adflux.sandbox.market import Delivery, GroupTraits, deliver, expected_cpa
from adflux.sandbox.scenario import DEFAULT_PATH, PROFILES, Scenario, load_scenario
from adflux.sandbox.simulator import platform_category

START = date(2026, 3, 2)  # a Monday
POLICIES = ("today", "pacing", "lag_aware", "raw_cpa", "allocator", "oracle")
LIMITS = [Limits()]


@dataclass
class SimCampaign:
    """A simulated campaign: its ad groups' traits, total budget, flight and target CPA."""

    key: str
    groups: list[GroupTraits]
    total: int
    target_cpa: float
    good: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))


def build_campaigns(scenario: Scenario, seed: int, count: int, days: int) -> list[SimCampaign]:
    """``count`` campaigns drawn deterministically from ``seed``."""
    rng = random.Random(seed)
    categories = sorted({c for fits in scenario.profile_fit.values() for c in fits})
    campaigns = []
    for number in range(count):
        category = rng.choice(categories)
        platforms = rng.sample(list(scenario.platforms), rng.choice((2, 3)))
        profiles = rng.sample([p for p in PROFILES if p != "amplio"], 2)
        groups = [
            GroupTraits(
                key=f"c{number}-{platform}-{profile}",
                platform=platform,
                profile=profile,
                category=category,
                fit=scenario.profile_fit[profile].get(category, 1.0),
                platform_fit=platform_category(platform, category, scenario, seed),
            )
            for platform in platforms
            for profile in profiles
        ]
        daily = rng.choice((40_000, 60_000, 80_000, 120_000)) * len(groups)
        truth = np.array([expected_cpa(scenario, seed, g, START, daily / len(groups)) for g in groups])
        target = float(np.median(truth[np.isfinite(truth)]) * 1.1) if np.isfinite(truth).any() else 1e9
        campaigns.append(SimCampaign(f"c{number}", groups, daily * days, target, truth < target))
    return campaigns


def _panel(history: list[list[Delivery]], today: int, extras: dict[str, np.ndarray]) -> Panel:
    """Entities x days arrays of what had been reported by the start of day ``today``."""
    cols = [[d for d in group] for group in history]
    spend = np.array([[d.spend for d in row] for row in cols], float)
    metric = {
        name: np.array([[getattr(d, name) for d in row] for row in cols], float)
        for name in ("impressions", "clicks", "reach")
    }
    apps = np.array([[d.reported(today - j) for j, d in enumerate(row)] for row in cols], float)
    ages = np.arange(today, 0, -1)
    return Panel(spend, metric["impressions"], metric["clicks"], metric["reach"], apps, ages, extras)


@dataclass
class Outcome:
    """One campaign under one policy."""

    spend: float = 0.0
    applications: int = 0
    paused: set[int] = field(default_factory=set)
    revived: set[int] = field(default_factory=set)
    rows: int = 0


CONFIDENCE = [0.8]


def _rules(policy: str, target: float) -> list[Rule]:
    if policy not in ("lag_aware", "raw_cpa"):
        return []
    mode = "lag_aware" if policy == "lag_aware" else "raw"
    names = ("stop_loss", "revive", "scale_winners")
    return [template(name, target, cpa_mode=mode, confidence=CONFIDENCE[0]) for name in names]


def _apply_rules(
    rules: list[Rule], panel: Panel, cdf: np.ndarray, state: dict[str, Any], out: Outcome
) -> None:
    for rule in rules:
        evaluation = evaluate(rule, panel, cdf)
        budgets = np.round(state["weights"] * 1000).astype(int)
        for decision in decide(
            rule, evaluation, active=state["active"], budgets=budgets, days_since_action=state["since"]
        ):
            i = decision.entity
            if decision.kind == "pause" and state["active"].sum() > 1:
                state["active"][i] = False
                out.paused.add(i)
            elif decision.kind == "resume":
                state["active"][i] = True
                out.revived.add(i)
            elif decision.kind == "budget":
                state["weights"][i] *= decision.budget_after / max(1, decision.budget_before)
            state["since"][i] = 0


def run_campaign(
    scenario: Scenario, seed: int, campaign: SimCampaign, policy: str, days: int, cdf: np.ndarray
) -> Outcome:
    """Fly one campaign for ``days`` under ``policy``."""
    n = len(campaign.groups)
    state = {"weights": np.ones(n), "active": np.ones(n, bool), "since": np.full(n, 100)}
    history: list[list[Delivery]] = [[] for _ in range(n)]
    rules, out, budgets_given = _rules(policy, campaign.target_cpa), Outcome(), []
    for today in range(days):
        day = START + timedelta(days=today)
        if policy == "today":
            daily = min(campaign.total / days, campaign.total - out.spend)
        else:
            recent = sum(d.spend for row in history for d in row[-3:])
            ratio = recent / sum(budgets_given[-3:]) if budgets_given else 1.0
            plan = plan_pacing(
                total_budget=campaign.total,
                spent=round(out.spend),
                start=START,
                end=START + timedelta(days=days - 1),
                today=day,
                delivery_ratio=ratio,
            )
            daily = plan.daily_budget
        if rules and today >= 1:
            _apply_rules(rules, _panel(history, today, {}), cdf, state, out)
        weights = state["weights"] * state["active"]
        shares = weights / weights.sum()
        budgets_given.append(daily)
        for i, group in enumerate(campaign.groups):
            delivery = deliver(scenario, seed, group, day, daily * shares[i])
            history[i].append(delivery)
            out.spend += delivery.spend
            out.applications += delivery.applications
            out.rows += 1
        state["since"] += 1
    return out


def lag_from_history(scenario: Scenario, seed: int, campaigns: list[SimCampaign], days: int) -> np.ndarray:
    """The lag CDF as AdFlux would estimate it: a previous month's snapshot of the same campaigns."""
    spend, apps, ages = [], [], []
    for campaign in campaigns:
        for group in campaign.groups:
            warm = GroupTraits(**{**group.__dict__, "key": "history-" + group.key})
            for offset in range(days):
                day = START - timedelta(days=days - offset)
                delivery = deliver(scenario, seed, warm, day, campaign.total / days / len(campaign.groups))
                spend.append(delivery.spend)
                apps.append(delivery.reported(days - offset))
                ages.append(days - offset)
    return estimate_lag_cdf(np.array(spend), np.array(apps), np.array(ages), horizon=min(21, days - 1))


def _fly(
    scenario: Scenario,
    seed: int,
    campaigns: list[SimCampaign],
    policy: str,
    days: int,
    cdf: np.ndarray,
    priors: dict,
) -> list[Any]:
    if policy == "allocator":
        return [
            fly_allocator(scenario, seed, i, c, days, START, cdf, priors, LIMITS[0])
            for i, c in enumerate(campaigns)
        ]
    if policy == "oracle":
        return [
            fly_split(
                scenario, seed, c, days, START, lambda d, p, c=c: oracle_split(scenario, seed, c.groups, d, p)
            )
            for c in campaigns
        ]
    return [run_campaign(scenario, seed, c, policy, days, cdf) for c in campaigns]


def run(scenario: Scenario, seed: int, count: int, days: int) -> dict[str, Any]:
    """Every policy on every campaign; the figures the README reports."""
    campaigns = build_campaigns(scenario, seed, count, days)
    cdf = lag_from_history(scenario, seed, campaigns, days)
    results: dict[str, Any] = {"scenario": scenario.name, "seed": seed, "campaigns": count, "days": days}
    results["lag_cdf_estimated"] = [round(float(x), 3) for x in cdf[1:9]]
    results["lag_cdf_true"] = [round(x, 3) for x in scenario.lag_cdf[:8]]
    priors = history_priors(scenario, seed, campaigns, days)
    flights: dict[str, list[Any]] = {}
    for policy in POLICIES:
        began = time.perf_counter()
        outcomes = flights[policy] = _fly(scenario, seed, campaigns, policy, days, cdf, priors)
        landing = np.array([o.spend / c.total for o, c in zip(outcomes, campaigns, strict=True)])
        spend = sum(o.spend for o in outcomes)
        applications = sum(o.applications for o in outcomes)
        results[policy] = {
            "spend": round(spend),
            "budget": sum(c.total for c in campaigns),
            "applications": applications,
            "applications_per_million": round(applications / spend * 1e6, 2),
            "landing_min": round(float(landing.min()), 4),
            "landing_max": round(float(landing.max()), 4),
            "within_5pct": int((np.abs(landing - 1) <= 0.05).sum()),
            "paused": sum(len(o.paused) for o in outcomes),
            "paused_good": sum(
                int(c.good[list(o.paused)].sum()) for o, c in zip(outcomes, campaigns, strict=True)
            ),
            "revived": sum(len(o.revived) for o in outcomes),
            "rows": sum(o.rows for o in outcomes),
            "expected_rows": sum(len(c.groups) for c in campaigns) * days,
            "seconds": round(time.perf_counter() - began, 2),
        }
    results["good_groups"] = int(sum(c.good.sum() for c in campaigns))
    results["groups"] = sum(len(c.groups) for c in campaigns)
    per_peso = {policy: results[policy]["applications_per_million"] for policy in POLICIES}
    results["allocation"] = {
        "vs_even_split": round(per_peso["allocator"] / per_peso["pacing"], 3),
        "vs_today": round(per_peso["allocator"] / per_peso["today"], 3),
        "vs_rules": round(per_peso["allocator"] / per_peso["lag_aware"], 3),
        "vs_oracle": round(per_peso["allocator"] / per_peso["oracle"], 3),
        "oracle_vs_even_split": round(per_peso["oracle"] / per_peso["pacing"], 3),
    }
    return results


def report(results: dict[str, Any]) -> str:
    """A markdown table of one scenario's run."""
    base = results["today"]
    lines = [
        f"### {results['scenario']} (seed {results['seed']}, load average {os.getloadavg()[0]:.2f})",
        f"lag CDF estimated {results['lag_cdf_estimated']} vs true {results['lag_cdf_true']}; "
        f"{results['good_groups']} of {results['groups']} ad groups good (truth)",
        "",
        "| policy | spend / budget | campaigns within ±5 % | landing min–max | applications | apps per "
        "$1M | vs today (per peso) | paused (good) | revived | rows |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for policy in POLICIES:
        r = results[policy]
        ratio = r["applications_per_million"] / base["applications_per_million"]
        lines.append(
            f"| {policy} | {r['spend'] / r['budget']:.3f} | {r['within_5pct']}/{results['campaigns']} | "
            f"{r['landing_min']:.3f}–{r['landing_max']:.3f} | {r['applications']:,} | "
            f"{r['applications_per_million']} | {ratio:.3f}× | {r['paused']} ({r['paused_good']}) | "
            f"{r['revived']} | {r['rows']}/{r['expected_rows']} |"
        )
    lag, raw = results["lag_aware"]["paused_good"], results["raw_cpa"]["paused_good"]
    fewer = 1 - lag / raw if raw else float("nan")
    lines.append(f"\nGood ad groups paused: lag-aware {lag} vs raw-CPA {raw} → {fewer:.0%} fewer.")
    a = results["allocation"]
    lines.append(
        f"Allocator (apps per peso, same run): {a['vs_even_split']}× even split (pacing), "
        f"{a['vs_today']}× today, {a['vs_rules']}× lag-aware rules, {a['vs_oracle']:.1%} of the oracle "
        f"(oracle {a['oracle_vs_even_split']}× even split)."
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", action="append", help="scenario file (repeatable)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--campaigns", type=int, default=50)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--confidence", type=float, default=0.8, help="of the lag-aware CPA interval")
    parser.add_argument("--min-share", type=float, default=Limits().min_share, help="allocator limit")
    parser.add_argument("--max-move", type=float, default=Limits().max_move, help="allocator limit")
    parser.add_argument("--explore", type=float, default=Limits().explore, help="allocator exploration")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    CONFIDENCE[0] = args.confidence
    LIMITS[0] = Limits(args.min_share, args.max_move, args.explore)
    for path in args.scenario or [str(DEFAULT_PATH)]:
        try:
            scenario = load_scenario(path)
        except ValueError as error:
            sys.exit(f"error: {error}")
        results = run(scenario, args.seed, args.campaigns, args.days)
        for policy in POLICIES:
            if results[policy]["rows"] != results[policy]["expected_rows"]:
                sys.exit(
                    f"error: {policy} simulated {results[policy]['rows']} ad group-days, not "
                    f"{results[policy]['expected_rows']}"
                )
        print(json.dumps(results) if args.json else report(results), flush=True)


if __name__ == "__main__":
    main()
