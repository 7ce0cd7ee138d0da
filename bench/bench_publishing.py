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
import platform as platform_module
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import redis
from flask import Flask
from publishing_media import EXTRA_LIMITS, MEDIA_KINDS, media_audit, media_line, tree_only
from sqlalchemy import create_engine, func, select, text

from adflux.app import create_app
from adflux.extensions import db
from adflux.models import Campaign, PlatformCampaign
from adflux.services import campaigns as campaigns_service
from adflux.services import jobs as jobs_service
from adflux.settings import Settings

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
# ADFLUX_BENCH_DATABASE: another scratch database name, so two people can run it at once.
BENCH_DATABASE = os.environ.get("ADFLUX_BENCH_DATABASE", "adflux_bench_pub")
DATABASE_URL = f"postgresql+psycopg://postgres@127.0.0.1:5432/{BENCH_DATABASE}"
PLATFORMS = ("meta", "google", "tiktok")
DEFAULT_LIMITS = "meta=50,google=20,tiktok=45"


# -- set-up and tear-down ---------------------------------------------------------------------


def recreate_database() -> None:
    """Drop and create the scratch database."""
    engine = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{BENCH_DATABASE}"'))
    engine.dispose()


def drop_database() -> None:
    """Remove the scratch database, whoever is still connected."""
    engine = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)'))
    engine.dispose()


def parse_limits(raw: str) -> dict[str, float]:
    """``meta=50,google=20`` as a dict of calls per second."""
    limits = {}
    for item in raw.split(","):
        name, _, value = item.partition("=")
        limits[name.strip()] = float(value)
    missing = set(PLATFORMS) - set(limits)
    if missing:
        raise SystemExit(f"--limits needs a limit for {', '.join(sorted(missing))}")
    return limits


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_sandbox(latency_ms: float) -> tuple[subprocess.Popen[bytes], str]:
    """The sandbox in its own process, as `adflux sandbox` runs it."""
    port = free_port()
    code = (
        "from adflux.sandbox import serve_sandbox; "
        f"serve_sandbox('127.0.0.1', {port}, latency_ms={latency_ms})"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], start_new_session=True)
    base_url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            httpx.get(f"{base_url}/__sandbox/health", timeout=1)
            return proc, base_url
        except httpx.TransportError:
            time.sleep(0.05)
    proc.terminate()
    raise RuntimeError("the sandbox did not start")


def set_sandbox_limits(
    control: httpx.Client,
    limits: dict[str, float],
    burst: dict[str, float],
    latency_ms: float,
    faults: dict[str, float] | None = None,
) -> None:
    """Rate limits, simulated latency and injected faults (a sandbox reset forgets all three)."""
    knobs: dict[str, float] = {"latency_ms": latency_ms, **(faults or {})}
    control.post("/__sandbox/faults", json=knobs).raise_for_status()
    for name, per_second in limits.items():
        control.post(
            "/__sandbox/rate_limits", json={"platform": name, "per_second": per_second, "burst": burst[name]}
        )


def stop(proc: subprocess.Popen[bytes], timeout: float = 20) -> None:
    """SIGTERM the process group we started, then SIGKILL if it lingers."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def process_tree_cpu(pid: int) -> float:
    """User + system CPU seconds of a process and its live descendants (from /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for task in Path(f"/proc/{current}/task").iterdir():
                children = (task / "children").read_text().split()
                pending.extend(int(child) for child in children)
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
    return total


def machine() -> dict[str, Any]:
    model = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    with create_engine(ADMIN_URL).connect() as conn:
        pg = conn.execute(text("SHOW server_version")).scalar()
    return {
        "cpu": model,
        "cpus": os.cpu_count(),
        "ram_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "system": f"{platform_module.system()} {platform_module.release()}",
        "python": platform_module.python_version(),
        "postgresql": pg,
        "redis": redis.Redis.from_url("redis://127.0.0.1:6379/0").info("server")["redis_version"],
        "load_average_at_start": os.getloadavg(),
    }


# -- data ---------------------------------------------------------------------------------------


def make_job(index: int = 0) -> int:
    """An opening; each index has its own title, so its own ad image."""
    titles = ("Desarrollador Python", "Analista de datos", "Auxiliar de bodega", "Cajero", "Enfermera jefe")
    title = titles[index % len(titles)] + (f" {index // len(titles) + 1}" if index >= len(titles) else "")
    job = jobs_service.create_job(
        data={
            "external_ref": f"BENCH-PUB-{time.time_ns()}",
            "title": title,
            "description": "Backend con Flask, PostgreSQL y Celery.",
            "company": "Acme Colombia S.A.S.",
            "city": "Bogotá",
            "department": "Bogotá D.C.",
            "category": "tecnologia",
            "modality": "hibrido",
            "salary_min": 6_000_000,
            "salary_max": 9_000_000,
            "education_required": "profesional",
            "experience_years_min": 2,
            "apply_url": "https://empleos.example.co/ofertas/1",
        }
    )
    return job.id


def create_campaigns(job_ids: list[int], count: int, label: str) -> list[int]:
    """`count` campaigns spread over the openings (each opening has its own image per platform)."""
    return [
        campaigns_service.create_campaign(
            job_id=job_ids[i % len(job_ids)],
            platforms=list(PLATFORMS),
            budget_total=3_000_000,
            name=f"{label} {i}",
        ).id
        for i in range(count)
    ]


def sandbox_counts(control: httpx.Client) -> dict[str, dict[str, int]]:
    return {
        name: control.get("/__sandbox/objects", params={"platform": name}).json()["counts"]
        for name in PLATFORMS
    }


def tree_shape(control: httpx.Client) -> dict[str, dict[str, int]]:
    """Objects per kind in one campaign tree on each platform (the sandbox holds exactly one)."""
    return sandbox_counts(control)


def audit_platforms(
    control: httpx.Client, campaign_ids: list[int], shape: dict[str, dict[str, int]]
) -> dict[str, Any]:
    """Duplicates and lost publishes, counted at the sandbox and in the database."""
    rows = db.session.execute(
        select(
            PlatformCampaign.platform, PlatformCampaign.status, PlatformCampaign.external_campaign_id
        ).where(PlatformCampaign.campaign_id.in_(campaign_ids))
    ).all()
    result: dict[str, Any] = {"duplicates": 0, "lost": 0, "platforms": {}}
    openings = len(set(db.session.scalars(select(Campaign.job_id).where(Campaign.id.in_(campaign_ids)))))
    for name in PLATFORMS:
        mine = [r for r in rows if r.platform == name]
        listing = control.get("/__sandbox/objects", params={"platform": name}).json()
        counts: dict[str, int] = listing["counts"]
        expected = {kind: per_tree * len(mine) for kind, per_tree in tree_only(shape)[name].items()}
        extra = sum(max(0, counts.get(kind, 0) - want) for kind, want in expected.items())
        extra += sum(
            n for kind, n in counts.items() if kind not in expected and kind not in MEDIA_KINDS[name]
        )
        names = Counter(
            (obj["kind"], obj["name"].split("]", 1)[0]) for obj in listing["objects"] if obj.get("name")
        )
        same_name = sum(n - 1 for n in names.values() if n > 1)
        at_platform = {obj["id"] for obj in listing["objects"] if obj["kind"] == "campaign"}
        not_active = sum(1 for r in mine if r.status != "active")
        missing = sum(1 for r in mine if r.status == "active" and r.external_campaign_id not in at_platform)
        duplicates = max(extra, same_name)
        result["duplicates"] += duplicates
        result["lost"] += not_active + missing
        result["platforms"][name] = {
            "platform_campaigns": len(mine),
            "objects": counts,
            "expected": expected,
            "duplicates": duplicates,
            "not_active": not_active,
            "active_but_missing_at_platform": missing,
            "media": media_audit(name, counts, openings),
        }
    statuses = Counter(db.session.scalars(select(Campaign.status).where(Campaign.id.in_(campaign_ids))).all())
    result["campaign_statuses"] = dict(statuses)
    return result


# -- 1. the simple approach ---------------------------------------------------------------------


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
    calls = {name: after.get(name, 0) - before.get(name, 0) for name in PLATFORMS}
    return {
        "faults_seen": _faults_seen(before_stats, after_stats),
        "campaigns": count,
        "elapsed_s": elapsed,
        "seconds_per_campaign": elapsed / count,
        "campaigns_per_minute": 60 * count / elapsed,
        "client_cpu_ms_per_platform_campaign": 1000 * cpu / (count * len(PLATFORMS)),
        "calls_per_platform_campaign": {name: n / count for name, n in calls.items()},
        "statuses": dict(statuses),
        "sandbox_latency_ms": {name: faults[name]["latency_ms"] for name in PLATFORMS},
    }


def _faults_seen(before: dict[str, Any], after: dict[str, Any]) -> dict[str, int]:
    """Injected 5xx answers and connections dropped after a commit, between two /stats reads."""
    return {
        kind: sum(after.get(kind, {}).values()) - sum(before.get(kind, {}).values())
        for kind in ("injected_errors", "dropped")
    }


# -- 2. through Celery workers --------------------------------------------------------------------


def start_workers(
    args: argparse.Namespace, base_url: str, broker: str, limits: dict[str, float], logs: Path
) -> tuple[list[subprocess.Popen[bytes]], int]:
    processes = args.workers * (args.concurrency if args.pool == "prefork" else 1)
    # --limiter account: one budget per account shared through Redis by every process (the
    # default); process: each process's own bucket, given its share of the rate.
    share = args.client_share / (processes if args.limiter == "process" else 1)
    client_limits = ",".join(f"{name}={limits[name] * share:.4g}" for name in PLATFORMS)
    threads = args.concurrency if args.pool == "threads" else 1
    env = {
        **os.environ,
        "DATABASE_URL": DATABASE_URL,
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
            total = len(ids) * len(PLATFORMS)
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
    for name in PLATFORMS:
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
            for name in PLATFORMS
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
        "sandbox_latency_ms": {name: faults[name]["latency_ms"] for name in PLATFORMS},
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


# -- main ---------------------------------------------------------------------------------------


def _configure(args: argparse.Namespace) -> None:
    """The scratch database and the platforms from the command line (module-wide settings)."""
    global BENCH_DATABASE, DATABASE_URL, PLATFORMS
    BENCH_DATABASE = args.database
    DATABASE_URL = f"postgresql+psycopg://postgres@127.0.0.1:5432/{BENCH_DATABASE}"
    PLATFORMS = tuple(name.strip() for name in args.platforms.split(",") if name.strip())
    given = {item.partition("=")[0].strip() for item in args.limits.split(",")}
    extra = [
        f"{name}={EXTRA_LIMITS[name]:g}" for name in PLATFORMS if name not in given and name in EXTRA_LIMITS
    ]
    args.limits = ",".join([args.limits, *extra])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--campaigns", type=int, default=1000)
    parser.add_argument("--baseline", type=int, default=20, help="campaigns published sequentially")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (celery worker commands)")
    parser.add_argument("--pool", choices=("threads", "prefork"), default="threads")
    parser.add_argument("--concurrency", type=int, default=16, help="threads (or processes) per worker")
    parser.add_argument("--producers", type=int, default=4, help="threads calling publish_campaign")
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--limits", default=DEFAULT_LIMITS, help="sandbox calls/s per platform")
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
    parser.add_argument("--database", default=BENCH_DATABASE, help="scratch PostgreSQL database (dropped)")
    parser.add_argument(
        "--platforms", default=",".join(PLATFORMS), help="platforms each campaign publishes on"
    )
    parser.add_argument("--jobs", type=int, default=5, help="openings (one ad image each per platform)")
    parser.add_argument("--quick", action="store_true", help="a sanity run in well under a minute")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.campaigns, args.baseline, args.rounds = 30, 2, 1
        args.time_limit = min(args.time_limit, 120.0)
    _configure(args)
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
            database_url=DATABASE_URL,
            platform_base_url=base_url,
            instance_path=str(logs),
            sandbox_rate_limits=",".join(f"{name}={limits[name]:g}" for name in PLATFORMS),
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
