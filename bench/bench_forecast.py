"""Forecast benchmark: interval coverage and CPA error on campaigns the model never saw.

A portal history of simulated campaigns (default 800) is flown through the sandbox's market under
a scenario: each with a job category, a city (a hidden city effect multiplies its audiences' fit
by 0.6–1.4), 1–3 platforms, 1–3 audience profiles, a daily budget of 20.000–150.000 COP per ad
group split evenly, and a 7–45-day flight. Three quarters train the forecast
(`adflux.optimization.forecast`, which holds back a quarter of those to conformalise its
interval); the last quarter — campaigns not used to train — is where coverage of the 80 %
interval (goal: 75–85 %) and the CPA error (MAPE) are measured, beside the per-category average
CPA baseline. Row check: every campaign's ad group-days are counted.

Usage:
    .venv/bin/python bench/bench_forecast.py --scenario bench/scenarios/default.json --seed 1 \
        [--seed 2 ...] [--campaigns 800] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from datetime import date, timedelta
from typing import Any

from adflux.optimization.forecast import PlannedCampaign, category_baseline_mape, evaluate, train
from adflux.sandbox.market import GroupTraits, deliver
from adflux.sandbox.scenario import DEFAULT_PATH, PROFILES, Scenario, load_scenario
from adflux.sandbox.simulator import platform_category

CITIES = ("Bogotá", "Medellín", "Cali", "Barranquilla", "Bucaramanga", "Pereira", "Cartagena", "Manizales")
START = date(2025, 1, 6)


def history(
    scenario: Scenario, seed: int, count: int
) -> tuple[list[PlannedCampaign], list[float], list[float], int]:
    """``count`` finished campaigns: plans, matured applications, spend, and ad group-days flown."""
    rng = random.Random(seed)
    city_effect = {c: 0.6 + 0.8 * random.Random(f"{seed}-{c}").random() for c in CITIES}
    categories = sorted({c for fits in scenario.profile_fit.values() for c in fits})
    plans, apps, spends, rows = [], [], [], 0
    for number in range(count):
        category, city = rng.choice(categories), rng.choice(CITIES)
        platforms = tuple(rng.sample(list(scenario.platforms), rng.choice((1, 2, 3))))
        profiles = rng.sample([p for p in PROFILES if p != "amplio"], rng.choice((1, 2, 3)))
        per_group, days = rng.choice(range(20_000, 150_001, 10_000)), rng.randint(7, 45)
        start = START + timedelta(days=rng.randint(0, 300))
        total_apps, total_spend = 0, 0.0
        for platform in platforms:
            for profile in profiles:
                traits = GroupTraits(
                    key=f"h{number}-{platform}-{profile}",
                    platform=platform,
                    profile=profile,
                    category=category,
                    fit=scenario.profile_fit[profile].get(category, 1.0) * city_effect[city],
                    platform_fit=platform_category(platform, category, scenario, seed),
                )
                for offset in range(days):
                    delivery = deliver(scenario, seed, traits, start + timedelta(days=offset), per_group)
                    total_apps += delivery.applications
                    total_spend += delivery.spend
                    rows += 1
        budget = per_group * len(platforms) * len(profiles) * days
        plans.append(PlannedCampaign(category, city, platforms, len(profiles), budget, days))
        apps.append(float(total_apps))
        spends.append(total_spend)
    return plans, apps, spends, rows


def run(scenario: Scenario, seed: int, count: int) -> dict[str, Any]:
    """Train on three quarters, measure on the rest."""
    began = time.perf_counter()
    plans, apps, spends, rows = history(scenario, seed, count)
    cut = int(count * 0.75)
    model = train(plans[:cut], apps[:cut], seed=seed)
    trained = time.perf_counter()
    scores = evaluate(model, plans[cut:], apps[cut:], spends[cut:])
    baseline = category_baseline_mape(
        plans[:cut], apps[:cut], spends[:cut], plans[cut:], apps[cut:], spends[cut:]
    )
    return {
        "scenario": scenario.name,
        "seed": seed,
        "campaigns": count,
        "trained_on": cut,
        "held_out": count - cut,
        "ad_group_days": rows,
        "coverage": round(scores["coverage"], 3),
        "mape_cpa": round(scores["mape_cpa"], 3),
        "baseline_mape_cpa": round(baseline, 3),
        "margin": round(model.margin, 3),
        "seconds_history": round(trained - began, 1),
        "seconds_total": round(time.perf_counter() - began, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", action="append", help="scenario file (repeatable)")
    parser.add_argument("--seed", type=int, action="append", help="seed (repeatable)")
    parser.add_argument("--campaigns", type=int, default=800)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f}\n")
    print("| scenario | seed | trained on | held out | coverage of 80 % interval | CPA MAPE | "
          "per-category baseline MAPE | ad group-days |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    for path in args.scenario or [str(DEFAULT_PATH)]:
        try:
            scenario = load_scenario(path)
        except ValueError as error:
            sys.exit(f"error: {error}")
        for seed in args.seed or [1]:
            r = run(scenario, seed, args.campaigns)
            if args.json:
                print(json.dumps(r), flush=True)
                continue
            print(
                f"| {r['scenario']} | {r['seed']} | {r['trained_on']} | {r['held_out']} | "
                f"{r['coverage']:.1%} | {r['mape_cpa']:.1%} | {r['baseline_mape_cpa']:.1%} | "
                f"{r['ad_group_days']:,} |",
                flush=True,
            )
    print(f"\nload average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
