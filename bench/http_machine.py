"""bench_http's view of the machine: what it is, its load, and the CPU each process spent (from /proc)."""

from __future__ import annotations

import contextlib
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from http_data import ADMIN_URL, BENCH_DATABASE

VENV_BIN = Path(sys.executable).parent


def machine() -> dict[str, Any]:
    cpu = "unknown"
    memory_gib = 0.0
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory_gib = int(line.split()[1]) / 1024 / 1024
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split("[")[0].strip()
    gunicorn_version = subprocess.run(
        [str(VENV_BIN / "gunicorn"), "--version"], capture_output=True, text=True
    ).stdout.strip()
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gib": round(memory_gib, 1),
        "python": platform.python_version(),
        "kernel": platform.release(),
        "wrk": wrk_version,
        "gunicorn": gunicorn_version,
    }


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _cpu_times() -> tuple[int, int]:
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def cpu_busy(seconds: float = 2.0) -> float:
    """Share of all CPUs busy over `seconds` (other people's work, when we are idle)."""
    busy0, total0 = _cpu_times()
    time.sleep(seconds)
    busy1, total1 = _cpu_times()
    return (busy1 - busy0) / max(1, total1 - total0)


def _proc_cpu(pid: int, *, children: bool = False) -> float:
    """CPU seconds of a process (and of its reaped children), from /proc; 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    if children:
        ticks += int(fields[13]) + int(fields[14])  # cutime, cstime
    return ticks / CLOCK_TICKS


def _children_of(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(x) for x in text.split()]


def postgres_backends_cpu() -> dict[int, float]:
    """CPU seconds of each PostgreSQL backend connected to the bench database (not ours)."""
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        pids = [
            row[0]
            for row in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (BENCH_DATABASE,),
            )
        ]
    return {pid: _proc_cpu(pid) for pid in pids}


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
