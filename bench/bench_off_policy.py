"""Off-policy evaluation benchmark: do the estimates' intervals contain what the policy really buys?

For each scenario and seed: 50 simulated campaigns (as in bench_optimisation.py) fly 30 days under
the allocator, which logs every ad group-day with its share level and propensity. From that log
alone (plus curves learned from it), the product's estimator (`adflux.optimization.off_policy.
compare_splits`, the one the policy comparison page uses) makes IPS and doubly robust estimates with
a 95 % campaign-bootstrap interval for three fixed-split target policies the allocator never ran:

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

from adflux.optimization.allocation import Limits
from adflux.optimization.allocation_model import GroupHistory, posterior, prior_for
from adflux.optimization.off_policy import CampaignLog, compare_splits, frozen_shares
from adflux.sandbox.scenario import DEFAULT_PATH, Scenario, load_scenario

TARGETS = ("even", "manager", "frozen")


def campaign_log(scenario_priors: dict, campaign: SimCampaign, flight: Flight) -> CampaignLog:
    """The flight's log and each ad group's response curve learned from it (matured applications)."""
    curves = []
    for i, group in enumerate(campaign.groups):
        rows = [r for r in flight.log if r.group == i]
        history = GroupHistory(
            np.array([r.budget for r in rows]),
            np.array([r.applications for r in rows], float),
            np.ones(len(rows)),
        )
        curves.append(posterior(history, prior_for(key_of(group), scenario_priors)))
    return CampaignLog(
        np.array([r.group for r in flight.log], np.int64),
        np.array([r.day for r in flight.log], np.int64),
        np.array([r.budget for r in flight.log], float),
        np.array([r.share_level for r in flight.log], np.int64),
        np.array([r.propensity for r in flight.log], float),
        np.array([r.applications for r in flight.log], float),
        curves,
    )


def target_shares(campaign: SimCampaign, log: CampaignLog, name: str) -> np.ndarray:
    """Each ad group's fixed share under the target policy."""
    n = len(campaign.groups)
    if name == "even":
        return np.full(n, 1 / n)
    if name == "manager":
        first = campaign.groups[0].platform
        weights = np.array([2.0 if g.platform == first else 1.0 for g in campaign.groups])
        return weights / weights.sum()
    return frozen_shares(log)


def evaluate_run(scenario: Scenario, seed: int, count: int, days: int) -> list[dict[str, Any]]:
    """Log with the allocator, estimate each target policy (the product's estimator), then fly it."""
    campaigns = build_campaigns(scenario, seed, count, days)
    cdf = lag_from_history(scenario, seed, campaigns, days)
    priors = history_priors(scenario, seed, campaigns, days)
    flights = [
        fly_allocator(scenario, seed, i, c, days, START, cdf, priors, Limits())
        for i, c in enumerate(campaigns)
    ]
    logs = [campaign_log(priors, c, f) for c, f in zip(campaigns, flights, strict=True)]
    shares = {
        name: [target_shares(c, log, name) for c, log in zip(campaigns, logs, strict=True)]
        for name in TARGETS
    }
    result = compare_splits(logs, shares, seed=seed)
    expected = sum(len(c.groups) for c in campaigns) * days
    if result.entries != expected or result.campaigns != count:
        sys.exit(f"error: the log holds {result.entries} ad group-days, not {expected}")
    rows = []
    for estimate in result.policies:
        realised = sum(
            fly_split(scenario, seed, campaign, days, START, lambda _d, pool, s=s: s * pool).applications
            for campaign, s in zip(campaigns, shares[estimate.policy], strict=True)
        )
        rows.append(
            {
                "scenario": scenario.name,
                "seed": seed,
                "policy": estimate.policy,
                "logged": round(result.logged.value),
                "realised": realised,
                "rows": result.entries,
                **{
                    e.method: {
                        "value": round(e.value),
                        "low": round(e.low or 0),
                        "high": round(e.high or 0),
                        "contains": e.contains(realised),
                        "matched": e.matched,
                        "effective_size": round(e.effective_size),
                    }
                    for e in (estimate.ips, estimate.dr)
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
