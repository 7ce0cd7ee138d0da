"""Recovery benchmark: publishing through faults, on PostgreSQL + Redis with real Celery workers.

Publishes 200 campaigns x 3 platforms (Meta, Google Ads, TikTok) in four batches while, in turn,
the bench restarts Redis (its queues are lost: it keeps nothing on disk), restarts PostgreSQL,
and SIGKILLs a worker's main process twice (a supervisor starts a new one, as systemd would).
Beat runs as in production, so the stalled-publish sweep (every 30 s) is what recovers lost
messages and dead workers' publishes. Reported per fault: seconds from the fault being over (the
service back, the worker killed) until every platform campaign of the batch is settled (goal
<= 90 s); then, at the sandbox's own store: duplicates of any object, platform campaigns stuck or
lost; and after the sandbox clock moves a week and a metrics sync runs, each campaign's spend in
AdFlux against the sandbox's own ledger.

Everything runs on 127.0.0.1 and is created and removed by this script: a scratch database
(`adflux_bench_recovery`), Redis database 13, the sandbox in its own process with its own store
file, two workers (-Q publishing,maintenance) and beat. The run stops by itself (--time-limit).
It restarts the machine's PostgreSQL and Redis servers: run it when nothing else needs them.

Usage:
    .venv/bin/python bench/bench_recovery.py [--campaigns 200] [--latency-ms 20] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import redis
from publishing_audit import audit_platforms, sandbox_counts
from publishing_scratch import free_port, make_job, stop
from sqlalchemy import create_engine, func, select, text

from adflux.app import create_app
from adflux.extensions import db
from adflux.models import Campaign, MetricDaily, PlatformCampaign
from adflux.services import campaigns as campaigns_service
from adflux.services import metrics_sync
from adflux.settings import Settings

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DATABASE = "adflux_bench_recovery"
DATABASE_URL = f"postgresql+psycopg://postgres@127.0.0.1:5432/{DATABASE}"
PLATFORMS = ("meta", "google", "tiktok")
REDIS_DB = 13
REDIS_START = ["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "--port", "6379",
               "--save", "", "--appendonly", "no"]  # fmt: skip


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def admin(sql: str) -> None:
    engine = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(sql))
    engine.dispose()


def wait_until(check: Callable[[], bool], timeout: float, step: float = 0.25) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return True
        except Exception:  # a service coming back answers errors for a moment
            pass
        time.sleep(step)
    return False


def start(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        cmd, env=env, stdout=log.open("a"), stderr=subprocess.STDOUT, start_new_session=True
    )


class Cluster:
    """The sandbox, two workers and beat, as separate processes sharing one environment."""

    def __init__(self, tmp: Path, latency_ms: float) -> None:
        self.tmp = tmp
        port = free_port()
        self.sandbox_url = f"http://127.0.0.1:{port}"
        code = (
            "from adflux.sandbox.server import serve_sandbox; "
            f"serve_sandbox('127.0.0.1', {port}, latency_ms={latency_ms}, "
            f"store_path={str(tmp / 'sandbox.db')!r})"
        )
        self.sandbox = start([sys.executable, "-c", code], dict(os.environ), tmp / "sandbox.log")
        if not wait_until(
            lambda: httpx.get(f"{self.sandbox_url}/__sandbox/health", timeout=1).is_success, 30
        ):
            raise RuntimeError("the sandbox did not start")
        self.env = {
            **os.environ,
            "DATABASE_URL": DATABASE_URL,
            "CELERY_BROKER_URL": f"redis://127.0.0.1:6379/{REDIS_DB}",
            "ADFLUX_PLATFORM_BASE_URL": self.sandbox_url,
            "ADFLUX_INSTANCE_PATH": str(tmp),
            "ADFLUX_ENV": "development",
            "ADFLUX_METRICS_ENABLED": "false",
            "ADFLUX_DATABASE_POOL_SIZE": "20",
            "LOG_LEVEL": "INFO",
        }
        self.workers: dict[int, subprocess.Popen[bytes]] = {}
        self.generation = 0
        for index in (0, 1):
            self.start_worker(index)
        self.beat = start(
            [sys.executable, "-m", "celery", "-A", "adflux.worker", "beat", "-s", str(tmp / "beat-schedule"),
             "-l", "INFO"], self.env, tmp / "beat.log",
        )  # fmt: skip

    def start_worker(self, index: int) -> None:
        self.generation += 1
        log = self.tmp / f"worker{index}-{self.generation}.log"
        proc = start(
            [sys.executable, "-m", "celery", "-A", "adflux.worker", "worker", "-Q", "publishing,maintenance",
             "--pool", "threads", "-c", "8", "-n", f"rec{index}g{self.generation}@%h", "--without-gossip",
             "--without-mingle", "-l", "INFO"], self.env, log,
        )  # fmt: skip
        if not wait_until(lambda: "ready." in log.read_text(errors="replace"), 90):
            raise RuntimeError(f"worker {index} did not start: {log.read_text()[-2000:]}")
        self.workers[index] = proc

    def kill_worker_main(self, index: int) -> None:
        """SIGKILL the worker's main process (its pool threads die with it), then start another."""
        os.kill(self.workers[index].pid, signal.SIGKILL)
        self.workers[index].wait()
        self.start_worker(index)

    def close(self) -> None:
        for proc in [*self.workers.values(), self.beat, self.sandbox]:
            stop(proc)


def restart_redis() -> float:
    subprocess.run(["redis-cli", "-p", "6379", "shutdown", "nosave"], capture_output=True)
    wait_until(lambda: subprocess.run(["redis-cli", "ping"], capture_output=True).returncode != 0, 10)
    time.sleep(2)  # down for a moment, as in a real restart
    subprocess.run(REDIS_START, check=True, capture_output=True)
    wait_until(
        lambda: subprocess.run(["redis-cli", "ping"], capture_output=True).stdout.strip() == b"PONG", 30
    )
    return time.monotonic()


def restart_postgresql() -> float:
    version = sorted(os.listdir("/etc/postgresql"))[0]
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart", "-m", "fast"],
                   check=True, capture_output=True)  # fmt: skip
    wait_until(lambda: subprocess.run(["pg_isready", "-h", "127.0.0.1", "-q"]).returncode == 0, 60)
    return time.monotonic()


def settled(ids: list[int]) -> tuple[int, int]:
    """(platform campaigns active or failed, campaigns no longer publishing) of `ids`."""
    db.session.remove()
    done = db.session.scalar(
        select(func.count()).select_from(PlatformCampaign)
        .where(PlatformCampaign.campaign_id.in_(ids), PlatformCampaign.status.in_(("active", "failed")))
    )  # fmt: skip
    campaigns = db.session.scalar(
        select(func.count()).select_from(Campaign)
        .where(Campaign.id.in_(ids), Campaign.status.not_in(("publishing", "draft")))
    )  # fmt: skip
    return int(done or 0), int(campaigns or 0)


def publish(app: Any, ids: list[int]) -> None:
    def one(campaign_id: int) -> None:
        with app.app_context():
            for _ in range(60):  # the API would answer 503 while a service restarts; a person retries
                try:
                    campaigns_service.publish_campaign(campaign_id=campaign_id)
                    break
                except Exception as exc:
                    if "cannot be published" in str(exc):
                        break
                    db.session.remove()
                    time.sleep(1)
            db.session.remove()

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(one, ids))


def run_batch(app: Any, ids: list[int], fault: str, act: Callable[[], float], limit: float) -> dict[str, Any]:
    """Publish `ids`, inject the fault once a third of the batch is enqueued, time the recovery."""
    started = time.monotonic()
    first, rest = ids[: len(ids) // 3], ids[len(ids) // 3 :]
    with app.app_context():
        publish(app, first)
    over = act()
    with app.app_context():
        publish(app, rest)
        total = len(ids) * len(PLATFORMS)
        ok = wait_until(lambda: settled(ids) == (total, len(ids)), limit, step=0.5)
        done, campaigns = settled(ids)
        db.session.remove()
    now = time.monotonic()
    return {
        "fault": fault,
        "recovered": ok,
        "seconds_to_full_recovery": round(now - over, 1) if ok else None,
        "batch_seconds": round(now - started, 1),
        "platform_campaigns_settled": f"{done}/{total}",
        "campaigns_settled": f"{campaigns}/{len(ids)}",
        "load_average": load_average(),
    }


def spend_check(control: httpx.Client, app: Any, ids: list[int], days: int) -> dict[str, Any]:
    """Move the sandbox clock, sync, and compare each campaign's spend with the sandbox's ledger.

    The ledger sums the simulator's exact spend; Meta and TikTok report each ad set's day
    rounded to the centavo, so a campaign's synced spend may differ by at most half a centavo
    per ad set and day reported; more than that is a real difference.
    """
    control.post("/__sandbox/clock/advance", json={"days": days}).raise_for_status()
    ledger = control.get("/__sandbox/ledger").json()
    with app.app_context():
        until = date.fromisoformat(ledger["today"])
        result = metrics_sync.sync_metrics(until=until)
        synced = {
            (platform, external): (int(spend or 0), int(rows))
            for platform, external, spend, rows in db.session.execute(
                select(
                    PlatformCampaign.platform,
                    PlatformCampaign.external_campaign_id,
                    func.sum(MetricDaily.spend_micros),
                    func.count(),
                )
                .join(MetricDaily, MetricDaily.platform_campaign_id == PlatformCampaign.id)
                .where(PlatformCampaign.campaign_id.in_(ids))
                .group_by(PlatformCampaign.platform, PlatformCampaign.external_campaign_id)
            ).all()
        }
        db.session.remove()
    expected = {
        (platform, external): int(totals["spend_micros"])
        for platform, by_campaign in ledger["ledger"].items()
        for external, totals in by_campaign.items()
        if platform in PLATFORMS
    }
    differences = {key: synced.get(key, (0, 0))[0] - want for key, want in expected.items()}
    beyond = {
        f"{p}:{e}": diff
        for (p, e), diff in differences.items()
        if abs(diff) > 5_000 * synced.get((p, e), (0, 0))[1]
    }
    return {
        "sync_rows": result.rows,
        "sync_failed_platforms": result.failed_platforms,
        "campaigns_in_ledger": len(expected),
        "campaigns_synced": len(synced),
        "spend_ledger_pesos": sum(expected.values()) / 1_000_000,
        "spend_synced_pesos": sum(v[0] for v in synced.values()) / 1_000_000,
        "campaigns_exactly_equal": sum(1 for diff in differences.values() if diff == 0),
        "largest_difference_pesos": max((abs(d) for d in differences.values()), default=0) / 1_000_000,
        "campaigns_beyond_reporting_precision": len(beyond),
        "examples": dict(list(beyond.items())[:5]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--campaigns", type=int, default=200)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--recovery-limit", type=float, default=300.0, help="seconds to wait per batch")
    parser.add_argument("--sync-days", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    admin(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
    admin(f"CREATE DATABASE {DATABASE}")
    broker = redis.Redis(db=REDIS_DB)
    broker.flushdb()
    report: dict[str, Any] = {"load_average_start": load_average(), "campaigns": args.campaigns}
    with tempfile.TemporaryDirectory(prefix="adflux-recovery-") as folder:
        tmp = Path(folder)
        settings = Settings.from_env(
            {}, database_url=DATABASE_URL, platform_base_url="http://127.0.0.1:1", instance_path=str(tmp)
        )
        cluster = Cluster(tmp, args.latency_ms)
        try:
            app = create_app(
                settings.replace(
                    platform_base_url=cluster.sandbox_url,
                    celery_broker_url=f"redis://127.0.0.1:6379/{REDIS_DB}",
                )
            )
            with app.app_context():
                db.create_all()
                job_id = make_job()
                ids = [
                    campaigns_service.create_campaign(
                        job_id=job_id,
                        platforms=list(PLATFORMS),
                        budget_total=3_000_000,
                        budget_daily=150_000,
                        name=f"Recuperación {n}",
                    ).id
                    for n in range(args.campaigns + 1)
                ]  # fmt: skip
                db.session.remove()
            control = httpx.Client(base_url=cluster.sandbox_url, timeout=60)
            # One campaign first, with no fault: the shape of one tree on each platform.
            probe, ids = ids[:1], ids[1:]
            with app.app_context():
                publish(app, probe)
                total = len(PLATFORMS)
                if not wait_until(lambda: settled(probe) == (total, 1), 120):
                    raise RuntimeError("the probe campaign did not publish")
                shape = sandbox_counts(control)
                db.session.remove()
            quarter = len(ids) // 4
            batches = [ids[i * quarter : (i + 1) * quarter] for i in range(3)] + [ids[3 * quarter :]]
            faults: list[tuple[str, Callable[[], float]]] = [
                ("redis restart", restart_redis),
                ("postgresql restart", restart_postgresql),
                ("worker 0 main process SIGKILL", lambda: (cluster.kill_worker_main(0), time.monotonic())[1]),
                ("worker 1 main process SIGKILL", lambda: (cluster.kill_worker_main(1), time.monotonic())[1]),
            ]
            report["faults"] = [
                run_batch(app, batch, name, act, args.recovery_limit)
                for batch, (name, act) in zip(batches, faults, strict=True)
            ]
            with app.app_context():
                found = audit_platforms(control, probe + ids, shape)
                stuck = db.session.scalar(
                    select(func.count())
                    .select_from(PlatformCampaign)
                    .where(
                        PlatformCampaign.campaign_id.in_(ids),
                        PlatformCampaign.status.in_(("pending", "publishing")),
                    )
                )
                db.session.remove()
            report["audit"] = {
                "duplicates": found["duplicates"],
                "stuck": int(stuck or 0),
                "lost": found["lost"],
                "platforms": found["platforms"],
                "campaign_statuses": found["campaign_statuses"],
            }
            report["spend"] = spend_check(control, app, probe + ids, args.sync_days)
        finally:
            cluster.close()
            broker.flushdb()
            admin(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
    report["load_average_end"] = load_average()
    print(json.dumps(report, indent=1, default=str) if args.json else _text(report))


def _text(report: dict[str, Any]) -> str:
    lines = [f"load average at start {report['load_average_start']}, at end {report['load_average_end']}"]
    for fault in report["faults"]:
        lines.append(
            f"{fault['fault']:>32}: full recovery {fault['seconds_to_full_recovery']} s "
            f"(settled {fault['platform_campaigns_settled']} platform campaigns, "
            f"load {fault['load_average']})"
        )
    audit = report["audit"]
    lines.append(
        f"duplicates at the sandbox {audit['duplicates'] or 0}; stuck {audit['stuck']}; lost {audit['lost']}"
    )
    lines.append(f"objects at the sandbox { {p: v['objects'] for p, v in audit['platforms'].items()} }")
    spend = report["spend"]
    lines.append(
        f"spend synced {spend['spend_synced_pesos']:,.0f} vs ledger "
        f"{spend['spend_ledger_pesos']:,.0f} pesos; "
        f"{spend['campaigns_exactly_equal']} of {spend['campaigns_in_ledger']} campaigns equal to the micro, "
        f"largest difference {spend['largest_difference_pesos']:.4f} pesos, "
        f"{spend['campaigns_beyond_reporting_precision']} beyond the platforms' reporting precision"
    )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
