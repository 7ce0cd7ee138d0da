"""bench_feeds part 4 (--campaigns): new openings in the feed become campaigns published by Celery
workers to the sandbox with rate limits; then a filled opening is paused on every platform.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from feeds_scratch import DATABASE_URL, load_average, make_app
from sqlalchemy import func, select, text


def client_limits(limits: dict[str, float], share: float, limiter: str, processes: int = 2) -> str:
    """The workers' ADFLUX_SANDBOX_RATE_LIMITS: `share` of each platform's limit, for the whole
    account (shared through Redis) or split between the publishing processes (each its own)."""
    split = processes if limiter == "process" else 1
    return ",".join(f"{name}={limit * share / split:.4g}" for name, limit in limits.items())


def start_workers(
    broker: str,
    base_url: str,
    limits: dict[str, float],
    logs: Path,
    *,
    split: bool = False,
    limiter: str = "account",
    share: float = 0.9,
) -> list[subprocess.Popen[bytes]]:
    """Two worker processes on both queues; with `split`, two on publishing and a third on
    automation, so creating campaigns never holds the publishing threads' interpreter lock."""
    processes, threads = 2, 16
    queues = ["publishing", "publishing", "automation"] if split else ["automation,publishing"] * 2
    client = client_limits(limits, share, limiter, processes)
    env = {
        **os.environ, "DATABASE_URL": DATABASE_URL, "CELERY_BROKER_URL": broker,
        "ADFLUX_PLATFORM_BASE_URL": base_url, "ADFLUX_SANDBOX_RATE_LIMITS": client,
        "ADFLUX_PLATFORM_RATE_LIMIT_SCOPE": limiter, "ADFLUX_RATE_LIMIT_REDIS_URL": broker,
        "ADFLUX_DATABASE_POOL_SIZE": str(2 * threads + 2), "ADFLUX_INSTANCE_PATH": str(logs),
        "ADFLUX_ENV": "development", "ADFLUX_METRICS_ENABLED": "false", "LOG_LEVEL": "INFO",
    }  # fmt: skip
    workers = []
    for index, queue in enumerate(queues):
        log = logs / f"worker{index}.log"
        workers.append(subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "adflux.worker", "worker", "-Q", queue,
             "--pool", "threads", "-c", str(threads), "-n", f"feeds{index}@%h",
             "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "INFO"],
            env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
        ))  # fmt: skip
    deadline = time.monotonic() + 90
    for index, proc in enumerate(workers):
        while "ready." not in (logs / f"worker{index}.log").read_text(errors="replace"):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker {index} did not start")
            time.sleep(0.2)
    return workers


def _settled(ids_query: Any, total: int, deadline: float) -> bool:
    from adflux.extensions import db
    from adflux.models import Campaign

    while time.monotonic() < deadline:
        db.session.expire_all()
        done = db.session.scalar(
            select(func.count()).select_from(Campaign).where(
                Campaign.id.in_(ids_query), Campaign.status.not_in(("draft", "publishing"))
            )
        )  # fmt: skip
        if done >= total:
            return True
        time.sleep(0.25)
    return False


def campaigns_rounds(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    """--campaign-rounds rounds, each publishing --campaigns new openings once per limiter in
    --limiters (the order alternated round by round); the same-run ratio of campaigns/min."""
    modes = args.limiters.split(",")
    rounds: list[dict[str, Any]] = []
    for index in range(args.campaign_rounds):
        order = modes if index % 2 == 0 else modes[::-1]
        result = {}
        for mode in order:
            run = campaigns_part(args, folder, limiter=mode, round_no=len(rounds) * len(modes) + len(result))
            result[mode] = run
            shares = {name: usage["share_of_limit"] for name, usage in run["platforms"].items()}
            print(f"round {index + 1} {mode}: {run['campaigns_per_minute']} campaigns/min, share of limit"
                  f" {shares}, duplicates {run['duplicates']}, lost {run['lost']},"
                  f" load {run['load_average']}", flush=True)  # fmt: skip
        if len(modes) == 2:
            first, second = (result[mode]["campaigns_per_minute"] for mode in modes)
            result["ratio"] = round(second / first, 3) if first else None
        rounds.append(result)
    return {"limiters": modes, "client_share": args.client_share, "rounds": rounds}


def campaigns_part(
    args: argparse.Namespace, folder: Path, *, limiter: str = "account", round_no: int = 0
) -> dict[str, Any]:
    sys.path.insert(0, str(Path(__file__).parent))
    import httpx
    import redis
    from publishing_audit import audit_platforms
    from publishing_scratch import PLATFORMS, set_sandbox_limits, start_sandbox, stop

    from adflux.extensions import db
    from adflux.models import Campaign, JobOpening
    from adflux.services.feeds import registry
    from adflux.services.playbooks import registry as playbooks
    from adflux.simulation.jobs import generate_jobs
    from adflux.simulation.portal_feed import PortalFeedServer, render_xml

    limits = dict(item.split("=") for item in args.limits.split(","))
    limits_f = {k: float(v) for k, v in limits.items()}
    burst = {name: max(2.0, round(limit / 5)) for name, limit in limits_f.items()}
    broker = f"redis://127.0.0.1:6379/{args.redis_db}"
    redis.Redis.from_url(broker).flushdb()
    sandbox, base_url = start_sandbox(args.latency_ms)
    control = httpx.Client(base_url=base_url, timeout=30)
    rates = client_limits(limits_f, args.client_share, limiter)
    app = make_app(
        folder, celery_broker_url=broker, platform_base_url=base_url, sandbox_rate_limits=rates,
        platform_rate_limit_scope=limiter, rate_limit_redis_url=broker,
    )  # fmt: skip
    workers: list[subprocess.Popen[bytes]] = []
    report: dict[str, Any] = {
        "campaigns": args.campaigns, "limits": limits_f, "latency_ms": args.latency_ms,
        "split_queues": args.split_queues, "limiter": limiter, "client_limits": rates,
        "load_average_start": load_average(),
    }  # fmt: skip
    try:
        with app.app_context():
            if round_no == 0:
                playbooks.create_playbook(
                    data={"name": "Todas", "platforms": list(PLATFORMS), "budget_total": 600_000}
                )
            workers = start_workers(
                broker, base_url, limits_f, folder, split=args.split_queues, limiter=limiter,
                share=args.client_share,
            )  # fmt: skip
            set_sandbox_limits(control, limits_f, burst, args.latency_ms)
            first = 50_000_000 + round_no * 10_000_000  # each round's openings are new
            server = PortalFeedServer(render_xml(generate_jobs(1, seed=77, start=first)))
            feed = registry.create_feed(
                data={"name": f"Nuevas {round_no}", "location": server.url, "max_shrink": 1.0}
            )
            from adflux.services.feeds.runs import run_feed

            followed = (
                select(Campaign.id)
                .join(JobOpening, JobOpening.id == Campaign.job_id)
                .where(JobOpening.feed_id == feed.id, Campaign.playbook_id.is_not(None))
            )
            shape = learn_shape(feed.id, followed, control)
            set_sandbox_limits(control, limits_f, burst, args.latency_ms)

            jobs = generate_jobs(args.campaigns, seed=77, start=first + 1_000_000)
            server.publish(render_xml(jobs))
            t0 = time.perf_counter()
            from datetime import UTC, datetime

            t0_utc = datetime.now(UTC)
            run = run_feed(feed_id=feed.id)
            ok = _settled(followed, args.campaigns, time.monotonic() + args.time_limit)
            wall = time.perf_counter() - t0
            ids = list(db.session.scalars(followed))
            usage = platform_usage(ids, PLATFORMS, control, limits_f, t0_utc, wall)
            audit = audit_platforms(control, ids, shape)
            report.update(
                feed_run_new=run.new, settled=ok, campaigns_made=len(ids), wall_s=round(wall, 1),
                campaigns_per_minute=round(60 * len(ids) / wall, 1), platforms=usage,
                duplicates=audit["duplicates"], lost=audit["lost"], statuses=audit["campaign_statuses"],
            )  # fmt: skip
            report["closure"] = closure(feed.id, jobs, server, control)
            report["load_average"] = load_average()
            server.stop()
            # A new sandbox numbers its objects from the same start: the next round must not find
            # this round's ids already linked to campaigns.
            db.session.execute(Campaign.__table__.delete().where(Campaign.id.in_(followed)))
            db.session.commit()
    finally:
        for proc in workers:
            stop(proc)
        stop(sandbox)
        redis.Redis.from_url(broker).flushdb()
    return report


def learn_shape(feed_id: int, followed: Any, control: Any) -> dict[str, dict[str, int]]:
    """Publish the feed's one opening to learn one tree's objects per platform, then forget it."""
    sys.path.insert(0, str(Path(__file__).parent))
    from publishing_audit import tree_shape

    from adflux.extensions import db
    from adflux.models import Campaign
    from adflux.services.feeds.runs import run_feed

    run_feed(feed_id=feed_id)
    _settled(followed, 1, time.monotonic() + 120)
    shape = tree_shape(control)
    control.post("/__sandbox/reset")
    # The reset forgets the probe's images too: so must AdFlux's record of them, or an opening whose
    # image equals the probe's reuses a media id the platform no longer has (TikTok 40002).
    db.session.execute(text("DELETE FROM media_uploads"))
    db.session.execute(Campaign.__table__.delete().where(Campaign.id.in_(followed)))
    db.session.commit()
    return shape


def platform_usage(
    ids: list[int],
    platforms: tuple[str, ...],
    control: Any,
    limits: dict[str, float],
    t0_utc: Any,
    wall: float,
) -> dict[str, Any]:
    """Calls each platform took while busy (until its last tree went live), as a share of its limit."""
    from adflux.extensions import db
    from adflux.models import PlatformCampaign

    last = dict(db.session.execute(
        select(PlatformCampaign.platform, func.max(PlatformCampaign.published_at))
        .where(PlatformCampaign.campaign_id.in_(ids)).group_by(PlatformCampaign.platform)
    ).all())  # fmt: skip
    stats = control.get("/__sandbox/stats").json()
    usage = {}
    for name in platforms:
        busy = (last[name] - t0_utc).total_seconds() if last.get(name) else wall
        calls = stats["requests"].get(name, 0)
        share = round(calls / busy / limits[name], 3)
        usage[name] = {"calls": calls, "busy_s": round(busy, 1), "share_of_limit": share,
                       "throttled": stats["throttled"].get(name, 0)}  # fmt: skip
    return usage


def closure(feed_id: int, jobs: list[dict[str, Any]], server: Any, control: Any) -> dict[str, Any]:
    """Fill one opening in the feed: seconds from the feed run until paused on every platform."""
    from adflux.extensions import db
    from adflux.models import Campaign, JobOpening
    from adflux.services.feeds.runs import run_feed
    from adflux.simulation.portal_feed import render_xml

    filled = jobs[len(jobs) // 2]
    server.publish(render_xml([{**job, "feed_status": "filled"} if job is filled else job for job in jobs]))
    t0 = time.perf_counter()
    run = run_feed(feed_id=feed_id)
    run_s = time.perf_counter() - t0
    job_id = db.session.scalar(select(JobOpening.id).where(JobOpening.external_ref == filled["external_ref"]))
    while time.perf_counter() - t0 < 300:
        db.session.expire_all()
        campaign = db.session.scalar(select(Campaign).where(Campaign.job_id == job_id))
        if campaign is not None and campaign.status == "paused":
            states = {pc.platform: pc.status for pc in campaign.platform_campaigns}
            paused_after = round(time.perf_counter() - t0, 2)
            return {"feed_run_s": round(run_s, 2), "closed": run.closed, "paused_after_s": paused_after,
                    "platform_states": states}  # fmt: skip
        time.sleep(0.1)
    return {"feed_run_s": round(run_s, 2), "closed": run.closed, "paused_after_s": None}
