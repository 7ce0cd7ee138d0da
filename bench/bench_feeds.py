"""Job-feed benchmark: a 100,000-opening XML feed read and compared with PostgreSQL, an unchanged
feed's run, and (with --campaigns) new openings followed by campaigns through real workers.

Everything runs on 127.0.0.1 and is created and removed by this script (scratch database
`adflux_bench_feeds`, Redis database 13, a sandbox process, Celery workers).

1. Diff, same run, alternating every round (each path in a fresh process, so its peak memory is
   its own): the simple way — parse the whole XML tree, load every opening through the ORM,
   compare field by field in Python — against AdFlux's path (streamed records, one Core query of
   references and fingerprints, validation only for what changed). Both on the same feed (1 %
   changed salaries, 0.5 % gone, 0.5 % new) against the same database; the counts must agree.
2. The run as it runs (fetch the file, read, compare, write in one transaction) on that feed,
   counted in rows afterwards.
3. An unchanged feed: over HTTP with ETag (a 304) and as a file (a hash of the bytes).
4. --campaigns N: N new openings in the feed → N campaigns created by a playbook and published
   by workers (-Q automation,publishing) to the sandbox process with rate limits; then one
   opening is filled in the feed and the time until its campaign is paused on every platform.

Usage:
    .venv/bin/python bench/bench_feeds.py [--jobs 100000] [--rounds 3] [--campaigns 1000]
        [--limits meta=50,google=20] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select, text

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
# ADFLUX_BENCH_DATABASE: another scratch database name, so two people can run it at once.
BENCH_DATABASE = os.environ.get("ADFLUX_BENCH_DATABASE", "adflux_bench_feeds")
DATABASE_URL = f"postgresql+psycopg://postgres@127.0.0.1:5432/{BENCH_DATABASE}"
COMPARED = ("title", "company", "city", "category", "salary_min", "salary_max", "apply_url", "description")


def recreate_database() -> None:
    engine = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{BENCH_DATABASE}"'))
    engine.dispose()


def drop_database() -> None:
    engine = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)'))
    engine.dispose()


def make_app(instance: Path, **overrides: Any) -> Any:
    from adflux.app import create_app
    from adflux.settings import Settings

    settings = Settings.from_env(
        {}, env="development", database_url=DATABASE_URL, instance_path=str(instance), metrics_enabled=False,
        **overrides,
    )  # fmt: skip
    return create_app(settings)


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


# -- the feeds ----------------------------------------------------------------------------------


def write_feeds(n: int, folder: Path, seed: int = 5) -> tuple[Path, Path, dict[str, int]]:
    """Feed A (n openings) and feed B (A with 1 % raises, 0.5 % gone, 0.5 % new)."""
    from adflux.simulation.jobs import generate_jobs
    from adflux.simulation.portal_feed import render_xml

    jobs = generate_jobs(n, seed=seed)
    a = folder / "feed-a.xml"
    a.write_bytes(render_xml(jobs))
    step_change, step_gone = 100, 200
    b_jobs, changed, gone = [], 0, 0
    for index, job in enumerate(jobs):
        if index % step_gone == 1:
            gone += 1
            continue
        if index % step_change == 0:
            job = {**job, "salary_min": (job["salary_min"] or 1_500_000) + 100_000,
                   "salary_max": (job["salary_max"] or 2_000_000) + 100_000}  # fmt: skip
            changed += 1
        b_jobs.append(job)
    new = generate_jobs(n // 200, seed=seed, start=n)
    b = folder / "feed-b.xml"
    b.write_bytes(render_xml(b_jobs + new))
    return a, b, {"changed": changed, "gone": gone, "new": len(new)}


# -- one measurement, in its own process --------------------------------------------------------


def child(path_name: str, feed_file: str, instance: str) -> None:
    """Run one diff path in this (fresh) process; print its seconds, peak memory and counts."""
    app = make_app(Path(instance))
    with app.app_context():
        from adflux.extensions import db
        from adflux.models import JobFeed

        feed_id = db.session.scalar(select(JobFeed.id))
        started = time.perf_counter()
        counts = (adflux_diff if path_name == "adflux" else simple_diff)(feed_id, Path(feed_file))
        seconds = time.perf_counter() - started
        db.session.rollback()
    print(json.dumps({"path": path_name, "seconds": seconds, "peak_mb": peak_rss_mb(), **counts}))


def peak_rss_mb() -> float:
    """This process's own peak resident memory (VmHWM). Not ru_maxrss: Linux carries that across
    fork and exec, so a child would report its parent's peak when the parent was bigger."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def adflux_diff(feed_id: int, path: Path) -> dict[str, int]:
    from adflux.services.feeds import diffing
    from adflux.services.feeds.records import read_records

    diff = diffing.compute(feed_id, read_records(path, "xml", {}))
    closed = sum(1 for _, reason in diff.closing if reason == "feed_gone")
    return {"new": len(diff.new), "changed": len(diff.changed), "gone": closed, "unchanged": diff.unchanged}


def simple_diff(feed_id: int, path: Path) -> dict[str, int]:
    """The simple way: the whole tree in memory, every row through the ORM, compared in Python."""
    from adflux.extensions import db
    from adflux.models import JobOpening
    from adflux.services.feeds.fields import normalise

    root = ET.parse(path).getroot()
    records = {}
    for index, element in enumerate(root.iter("job"), start=1):
        record = normalise(("record", index), {c.tag: (c.text or "") for c in element}, {})
        records[record.external_ref] = record.fields
    rows = {
        job.external_ref: job
        for job in db.session.scalars(select(JobOpening).where(JobOpening.feed_id == feed_id))
    }
    new = sum(1 for ref in records if ref not in rows)
    gone = sum(1 for ref, job in rows.items() if ref not in records and job.status == "open")
    changed = sum(
        1
        for ref, fields in records.items()
        if ref in rows and any(getattr(rows[ref], name) != fields.get(name, "") for name in COMPARED)
    )
    return {"new": new, "changed": changed, "gone": gone, "unchanged": len(records) - new - changed}


def measure(path_name: str, feed_file: Path, instance: Path) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", path_name, str(feed_file), str(instance)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


# -- runs as they run ---------------------------------------------------------------------------


def timed_run(feed_id: int) -> tuple[float, Any]:
    from adflux.services.feeds.runs import run_feed

    started = time.perf_counter()
    run = run_feed(feed_id=feed_id, trigger="manual")
    return time.perf_counter() - started, run


def diff_part(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    from adflux.extensions import db
    from adflux.models import JobOpening
    from adflux.services.feeds import registry
    from adflux.simulation.portal_feed import PortalFeedServer

    a, b, planted = write_feeds(args.jobs, folder)
    app = make_app(folder)
    report: dict[str, Any] = {
        "jobs": args.jobs,
        "feed_mb": round(b.stat().st_size / 2**20, 1),
        "planted": planted,
    }
    with app.app_context():
        db.create_all()
        feed = registry.create_feed(
            data={"name": "Bench", "location": str(a), "format": "xml", "max_shrink": 0.9}
        )
        seconds, run = timed_run(feed.id)
        report["first_run"] = {"seconds": round(seconds, 2), "new": run.new, "status": run.status}
        rounds = []
        for index in range(args.rounds):
            order = ("simple", "adflux") if index % 2 == 0 else ("adflux", "simple")
            result = {name: measure(name, b, folder) for name in order}
            result["load_average"] = load_average()
            rounds.append(result)
            simple, ours = result["simple"], result["adflux"]
            print(f"round {index + 1}: simple {simple['seconds']:.2f} s / {simple['peak_mb']:.0f} MB,"
                  f" adflux {ours['seconds']:.2f} s / {ours['peak_mb']:.0f} MB,"
                  f" load {result['load_average']}", flush=True)  # fmt: skip
        report["rounds"] = rounds
        registry.update_feed(feed_id=feed.id, changes={"location": str(b)})
        seconds, run = timed_run(feed.id)
        db.session.expire_all()
        open_rows = db.session.scalar(
            select(func.count()).select_from(JobOpening).where(JobOpening.status == "open")
        )
        report["changed_run"] = {
            "seconds": round(seconds, 2), "status": run.status, "new": run.new, "changed": run.changed,
            "closed": run.closed, "unchanged": run.unchanged, "open_rows_after": open_rows,
        }  # fmt: skip
        report["unchanged_file_s"] = [round(timed_run(feed.id)[0], 3) for _ in range(3)]
        server = PortalFeedServer(b.read_bytes())
        try:
            registry.update_feed(feed_id=feed.id, changes={"location": server.url})
            timed_run(feed.id)  # reads it whole once (the address changed), all unchanged
            report["unchanged_http_304_s"] = [round(timed_run(feed.id)[0], 3) for _ in range(5)]
            report["http_requests"], report["http_304"] = server.requests, server.not_modified
        finally:
            server.stop()
    return report


# -- 4. new openings → campaigns through workers; a filled one → paused -------------------------


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
    from bench_publishing import (
        PLATFORMS,
        audit_platforms,
        set_sandbox_limits,
        start_sandbox,
        stop,
    )

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
    from bench_publishing import tree_shape

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--campaigns", type=int, default=0, help="new openings followed by campaigns (0: skip)"
    )
    parser.add_argument("--limits", default="meta=50,google=20,tiktok=45")
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--time-limit", type=float, default=900.0)
    parser.add_argument("--split-queues", action="store_true", help="a worker of its own for automation")
    parser.add_argument(
        "--limiters", default="process,account",
        help="client limiters to compare, alternated: process (a bucket per worker process, the rate"
        " split between them) and/or account (one bucket per account shared through Redis)",
    )  # fmt: skip
    parser.add_argument("--campaign-rounds", type=int, default=1, help="rounds of --campaigns per limiter")
    parser.add_argument("--client-share", type=float, default=0.9, help="client limit / platform's limit")
    parser.add_argument("--redis-db", type=int, default=13, help="Redis db (flushed): broker and limits")
    parser.add_argument("--skip-diff", action="store_true", help="only the campaigns part")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.child:
        return child(*args.child)
    folder = Path(tempfile.mkdtemp(prefix="adflux-bench-feeds-"))
    recreate_database()
    report: dict[str, Any] = {"load_average_start": load_average(), "cpus": os.cpu_count()}
    try:
        if not args.skip_diff:
            report["diff"] = diff_part(args, folder)
        else:
            make_app(folder).app_context().push()
            from adflux.extensions import db

            db.create_all()
        if args.campaigns:
            report["campaigns"] = campaigns_rounds(args, folder)
    finally:
        drop_database()
    report["load_average_end"] = load_average()
    print(json.dumps(report, indent=2, default=str))


if __name__ == "__main__":
    main()
