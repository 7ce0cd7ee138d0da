"""Off-policy evaluation benchmark: do the estimates' intervals contain what the policy really buys?

For each scenario and seed: 50 simulated campaigns (as in bench_optimisation.py) fly 30 days under
the allocator, which logs every ad group-day with its share level and propensity. From that log
alone (plus curves learned from it), IPS and doubly robust estimates with a 95 % campaign-bootstrap
interval are made for three fixed-split target policies the allocator never ran:

- **even**: the budget split evenly (today's behaviour);
- **manager**: the first platform's ad groups weighted 2, the others 1 (a manager's hunch);
- **frozen**: each ad group's mean share over the allocator's last 7 days, fixed for the flight.

Then each target policy really flies the same campaigns on the same draws (paced, same total
budget), and its matured applications are the realised result the interval should contain. Row
check: the log must hold campaigns × ad groups × days entries.

Usage:
    .venv/bin/python bench/bench_off_policy.py --scenario bench/scenarios/default.json --seed 1 \
        [--seed 2 ...] [--campaigns 50] [--days 30] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

import numpy as np
from bench_optimisation import START, SimCampaign, build_campaigns, lag_from_history
from optimisation_allocator import Flight, fly_allocator, fly_split, history_priors, key_of

from adflux.optimization.allocation import Limits, level_of
from adflux.optimization.allocation_model import GroupHistory, posterior, prior_for
from adflux.optimization.off_policy import LoggedData, evaluate_policy
from adflux.sandbox.scenario import DEFAULT_PATH, Scenario, load_scenario

TARGETS = ("even", "manager", "frozen")


def target_shares(campaign: SimCampaign, flight: Flight, name: str, days: int) -> np.ndarray:
    """Each ad group's fixed share under the target policy."""
    n = len(campaign.groups)
    if name == "even":
        return np.full(n, 1 / n)
    if name == "manager":
        first = campaign.groups[0].platform
        weights = np.array([2.0 if g.platform == first else 1.0 for g in campaign.groups])
        return weights / weights.sum()
    budgets = np.zeros((days, n))
    for row in flight.log:
        budgets[row.day, row.group] = row.budget
    shares = budgets[-7:] / budgets[-7:].sum(axis=1, keepdims=True)
    return shares.mean(axis=0)


def _curves(scenario_priors: dict, campaign: SimCampaign, flight: Flight, days: int) -> list:
    """Each ad group's response curve learned from the flight's own log (matured applications)."""
    out = []
    for i, group in enumerate(campaign.groups):
        rows = [r for r in flight.log if r.group == i]
        history = GroupHistory(
            np.array([r.budget for r in rows]),
            np.array([r.applications for r in rows], float),
            np.ones(len(rows)),
        )
        out.append(posterior(history, prior_for(key_of(group), scenario_priors)))
    return out


def _target_arrays(
    flights: list[Flight], shares: list[np.ndarray], curves: list[list], days: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per logged ad group-day: the target's level, the curve at the logged and at the target budget."""
    level, at_logged, at_target = [], [], []
    for c, flight in enumerate(flights):
        pools = np.zeros(days)
        for r in flight.log:
            pools[r.day] += r.budget
        levels = [level_of(shares[c] * pools[day], np.ones(len(shares[c]), bool)) for day in range(days)]
        for r in flight.log:
            curve = curves[c][r.group]
            level.append(levels[r.day][r.group])
            at_logged.append(float(curve.expected(r.budget)[0]))
            at_target.append(float(curve.expected(shares[c][r.group] * pools[r.day])[0]))
    return np.array(level), np.array(at_logged), np.array(at_target)


def evaluate_run(scenario: Scenario, seed: int, count: int, days: int) -> list[dict[str, Any]]:
    """Log with the allocator, estimate each target policy, then fly it for real."""
    campaigns = build_campaigns(scenario, seed, count, days)
    cdf = lag_from_history(scenario, seed, campaigns, days)
    priors = history_priors(scenario, seed, campaigns, days)
    flights = [
        fly_allocator(scenario, seed, i, c, days, START, cdf, priors, Limits())
        for i, c in enumerate(campaigns)
    ]
    log = [row for flight in flights for row in flight.log]
    expected = sum(len(c.groups) for c in campaigns) * days
    if len(log) != expected:
        sys.exit(f"error: the log holds {len(log)} ad group-days, not {expected}")
    data = LoggedData(
        np.array([r.campaign for r in log]),
        np.array([r.share_level for r in log]),
        np.array([r.propensity for r in log]),
        np.array([r.budget for r in log]),
        np.array([r.applications for r in log], float),
    )
    curves = [_curves(priors, c, f, days) for c, f in zip(campaigns, flights, strict=True)]
    logged_total = int(data.applications.sum())
    rows = []
    for name in TARGETS:
        shares = [target_shares(c, f, name, days) for c, f in zip(campaigns, flights, strict=True)]
        target_level, predicted_logged, predicted_target = _target_arrays(flights, shares, curves, days)
        estimates = evaluate_policy(data, target_level, predicted_logged, predicted_target, seed=seed)
        realised = sum(
            fly_split(scenario, seed, campaign, days, START, lambda _d, pool, s=s: s * pool).applications
            for campaign, s in zip(campaigns, shares, strict=True)
        )
        rows.append(
            {
                "scenario": scenario.name,
                "seed": seed,
                "policy": name,
                "logged": logged_total,
                "realised": realised,
                "rows": len(log),
                **{
                    m: {
                        "value": round(e.value),
                        "low": round(e.low),
                        "high": round(e.high),
                        "contains": e.contains(realised),
                        "matched": e.matched,
                        "effective_size": round(e.effective_size),
                    }
                    for m, e in estimates.items()
                },
            }
        )
    return rows


def report(rows: list[dict[str, Any]]) -> str:
    """A markdown table and the coverage."""
    lines = [
        f"load average {os.getloadavg()[0]:.2f}",
        "",
        "| scenario | seed | policy | allocator (logged) | realised | IPS [95 %] | DR [95 %] | matched days "
        "| ESS |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        ips, dr = r["ips"], r["dr"]
        lines.append(
            f"| {r['scenario']} | {r['seed']} | {r['policy']} | {r['logged']:,} | {r['realised']:,} | "
            f"{ips['value']:,} [{ips['low']:,}–{ips['high']:,}] {'✓' if ips['contains'] else '✗'} | "
            f"{dr['value']:,} [{dr['low']:,}–{dr['high']:,}] {'✓' if dr['contains'] else '✗'} | "
            f"{ips['matched']}/{r['rows']} | {ips['effective_size']} |"
        )
    for method in ("ips", "dr"):
        hits = sum(r[method]["contains"] for r in rows)
        lines.append(f"\n{method.upper()}: interval contains the realised result in {hits}/{len(rows)} runs.")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", action="append", help="scenario file (repeatable)")
    parser.add_argument("--seed", type=int, action="append", help="seed (repeatable)")
    parser.add_argument("--campaigns", type=int, default=50)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = []
    for path in args.scenario or [str(DEFAULT_PATH)]:
        try:
            scenario = load_scenario(path)
        except ValueError as error:
            sys.exit(f"error: {error}")
        for seed in args.seed or [1]:
            rows.extend(evaluate_run(scenario, seed, args.campaigns, args.days))
            print(json.dumps(rows[-3:]) if args.json else report(rows[-3:]), flush=True)
    if not args.json and len(rows) > 3:
        print("\nAll runs:\n" + report(rows))


if __name__ == "__main__":
    main()
