"""bench_publishing's rounds: the sequential baseline in this process and the same campaigns through
Celery workers, alternated with the same faults every round.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import publishing_scratch
import redis
from flask import Flask
from publishing_audit import _faults_seen, audit_platforms
from publishing_scratch import create_campaigns, process_tree_cpu, set_sandbox_limits, stop
from sqlalchemy import func, select, text

from adflux.app import create_app
from adflux.extensions import db
from adflux.models import Campaign, PlatformCampaign
from adflux.services import campaigns as campaigns_service
from adflux.settings import Settings


def run_sequential(
    settings: Settings, job_id: list[int], count: int, control: httpx.Client
) -> dict[str, Any]:
    """Publish `count` campaigns one after another in this process, Celery eager (no workers)."""
    app = create_app(settings.replace(celery_broker_url=None))
    with app.app_context():
        ids = create_campaigns(job_id, count, "Secuencial")
        before_stats = control.get("/__sandbox/stats").json()
        before = before_stats["requests"]
        start = time.perf_counter()
        cpu = time.process_time()
        for campaign_id in ids:
            campaigns_service.publish_campaign(campaign_id=campaign_id)
        elapsed = time.perf_counter() - start
        cpu = time.process_time() - cpu
        after_stats = control.get("/__sandbox/stats").json()
        after = after_stats["requests"]
        faults = control.get("/__sandbox/faults").json()
        db.session.expire_all()
        statuses = Counter(db.session.scalars(select(Campaign.status).where(Campaign.id.in_(ids))).all())
        db.session.remove()
    calls = {name: after.get(name, 0) - before.get(name, 0) for name in publishing_scratch.PLATFORMS}
    return {
        "faults_seen": _faults_seen(before_stats, after_stats),
        "campaigns": count,
        "elapsed_s": elapsed,
        "seconds_per_campaign": elapsed / count,
        "campaigns_per_minute": 60 * count / elapsed,
        "client_cpu_ms_per_platform_campaign": 1000 * cpu / (count * len(publishing_scratch.PLATFORMS)),
        "calls_per_platform_campaign": {name: n / count for name, n in calls.items()},
        "statuses": dict(statuses),
        "sandbox_latency_ms": {name: faults[name]["latency_ms"] for name in publishing_scratch.PLATFORMS},
    }


def start_workers(
    args: argparse.Namespace, base_url: str, broker: str, limits: dict[str, float], logs: Path
) -> tuple[list[subprocess.Popen[bytes]], int]:
    processes = args.workers * (args.concurrency if args.pool == "prefork" else 1)
    # --limiter account: one budget per account shared through Redis by every process (the
    # default); process: each process's own bucket, given its share of the rate.
    share = args.client_share / (processes if args.limiter == "process" else 1)
    client_limits = ",".join(f"{name}={limits[name] * share:.4g}" for name in publishing_scratch.PLATFORMS)
    threads = args.concurrency if args.pool == "threads" else 1
    env = {
        **os.environ,
        "DATABASE_URL": publishing_scratch.DATABASE_URL,
        "CELERY_BROKER_URL": broker,
        "ADFLUX_PLATFORM_BASE_URL": base_url,
        "ADFLUX_SANDBOX_RATE_LIMITS": client_limits,
        "ADFLUX_PLATFORM_RATE_LIMIT_SCOPE": args.limiter,
        "ADFLUX_RATE_LIMIT_REDIS_URL": broker,
        # Each task holds a session connection and an advisory-lock connection.
        "ADFLUX_DATABASE_POOL_SIZE": str(2 * threads + 2),
        "ADFLUX_INSTANCE_PATH": str(logs),
        "ADFLUX_ENV": "development",
        "ADFLUX_METRICS_ENABLED": "false",
        "LOG_LEVEL": "INFO",
    }
    workers = []
    for index in range(args.workers):
        log = logs / f"worker{index}.log"
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "adflux.worker", "worker", "-Q", "publishing",
             "--pool", args.pool, "-c", str(args.concurrency), "-n", f"bench{index}@%h",
             "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "INFO"],
            env=env,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        workers.append(proc)
    deadline = time.monotonic() + 90
    for index, proc in enumerate(workers):
        log = logs / f"worker{index}.log"
        while "ready." not in log.read_text(errors="replace"):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker {index} did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
    return workers, processes


def _publish(app: Flask, campaign_id: int) -> None:
    with app.app_context():
        campaigns_service.publish_campaign(campaign_id=campaign_id)
        db.session.remove()


def run_workers(
    args: argparse.Namespace,
    settings: Settings,
    job_id: list[int],
    control: httpx.Client,
    base_url: str,
    limits: dict[str, float],
    burst: dict[str, float],
    shape: dict[str, dict[str, int]],
    logs: Path,
    deadline: float,
) -> dict[str, Any]:
    broker = f"redis://127.0.0.1:6379/{args.redis_db}"
    broker_client = redis.Redis.from_url(broker)
    broker_client.flushdb()
    app = create_app(settings.replace(celery_broker_url=broker))
    workers: list[subprocess.Popen[bytes]] = []
    try:
        with app.app_context():
            start = time.perf_counter()
            ids = create_campaigns(job_id, args.campaigns, "Lote")
            creation_s = time.perf_counter() - start
            control.post("/__sandbox/reset")  # empty platforms; counters from zero
            forget_media(settings)  # so every image is uploaded again, and counted
            set_sandbox_limits(control, limits, burst, args.latency_ms, fault_knobs(args))
            workers, processes = start_workers(args, base_url, broker, limits, logs)
            cpu_before = sum(process_tree_cpu(w.pid) for w in workers)
            t0_utc = datetime.now(UTC)
            t0 = time.perf_counter()
            # Publish requests arrive from several API threads at once, as from several managers.
            with ThreadPoolExecutor(args.producers) as pool:
                list(pool.map(lambda campaign_id: _publish(app, campaign_id), ids))
            enqueue_s = time.perf_counter() - t0
            total = len(ids) * len(publishing_scratch.PLATFORMS)
            done = 0
            timed_out = False
            while True:
                db.session.expire_all()
                done = db.session.scalar(
                    select(func.count())
                    .select_from(PlatformCampaign)
                    .where(
                        PlatformCampaign.campaign_id.in_(ids),
                        PlatformCampaign.status.in_(("active", "failed")),
                    )
                )
                settled = db.session.scalar(
                    select(func.count())
                    .select_from(Campaign)
                    .where(Campaign.id.in_(ids), Campaign.status.not_in(("publishing", "draft")))
                )
                if done == total and settled == len(ids):
                    break
                if time.monotonic() > deadline:
                    timed_out = True
                    break
                time.sleep(0.25)
            wall_s = time.perf_counter() - t0
            cpu_workers = sum(process_tree_cpu(w.pid) for w in workers) - cpu_before
            stats = control.get("/__sandbox/stats").json()
            faults = control.get("/__sandbox/faults").json()
            # When each platform's last tree went live, from the workers' own timestamps.
            last = dict(
                db.session.execute(
                    select(PlatformCampaign.platform, func.max(PlatformCampaign.published_at))
                    .where(PlatformCampaign.campaign_id.in_(ids))
                    .group_by(PlatformCampaign.platform)
                ).all()
            )
            attempts = dict(
                db.session.execute(
                    select(PlatformCampaign.platform, func.sum(PlatformCampaign.attempts))
                    .where(PlatformCampaign.campaign_id.in_(ids))
                    .group_by(PlatformCampaign.platform)
                ).all()
            )
            audit = audit_platforms(control, ids, shape)
            db.session.remove()
    finally:
        for proc in workers:
            stop(proc)
        broker_client.flushdb()
        broker_client.close()
    finished = [ts for ts in last.values() if ts is not None]
    publish_s = (max(finished) - t0_utc).total_seconds() if finished else wall_s
    usage = {}
    for name in publishing_scratch.PLATFORMS:
        calls = stats["requests"].get(name, 0)
        busy_s = (last[name] - t0_utc).total_seconds() if last.get(name) else wall_s
        usage[name] = {
            "limit_per_s": limits[name],
            "sandbox_burst": burst[name],
            "calls": calls,
            "busy_s": busy_s,
            "calls_per_s_while_busy": calls / busy_s,
            "share_of_limit_while_busy": calls / busy_s / limits[name],
            "share_of_limit_over_run": calls / publish_s / limits[name],
            "throttled": stats["throttled"].get(name, 0),
            "attempts": int(attempts.get(name) or 0),
        }
    return {
        "campaigns": args.campaigns,
        "platform_campaigns": total,
        "workers": args.workers,
        "pool": args.pool,
        "producers": args.producers,
        "concurrency": args.concurrency,
        "worker_processes": processes,
        "client_share_of_limit": args.client_share,
        "limiter": args.limiter,
        "client_limit_per_process": {
            name: limits[name] * args.client_share / (processes if args.limiter == "process" else 1)
            for name in publishing_scratch.PLATFORMS
        },
        "creation_s": creation_s,
        "enqueue_s": enqueue_s,
        "publish_s": publish_s,
        "wall_s": wall_s,
        "timed_out": timed_out,
        "campaigns_per_minute": 60 * args.campaigns / publish_s,
        "platform_campaigns_done": done,
        "worker_cpu_s": cpu_workers,
        "worker_cpu_ms_per_platform_campaign": 1000 * cpu_workers / max(1, done),
        "rate_limits": usage,
        "sandbox_latency_ms": {name: faults[name]["latency_ms"] for name in publishing_scratch.PLATFORMS},
        "faults_seen": _faults_seen({}, stats),
        "duplicates": audit["duplicates"],
        "lost": audit["lost"],
        "audit": audit,
    }


def run_rounds(
    args: argparse.Namespace,
    settings: Settings,
    job_id: list[int],
    control: httpx.Client,
    base_url: str,
    limits: dict[str, float],
    burst: dict[str, float],
    shape: dict[str, dict[str, int]],
    logs: Path,
) -> list[dict[str, Any]]:
    """The baseline and the measured path alternate, with the same faults, every round."""
    rounds = []
    deadline = time.monotonic() + args.time_limit
    for _ in range(args.rounds):
        control.post("/__sandbox/reset")
        forget_media(settings)  # the reset platform no longer has the images uploaded before
        set_sandbox_limits(control, limits, burst, args.latency_ms, fault_knobs(args))
        sequential = run_sequential(settings, job_id, args.baseline, control)
        sequential["extrapolated_minutes_for_all"] = sequential["seconds_per_campaign"] * args.campaigns / 60
        celery = run_workers(args, settings, job_id, control, base_url, limits, burst, shape, logs, deadline)
        speedup = celery["campaigns_per_minute"] / sequential["campaigns_per_minute"]
        rounds.append(
            {
                "sequential": sequential,
                "celery": celery,
                "speedup_vs_sequential": speedup,
                "load_average": os.getloadavg(),
            }
        )
        if time.monotonic() > deadline:
            break
    return rounds


def forget_media(settings: Settings) -> None:
    """Empty media_uploads: after a sandbox reset, every image is uploaded again (and counted)."""
    with create_app(settings).app_context():
        db.session.execute(text("DELETE FROM media_uploads"))
        db.session.commit()
        db.session.remove()


def fault_knobs(args: argparse.Namespace) -> dict[str, float]:
    """The faults every platform gets for the run: a share of transient 5xx answers, and a share of
    writes answered by a dropped connection after they committed (the worst case for duplicates)."""
    return {"error_rate": args.error_rate, "drop_rate": args.drop_rate}
