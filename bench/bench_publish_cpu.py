"""CPU per platform campaign on the publish path: a baseline source tree against this one, alternated.

Issue 17/18: the publishing benches are CPU-bound on 2 cores, so the figure that moves them is the
CPU one platform campaign costs — in the worker, in the sandbox (the platform's side, on the same
machine here) and in PostgreSQL. Each arm runs in a fresh process with ``PYTHONPATH`` set to its
source tree (the baseline: a tree extracted with ``git archive <commit> src``), against a sandbox
started from the same tree:

1. a scratch database (``--database``, dropped after), the sandbox with 0 ms latency and no faults
   (this counts CPU, not waiting), `--jobs` openings;
2. untimed warm-up: one campaign per opening published (imports, connections; with
   ``--fresh-images`` off the images are also rendered and uploaded here);
3. timed: `--campaigns` campaigns on `--platforms` published one after another through the
   publishing task (Celery eager, as the sequential baseline of bench_publishing), each on a new
   opening with ``--fresh-images`` (its image rendered and uploaded in the timed part, as in
   bench_feeds' 1,000 new openings) or spread over the warm openings otherwise (as in
   bench_publishing).

Reported per arm and round: CPU ms per platform campaign of the publishing process, the sandbox and
the PostgreSQL backends of the scratch database, the SQL statements and platform calls per platform
campaign, and the platform campaigns active at the end (counted in the database).

Usage:
    git archive <commit> src | tar -x -C /tmp/base
    .venv/bin/python bench/bench_publish_cpu.py --baseline-src /tmp/base/src [--rounds 2]
        [--campaigns 20] [--jobs 5] [--fresh-images] [--platforms meta,google,tiktok,x,snapchat]
        [--database adflux_bench_cpu]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
THIS_SRC = HERE.parent / "src"


def run_arm(src: Path, args: argparse.Namespace) -> dict[str, Any]:
    """One measurement in a fresh process importing AdFlux from `src`."""
    env = {**os.environ, "PYTHONPATH": f"{src}{os.pathsep}{HERE}"}
    command = [
        *(sys.executable, str(Path(__file__).resolve()), "--child", "--database", args.database),
        *("--campaigns", str(args.campaigns), "--jobs", str(args.jobs), "--platforms", args.platforms),
    ]
    if args.fresh_images:
        command.append("--fresh-images")
    out = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def backend_cpu(database: str) -> dict[int, float]:
    """CPU seconds of each PostgreSQL backend connected to `database` (from /proc: same machine)."""
    from publishing_scratch import ADMIN_URL, process_tree_cpu
    from sqlalchemy import create_engine, text

    engine = create_engine(ADMIN_URL)
    with engine.connect() as conn:
        pids = conn.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = :d"), {"d": database})
        found = {int(pid): process_tree_cpu(int(pid)) for (pid,) in pids}
    engine.dispose()
    return found


def sandbox_calls(base_url: str) -> int:
    """Calls the sandbox has answered so far, all platforms."""
    import httpx

    return sum(httpx.get(f"{base_url}/__sandbox/stats").json()["requests"].values())


def child(args: argparse.Namespace) -> None:
    """The measurement itself (runs with the arm's source tree first on the path)."""
    import publishing_scratch as bp
    from sqlalchemy import event, func, select

    from adflux.app import create_app
    from adflux.extensions import db
    from adflux.models import PlatformCampaign
    from adflux.services import campaigns as campaigns_service
    from adflux.settings import Settings

    bp.BENCH_DATABASE = args.database
    bp.DATABASE_URL = f"postgresql+psycopg://postgres@127.0.0.1:5432/{args.database}"
    bp.PLATFORMS = tuple(args.platforms.split(","))
    bp.recreate_database()
    sandbox, base_url = bp.start_sandbox(0)
    try:
        settings = Settings.from_env(
            {}, env="testing", database_url=bp.DATABASE_URL, platform_base_url=base_url,
            instance_path=str(Path("/tmp")), metrics_enabled=False, celery_broker_url=None,
        )  # fmt: skip
        app = create_app(settings)
        with app.app_context():
            db.create_all()
            warm_jobs = [bp.make_job(i) for i in range(args.jobs)]
            for campaign_id in bp.create_campaigns(warm_jobs, args.jobs, "Calentamiento"):
                campaigns_service.publish_campaign(campaign_id=campaign_id)
            jobs = warm_jobs
            if args.fresh_images:
                jobs = [bp.make_job(args.jobs + i) for i in range(args.campaigns)]
            ids = bp.create_campaigns(jobs, args.campaigns, "Medida")
            db.session.remove()
            statements = 0

            def count(*_: Any) -> None:
                nonlocal statements
                statements += 1

            event.listen(db.engine, "before_cursor_execute", count)
            calls_before = sandbox_calls(base_url)
            pg_before = backend_cpu(args.database)
            sandbox_before = bp.process_tree_cpu(sandbox.pid)
            cpu, wall = time.process_time(), time.perf_counter()
            for campaign_id in ids:
                campaigns_service.publish_campaign(campaign_id=campaign_id)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            sandbox_cpu = bp.process_tree_cpu(sandbox.pid) - sandbox_before
            pg_after = backend_cpu(args.database)
            event.remove(db.engine, "before_cursor_execute", count)
            calls = sandbox_calls(base_url) - calls_before
            pg_cpu = sum(after - pg_before.get(pid, 0.0) for pid, after in pg_after.items())
            active = db.session.scalar(
                select(func.count())
                .select_from(PlatformCampaign)
                .where(PlatformCampaign.campaign_id.in_(ids), PlatformCampaign.status == "active")
            )
            db.session.remove()
    finally:
        bp.stop(sandbox)
        bp.drop_database()
    n = args.campaigns * len(bp.PLATFORMS)
    print(json.dumps({
        "platform_campaigns": n, "active": active, "wall_s": wall,
        "client_cpu_ms": 1000 * cpu / n, "sandbox_cpu_ms": 1000 * sandbox_cpu / n,
        "postgres_cpu_ms": 1000 * pg_cpu / n, "statements": statements / n, "calls": calls / n,
        "load_average": os.getloadavg()[0],
    }))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline-src", type=Path, help="the baseline's src directory")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--campaigns", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=5)
    parser.add_argument("--fresh-images", action="store_true", help="a new opening (and image) per campaign")
    parser.add_argument("--platforms", default="meta,google,tiktok,x,snapchat")
    parser.add_argument("--database", default="adflux_bench_cpu")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    if args.baseline_src is None:
        raise SystemExit("--baseline-src is required (a src tree from git archive)")
    arms = {"baseline": args.baseline_src.resolve(), "this tree": THIS_SRC}
    print(f"platforms {args.platforms}; {args.campaigns} campaigns; fresh images {args.fresh_images}")
    for number in range(1, args.rounds + 1):
        order = list(arms) if number % 2 else list(reversed(arms))
        results = {name: run_arm(arms[name], args) for name in order}
        for name in order:
            one = results[name]
            client, sandbox, postgres = one["client_cpu_ms"], one["sandbox_cpu_ms"], one["postgres_cpu_ms"]
            print(
                f"round {number} {name:<9}: CPU ms per platform campaign: publisher {client:.1f}, "
                f"sandbox {sandbox:.1f}, PostgreSQL {postgres:.1f}, total {client + sandbox + postgres:.1f}; "
                f"{one['statements']:.1f} SQL statements and {one['calls']:.1f} platform calls each; "
                f"{one['active']}/{one['platform_campaigns']} active; load {one['load_average']:.1f}"
            )
        base, this = results["baseline"], results["this tree"]
        ratio = base["client_cpu_ms"] / this["client_cpu_ms"]
        load = os.getloadavg()[0]
        print(f"round {number}: publisher CPU baseline / this tree = {ratio:.2f}x (load {load:.1f})")


if __name__ == "__main__":
    main()
