"""A full metrics sync of 10,000 campaigns x 3 platforms against the sandbox, through Celery.

Issue 25's goal: the scheduled sync of 10,000 campaigns on Meta, Google Ads and TikTok (30,000
platform campaigns, one ad group each) with a 7-day lookback, over HTTP on loopback with real
Celery workers (2 worker processes), finishes in <= 5 minutes on this machine.

Everything runs on 127.0.0.1 and is made and removed by this script:

- a scratch PostgreSQL database (`adflux_h25b_fullsync`, schema by `db.create_all()`) holding
  the campaigns, platform campaigns and ad groups as a publish leaves them (external ids);
- the platform sandbox in its own process, seeded with the same 30,000 campaigns and ad groups
  (simulator units delivering since the campaigns' first day) and a simulated latency per call;
- Celery workers (`celery -A adflux.worker worker -Q sync`), --workers processes, on Redis db
  --redis-db (emptied before and after with FLUSHDB, never FLUSHALL).

Each round, in alternating order:

1. **Measured**: the production path. `metrics_sync.start_sync()` queues the scheduled task (as
   beat does); a worker runs it: account-level reports of up to 100-500 campaigns each, one
   upsert with its rollups per report, the day totals once at the end. Timed from queueing to
   the TaskRun's finish (wall clock).
   In every second round every stored row is first made to differ from what the platforms
   report (`--restate`, default on), so that sync rewrites all of them: the heaviest re-read.
2. **Baseline**: the per-platform-campaign path (one report request and one upsert + commit per
   platform campaign, what the sync did before), in this process, on a fixed random sample of
   --baseline-sample platform campaigns per platform, extrapolated linearly to all 30,000.

Checked by counting rows: metrics_daily == platform campaigns x lookback days after every sync,
unchanged by a second sync (nothing counted twice); the clicks summed over the raw rows equal the
campaign rollups' and the day totals' sums. Load average beside every figure; CPU seconds of the
sandbox, the workers and this process, and the sandbox's request counts, to say what bounds it.

Usage:
    PYTHONPATH=src .venv/bin/python bench/bench_full_sync.py [--campaigns 10000] [--lookback 7]
        [--rounds 2] [--workers 2] [--latency-ms 20] [--baseline-sample 20] [--json]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import subprocess
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import redis
from bench_sets import job_and_campaigns
from full_sync_processes import cpu_seconds, load, start_workers, tree_cpu
from full_sync_sandbox import ALL_PLATFORMS, external_ids, serve_seeded_sandbox, start_sandbox, stop
from sqlalchemy import create_engine, func, insert, select, text
from sync_clock import shift

from adflux.app import create_app
from adflux.extensions import db
from adflux.models import (
    AdGroup,
    CampaignMetricDaily,
    DailyMetricTotal,
    MetricDaily,
    PlatformCampaign,
    TaskRun,
)
from adflux.services import metrics_sync
from adflux.services.platform_access import adapter_for
from adflux.settings import Settings

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DATABASE = os.environ.get("BENCH_FULL_SYNC_DB", "adflux_h25b_fullsync")  # a scratch database
DATABASE_URL = f"postgresql+psycopg://postgres@127.0.0.1:5432/{DATABASE}"


def admin(sql: str) -> None:
    engine = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(sql))
    engine.dispose()


def seed_database(campaigns: int, first_day: date, platforms: list[str]) -> int:
    """Job, campaigns, platform campaigns (as published: external ids) and one ad group each."""
    ids = job_and_campaigns("BENCH-FULL-SYNC", campaigns, first_day)
    pcs = []
    for index, campaign_id in enumerate(ids):
        for platform in platforms:
            external, group = external_ids(platform, index)
            result = {
                "platform": platform,
                "campaign_id": external,
                "ad_groups": {"broad": group},
                "status": "active",
            }
            pcs.append(
                {
                    "campaign_id": campaign_id,
                    "platform": platform,
                    "status": "active",
                    "idempotency_key": f"{campaign_id}-{platform}",
                    "external_campaign_id": external,
                    "external_ids": result,
                    "budget_total": 10_000_000,
                }
            )
    db.session.execute(insert(PlatformCampaign), pcs)
    rows = db.session.execute(select(PlatformCampaign.id, PlatformCampaign.external_ids)).all()
    db.session.execute(
        insert(AdGroup),
        [
            {
                "platform_campaign_id": pc_id,
                "name": "Amplio",
                "budget_daily": 50_000,
                "external_id": ext["ad_groups"]["broad"],
            }
            for pc_id, ext in rows
        ],
    )
    db.session.commit()
    return len(rows)


def counts() -> dict[str, int]:
    """Rows and clicks summed three ways (raw rows, campaign rollups, day totals)."""
    return {
        "metric_rows": db.session.scalar(select(func.count()).select_from(MetricDaily)) or 0,
        "clicks_raw": db.session.scalar(select(func.sum(MetricDaily.clicks))) or 0,
        "clicks_rollup": db.session.scalar(select(func.sum(CampaignMetricDaily.clicks))) or 0,
        "clicks_day_totals": db.session.scalar(select(func.sum(DailyMetricTotal.clicks))) or 0,
        "rollup_rows": db.session.scalar(select(func.count()).select_from(CampaignMetricDaily)) or 0,
    }


def backend_cpu() -> dict[int, float]:
    """CPU seconds of each PostgreSQL backend connected to the bench database (same machine)."""
    pids = db.session.scalars(
        text("SELECT pid FROM pg_stat_activity WHERE datname = :name AND pid <> pg_backend_pid()"),
        {"name": DATABASE},
    ).all()
    db.session.commit()
    found = {}
    for pid in pids:
        with contextlib.suppress(FileNotFoundError, ProcessLookupError, PermissionError):
            found[pid] = cpu_seconds(pid)
    return found


def measured_sync(
    control: httpx.Client, sandbox: subprocess.Popen[bytes], workers: list[Any], platforms: list[str]
) -> dict[str, Any]:
    """The scheduled task through a worker, timed from queueing to the TaskRun's finish."""
    before_requests = control.get("/__sandbox/stats").json()
    cpu = (cpu_seconds(sandbox.pid), tree_cpu(workers))
    backends = backend_cpu()
    started = time.perf_counter()
    run = metrics_sync.start_sync()
    run_id = run.id
    db.session.commit()
    while True:
        db.session.expire_all()
        current = db.session.get(TaskRun, run_id)
        if current is not None and current.status in ("succeeded", "failed"):
            break
        time.sleep(0.2)
    seconds = time.perf_counter() - started
    db_cpu = sum(after - backends.get(pid, 0.0) for pid, after in backend_cpu().items())
    after_requests = control.get("/__sandbox/stats").json()
    return {
        "seconds": seconds,
        "status": current.status,
        "result_rows": (current.result or {}).get("rows"),
        "failed_platforms": (current.result or {}).get("failed_platforms"),
        "error": current.error,
        "sandbox_cpu_s": cpu_seconds(sandbox.pid) - cpu[0],
        "workers_cpu_s": tree_cpu(workers) - cpu[1],
        "postgres_cpu_s": db_cpu,
        "requests": _request_delta(before_requests, after_requests, platforms),
        "load": load(),
    }


def _request_delta(before: dict[str, Any], after: dict[str, Any], platforms: list[str]) -> dict[str, int]:
    def per_platform(stats: dict[str, Any]) -> dict[str, int]:
        requests = stats.get("requests", {})
        return {name: sum(v for k, v in requests.items() if k.startswith(name)) for name in platforms}

    old, new = per_platform(before), per_platform(after)
    return {name: new[name] - old[name] for name in platforms}


def baseline_sync(sample: list[int], until: date, lookback: int, platforms: list[str]) -> dict[str, Any]:
    """The per-platform-campaign path (one report + one upsert + commit each) on the sample."""
    pcs = metrics_sync.campaigns_to_sync(lookback_days=lookback)
    chosen = set(sample)
    targets = [metrics_sync.plan(pc, until=until, lookback=lookback) for pc in pcs if pc.id in chosen]
    db.session.commit()
    cpu = cpu_seconds(os.getpid())
    started = time.perf_counter()
    window: set[date] = set()
    for platform in platforms:
        adapter, _ = adapter_for(platform)
        with adapter:
            for target in (t for t in targets if t.platform == platform):
                rows = metrics_sync.fetch_batch(adapter, [target], until=until, many=False)
                metrics_sync.write_batch([target], rows, until=until, window=window)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "platform_campaigns": len(targets),
        "per_pc_ms": 1000 * seconds / len(targets),
        "process_cpu_s": cpu_seconds(os.getpid()) - cpu,
        "load": load(),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    today = datetime.now(ZoneInfo("America/Bogota")).date()  # the app's local day (Bogotá)
    first_day = today - timedelta(days=args.lookback)
    admin(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    admin(f'CREATE DATABASE "{DATABASE}"')
    broker = f"redis://127.0.0.1:6379/{args.redis_db}"
    redis.Redis.from_url(broker).flushdb()
    logs = Path(tempfile.mkdtemp(prefix="adflux-fullsync-"))
    sandbox, base_url = start_sandbox(args, __file__, first_day, today)
    workers: list[subprocess.Popen[bytes]] = []
    report: dict[str, Any] = {
        "campaigns": args.campaigns,
        "platforms": args.platforms,
        "lookback": args.lookback,
        "rounds": [],
        "latency_ms": args.latency_ms,
        "workers": args.workers,
        "start_load": load(),
    }
    try:
        settings = Settings.from_env(
            {},
            env="testing",
            database_url=DATABASE_URL,
            instance_path=str(logs),
            platform_base_url=base_url,
            celery_broker_url=broker,
            metrics_enabled=False,
            metrics_lookback_days=args.lookback,
        )
        app = create_app(settings)
        with app.app_context():
            db.create_all()
            started = time.perf_counter()
            pcs = seed_database(args.campaigns, first_day, args.platforms)
            report["seed_s"] = time.perf_counter() - started
            report["platform_campaigns"] = pcs
            workers = start_workers(args, DATABASE_URL, base_url, broker, logs)
            ids = db.session.execute(select(PlatformCampaign.id, PlatformCampaign.platform)).all()
            rng = random.Random(7)
            sample = [
                pc
                for name in args.platforms
                for pc in rng.sample([i for i, p in ids if p == name], args.baseline_sample)
            ]
            with httpx.Client(base_url=base_url, timeout=30) as control:
                for index in range(args.rounds + args.forward_rounds):
                    ahead = max(0, index + 1 - args.rounds)  # the clock moves a day per forward round
                    if ahead:
                        for proc in workers:
                            stop(proc)
                        control.post("/__sandbox/clock/advance", json={"days": 1}).raise_for_status()
                        shift(ahead)  # this process's sync (the baseline) moves with it
                        workers = start_workers(args, DATABASE_URL, base_url, broker, logs, ahead)
                    one = one_round(args, index, ahead, control, sandbox, workers, sample, today)
                    base, meas = one["baseline"], one["measured"]
                    base["extrapolated_s"] = base["per_pc_ms"] * pcs / 1000
                    one["ratio"] = base["extrapolated_s"] / meas["seconds"]
                    report["rounds"].append(one)
                    print_round(index, one, pcs, args.lookback + ahead)
            report["final"] = counts()
    finally:
        for proc in workers:
            stop(proc)
        stop(sandbox)
        redis.Redis.from_url(broker).flushdb()
        if not args.keep:
            admin(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    return report


def one_round(
    args: argparse.Namespace,
    index: int,
    ahead: int,
    control: httpx.Client,
    sandbox: subprocess.Popen[bytes],
    workers: list[subprocess.Popen[bytes]],
    sample: list[int],
    today: date,
) -> dict[str, Any]:
    """The scheduled sync and the per-platform-campaign baseline, in this round's order."""
    one: dict[str, Any] = {"days_ahead": ahead}
    order = ("measured", "baseline") if index % 2 == 0 else ("baseline", "measured")
    for step in order:
        if step == "measured":
            if index == 1 and not ahead and args.restate:
                # As if the platforms restated every figure: each row differs from what they
                # report, so the sync rewrites all of them (not timed).
                db.session.execute(text("UPDATE metrics_daily SET clicks = clicks + 1"))
                db.session.commit()
            one["measured"] = measured_sync(control, sandbox, workers, args.platforms)
            one["after_measured"] = counts()
        else:
            until = today + timedelta(days=ahead)
            one["baseline"] = baseline_sync(sample, until, args.lookback, args.platforms)
    return one


def print_round(index: int, one: dict[str, Any], pcs: int, days: int) -> None:
    meas, base, after = one["measured"], one["baseline"], one["after_measured"]
    expected = pcs * days
    order = "measured first" if index % 2 == 0 else "baseline first"
    moved = f", the clock {one['days_ahead']} day(s) ahead" if one["days_ahead"] else ""
    print(f"\nround {index + 1} (order: {order}{moved})")
    print(
        f"  measured: full sync of {pcs:,} platform campaigns through a worker: {meas['seconds']:.1f} s "
        f"({meas['seconds'] / 60:.2f} min), {meas['status']}, {meas['result_rows']:,} rows read "
        f"[{meas['load']}]"
    )
    print(
        f"    sandbox requests {meas['requests']}; CPU s: sandbox {meas['sandbox_cpu_s']:.1f}, "
        f"workers {meas['workers_cpu_s']:.1f}, PostgreSQL backends {meas['postgres_cpu_s']:.1f}"
    )
    print(
        f"  baseline: per platform campaign {base['per_pc_ms']:.1f} ms over {base['platform_campaigns']} "
        f"(this process CPU {base['process_cpu_s']:.1f} s) -> {base['extrapolated_s'] / 60:.1f} min "
        f"for {pcs:,} (extrapolated)  [{base['load']}]"
    )
    print(f"  ratio baseline/measured: {one['ratio']:.1f}x")
    ok = (
        after["metric_rows"] == expected
        and after["clicks_raw"] == after["clicks_rollup"] == after["clicks_day_totals"]
    )
    print(
        f"  counted: {after['metric_rows']:,} metric rows (expected {expected:,}), clicks raw "
        f"{after['clicks_raw']:,} = rollups {after['clicks_rollup']:,} = day totals "
        f"{after['clicks_day_totals']:,}: {'OK' if ok else 'MISMATCH'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--campaigns", type=int, default=10_000)
    parser.add_argument(
        "--lookback", type=int, default=7, help="days (the campaigns started this many days ago)"
    )
    parser.add_argument("--rounds", type=int, default=2, help="rounds on the same days")
    parser.add_argument(
        "--forward-rounds",
        type=int,
        default=2,
        help="then rounds where the clock moves a day first (the sandbox's and the sync's)",
    )
    parser.add_argument(
        "--platforms",
        type=lambda value: [name for name in value.split(",") if name],
        default=list(ALL_PLATFORMS),
        help="comma-separated, of " + ",".join(ALL_PLATFORMS),
    )
    parser.add_argument("--workers", type=int, default=2, help="Celery worker processes on the sync queue")
    parser.add_argument("--latency-ms", type=float, default=20.0, help="sandbox latency per call")
    parser.add_argument("--baseline-sample", type=int, default=20, help="platform campaigns per platform")
    parser.add_argument("--client-limits", default="", help="ADFLUX_SANDBOX_RATE_LIMITS for the workers")
    parser.add_argument("--redis-db", type=int, default=7)
    parser.add_argument(
        "--restate",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="before round 2's sync, make every stored row differ (a full restatement)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--serve-sandbox", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--first-day", type=date.fromisoformat, help=argparse.SUPPRESS)
    parser.add_argument("--today", type=date.fromisoformat, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_sandbox:
        serve_seeded_sandbox(
            args.serve_sandbox, args.platforms, args.campaigns, args.first_day, args.today, args.latency_ms
        )
        return
    print(
        f"full sync bench: {args.campaigns:,} campaigns x {len(args.platforms)} platforms, "
        f"{args.lookback}-day lookback, {args.workers} worker processes, "
        f"sandbox latency {args.latency_ms:g} ms  [{load()}]"
    )
    report = run(args)
    final = report["final"]
    print(f"\nfinal: {final['metric_rows']:,} metric rows, {final['rollup_rows']:,} rollup rows  [{load()}]")
    if args.json:
        print(json.dumps(report, indent=2, default=str))


if __name__ == "__main__":
    main()
