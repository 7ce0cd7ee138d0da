"""The full-sync bench's processes: Celery workers on the sync queue, and CPU seconds from /proc."""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.2f}/{five:.2f}"


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its reaped children."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(fields[i]) for i in (11, 12, 13, 14)) / os.sysconf("SC_CLK_TCK")


# -- the AdFlux side ---------------------------------------------------------------------------------


def start_workers(
    args: argparse.Namespace, database_url: str, base_url: str, broker: str, logs: Path, days_ahead: int = 0
) -> list[subprocess.Popen[bytes]]:
    """Celery workers on the sync queue, their sync's clock ``days_ahead`` (bench/sync_clock.py)."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": broker,
        "ADFLUX_PLATFORM_BASE_URL": base_url,
        "ADFLUX_INSTANCE_PATH": str(logs),
        "ADFLUX_ENV": "development",
        "ADFLUX_METRICS_ENABLED": "false",
        "LOG_LEVEL": "INFO",
        "ADFLUX_BENCH_DAYS_AHEAD": str(days_ahead),
        # The window the sync re-reads: the bench's lookback (production's default is 16 days).
        "ADFLUX_METRICS_LOOKBACK_DAYS": str(args.lookback),
        "PYTHONPATH": os.pathsep.join([*sys.path[:1], os.environ.get("PYTHONPATH", "")]),
    }
    if args.client_limits:
        env["ADFLUX_SANDBOX_RATE_LIMITS"] = args.client_limits
    workers = []
    for index in range(args.workers):
        log = logs / f"worker{index}.log"
        workers.append(
            subprocess.Popen(
                [
                    sys.executable,
                    str(Path(__file__).with_name("sync_clock.py")),
                    "-A",
                    "adflux.worker",
                    "worker",
                    "-Q",
                    "sync",
                    "--pool",
                    "prefork",
                    "-c",
                    "1",
                    "-n",
                    f"fullsync{index}@%h",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                    "-l",
                    "INFO",
                ],
                env=env,
                stdout=log.open("w"),
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
    deadline = time.monotonic() + 120
    for index, proc in enumerate(workers):
        log = logs / f"worker{index}.log"
        while "ready." not in log.read_text(errors="replace"):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker {index} did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.3)
    return workers


def tree_cpu(procs: list[subprocess.Popen[bytes]]) -> float:
    """CPU seconds of these processes and their children (prefork pool processes)."""
    total = 0.0
    for proc in procs:
        pids = [proc.pid]
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
        if children.exists():
            pids += [int(pid) for pid in children.read_text().split()]
        for pid in pids:
            with contextlib.suppress(FileNotFoundError, ProcessLookupError):
                total += cpu_seconds(pid)
    return total
