"""Publishing benchmark: 1,000 campaigns x 3 platforms through real Celery workers on Redis.

Everything runs on 127.0.0.1 and is created and removed by this script:

- a scratch PostgreSQL database (`adflux_bench_pub`, schema by `db.create_all()`),
- Redis database 14 of the local server (flushed before and after),
- the platform sandbox in its own process (so it does not share anyone's GIL) with a simulated
  latency on every call (default 50 ms) and a rate limit per platform,
- Celery workers (`celery -A adflux.worker worker -Q publishing`) as subprocesses, whose sandbox
  accounts get a client-side limit (ADFLUX_SANDBOX_RATE_LIMITS) of --client-share of each
  platform's limit: with `--limiter account` (the default) one budget per account shared by every
  worker through Redis; with `--limiter process` each process's own bucket at its share of it.

Then, in one run:

1. The simple approach: publish a small sample of campaigns one after another in this process
   without Celery (`task_always_eager`, the embedded default), same sandbox, full client-side
   limit; extrapolated linearly to all campaigns.
2. All campaigns through the workers: create them as drafts (not timed), then `publish_campaign`
   for each (3 tasks on the `publishing` queue) while the workers drain the queue. Reported:
   campaigns per minute, the share of each platform's limit used, throttles, duplicates (objects
   at the sandbox beyond one tree per platform campaign) and lost publishes (platform campaigns
   not active at the end, or active without their campaign at the platform). Both must be 0.

The run stops by itself after --time-limit seconds (workers and sandbox are terminated).

Usage:
    .venv/bin/python bench/bench_publishing.py [--quick] [--campaigns 1000] [--baseline 20]
        [--workers 2] [--pool threads] [--concurrency 16] [--latency-ms 50]
        [--limits meta=50,google=20,tiktok=45] [--error-rate 0.02] [--drop-rate 0.01]
        [--rounds 2] [--limiter account|process] [--client-share 0.9] [--time-limit 900] [--json]

Faults are injected in every round, for the baseline and the workers alike: a share of the calls
answered with the platform's transient 5xx (`--error-rate`) and a share of the writes answered by
a dropped connection after they committed (`--drop-rate`, the sandbox's drop-after-commit at
random), the case that makes duplicates when a client retries blindly.
The audit must still find 0 duplicates and 0 lost.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import publishing_scratch
from publishing_audit import tree_shape
from publishing_media import media_line
from publishing_runs import run_rounds
from publishing_scratch import (
    create_campaigns,
    drop_database,
    machine,
    make_job,
    parse_limits,
    recreate_database,
    set_sandbox_limits,
    start_sandbox,
    stop,
)

from adflux.app import create_app
from adflux.extensions import db
from adflux.services import campaigns as campaigns_service
from adflux.settings import Settings

# -- main ---------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--campaigns", type=int, default=1000)
    parser.add_argument("--baseline", type=int, default=20, help="campaigns published sequentially")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (celery worker commands)")
    parser.add_argument("--pool", choices=("threads", "prefork"), default="threads")
    parser.add_argument("--concurrency", type=int, default=16, help="threads (or processes) per worker")
    parser.add_argument("--producers", type=int, default=4, help="threads calling publish_campaign")
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument(
        "--limits", default=publishing_scratch.DEFAULT_LIMITS, help="sandbox calls/s per platform"
    )
    parser.add_argument(
        "--client-share",
        type=float,
        default=0.9,
        help="client-side limit as a share of the platform's (split across worker processes)",
    )
    parser.add_argument(
        "--limiter", choices=("account", "process"), default="account",
        help="client rate limit: one budget per account shared by the workers, or one per process",
    )  # fmt: skip
    parser.add_argument("--time-limit", type=float, default=1800.0, help="seconds; the run stops by itself")
    parser.add_argument("--error-rate", type=float, default=0.02, help="share of calls answered 5xx")
    parser.add_argument(
        "--drop-rate", type=float, default=0.01, help="share of writes committed, then cut off"
    )
    parser.add_argument("--rounds", type=int, default=2, help="baseline and workers, alternated")
    parser.add_argument("--redis-db", type=int, default=14)
    parser.add_argument(
        "--database", default=publishing_scratch.BENCH_DATABASE, help="scratch PostgreSQL database (dropped)"
    )
    parser.add_argument(
        "--platforms",
        default=",".join(publishing_scratch.PLATFORMS),
        help="platforms each campaign publishes on",
    )
    parser.add_argument("--jobs", type=int, default=5, help="openings (one ad image each per platform)")
    parser.add_argument("--quick", action="store_true", help="a sanity run in well under a minute")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.campaigns, args.baseline, args.rounds = 30, 2, 1
        args.time_limit = min(args.time_limit, 120.0)
    publishing_scratch.configure(args)
    limits = parse_limits(args.limits)
    # The platform lets a short burst through (0.2 s of calls, at least one per worker process).
    processes = args.workers * (args.concurrency if args.pool == "prefork" else 1)
    burst = {name: max(float(processes), round(limit / 5)) for name, limit in limits.items()}

    # Clean up (workers, sandbox, scratch database, Redis db) whatever stops us, even from `nohup &`.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    signal.signal(signal.SIGINT, signal.default_int_handler)
    started = time.monotonic()
    info = machine()
    recreate_database()
    sandbox, base_url = start_sandbox(args.latency_ms)
    control = httpx.Client(base_url=base_url, timeout=30)
    logs = Path(tempfile.mkdtemp(prefix="adflux-bench-pub-"))
    report: dict[str, Any] = {"machine": info, "latency_ms": args.latency_ms, "limits": limits}
    try:
        settings = Settings.from_env(
            {},
            env="testing",
            database_url=publishing_scratch.DATABASE_URL,
            platform_base_url=base_url,
            instance_path=str(logs),
            sandbox_rate_limits=",".join(f"{name}={limits[name]:g}" for name in publishing_scratch.PLATFORMS),
            metrics_enabled=False,
        )
        setup = create_app(settings)
        with setup.app_context():
            db.create_all()
            job_id = [make_job(index) for index in range(args.jobs)]
            # One tree per platform, to learn the shape of a tree (objects per kind).
            set_sandbox_limits(control, limits, burst, args.latency_ms)
            probe = create_campaigns(job_id, 1, "Forma")
            db.session.remove()
        eager = create_app(settings)
        with eager.app_context():
            campaigns_service.publish_campaign(campaign_id=probe[0])
            db.session.remove()
        shape = tree_shape(control)
        report["tree_shape"] = shape
        report["rounds"] = run_rounds(args, settings, job_id, control, base_url, limits, burst, shape, logs)
    finally:
        control.close()
        stop(sandbox)
        drop_database()
    report["machine"]["load_average_at_end"] = os.getloadavg()
    report["total_s"] = time.monotonic() - started
    report["worker_logs"] = str(logs)
    if args.json:
        print(json.dumps(report, indent=2, default=str))
    else:
        print_report(report)
    if any(r["celery"]["duplicates"] or r["celery"]["lost"] for r in report["rounds"]):
        sys.exit(1)


def print_report(report: dict[str, Any]) -> None:
    m = report["machine"]
    load = f"{m['load_average_at_start'][0]:.1f} at start, {m['load_average_at_end'][0]:.1f} at end"
    print(
        f"machine: {m['cpu']}, {m['cpus']} CPUs, {m['ram_gib']} GiB, {m['system']}, Python {m['python']}, "
        f"PostgreSQL {m['postgresql']}, Redis {m['redis']}; load average {load}"
    )
    print(f"sandbox: {report['latency_ms']:g} ms per call; limits {report['limits']} calls/s")
    for number, one in enumerate(report["rounds"], 1):
        print(
            f"\n== round {number}: speed-up vs sequential {one['speedup_vs_sequential']:.1f}x "
            f"(load average {one['load_average'][0]:.1f})"
        )
        _print_sequential(one["sequential"], one["celery"]["campaigns"])
        _print_celery(one["celery"])
    ratios = sorted(one["speedup_vs_sequential"] for one in report["rounds"])
    print(f"\nspeed-up vs sequential per round: {[round(r, 1) for r in ratios]}")
    print(f"total run {report['total_s']:.0f} s")


def _print_sequential(seq: dict[str, Any], all_campaigns: int) -> None:
    print(
        f"sequential, one process, no Celery: {seq['campaigns']} campaigns in {seq['elapsed_s']:.1f} s = "
        f"{seq['campaigns_per_minute']:.1f} campaigns/min ({seq['seconds_per_campaign']:.2f} s each; "
        f"client CPU {seq['client_cpu_ms_per_platform_campaign']:.1f} ms per platform campaign); "
        f"extrapolated to {all_campaigns}: {seq['extrapolated_minutes_for_all']:.1f} min"
    )
    print(f"  calls per platform campaign: {seq['calls_per_platform_campaign']}; statuses {seq['statuses']}")
    print(f"  faults met: {seq['faults_seen']}; sandbox latency {seq['sandbox_latency_ms']} ms")


def _print_celery(cel: dict[str, Any]) -> None:
    print(
        f"Celery: {cel['workers']} worker(s) x {cel['pool']} -c {cel['concurrency']} "
        f"({cel['worker_processes']} process(es)); client limit {100 * cel['client_share_of_limit']:.0f}% "
        f"of the platform's, per process {cel['client_limit_per_process']}"
    )
    print(
        f"  {cel['campaigns']} campaigns ({cel['platform_campaigns_done']}/{cel['platform_campaigns']} "
        f"platform campaigns) in {cel['publish_s']:.1f} s = {cel['campaigns_per_minute']:.0f} campaigns/min "
        f"(enqueueing from {cel['producers']} threads took {cel['enqueue_s']:.1f} s; "
        f"creating the drafts {cel['creation_s']:.1f} s, untimed)"
        + (" -- TIMED OUT" if cel["timed_out"] else "")
    )
    print(f"  faults met: {cel['faults_seen']}; sandbox latency {cel['sandbox_latency_ms']} ms")
    cpu = cel["worker_cpu_ms_per_platform_campaign"]
    print(f"  worker CPU {cel['worker_cpu_s']:.1f} s = {cpu:.1f} ms per platform campaign")
    for name, use in cel["rate_limits"].items():
        print(
            f"  {name:<7} limit {use['limit_per_s']:g}/s (burst {use['sandbox_burst']:g}): "
            f"{use['calls']} calls, {use['calls_per_s_while_busy']:.1f}/s while busy ({use['busy_s']:.1f} s) "
            f"= {100 * use['share_of_limit_while_busy']:.1f}% of the limit "
            f"({100 * use['share_of_limit_over_run']:.1f}% over the whole run); "
            f"{use['throttled']} throttled; {use['attempts']} attempts"
        )
    statuses = cel["audit"]["campaign_statuses"]
    print(f"  duplicates {cel['duplicates']}, lost {cel['lost']} (counted at the sandbox)")
    print(media_line(cel["audit"]))
    print(f"  campaign statuses {statuses}")


if __name__ == "__main__":
    main()
