"""The metrics benches' scratch database and shared machine: the database they create and drop
(`adflux_bench_metrics`; a caller may point BENCH_DATABASE and DATABASE_URL elsewhere first), the
machine's description, and the timing of a step with the busy share of the CPUs seen before it.
"""

from __future__ import annotations

import os
import platform as platform_module
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import scratch_database
from sqlalchemy import create_engine, text

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
BENCH_DATABASE = "adflux_bench_metrics"
DATABASE_URL = f"postgresql+psycopg://postgres@127.0.0.1:5432/{BENCH_DATABASE}"
# Before each timed step, wait (up to QUIET_MAX_WAIT s) until at most this share of the CPUs is
# busy: the machine is shared, and someone else's burst would be measured as our time.
QUIET_BUSY = 0.25
QUIET_MAX_WAIT = 0.0  # never waits any more (issue 25): the load average is printed instead
busy_before: list[float] = []  # the busy share seen before each timed step, for the report


def _cpu_times() -> tuple[int, int]:
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return sum(fields) - fields[3] - fields[4], sum(fields)  # busy, total (idle + iowait excluded)


def cpu_busy(seconds: float) -> float:
    """Share of all CPUs busy over `seconds` (other people's work, while we wait)."""
    busy0, total0 = _cpu_times()
    time.sleep(seconds)
    busy1, total1 = _cpu_times()
    return (busy1 - busy0) / max(1, total1 - total0)


def wait_for_quiet() -> None:
    deadline = time.monotonic() + QUIET_MAX_WAIT
    busy = cpu_busy(0.5)
    while busy > QUIET_BUSY and time.monotonic() < deadline:
        busy = cpu_busy(1.0)
    busy_before.append(round(busy, 2))


def timed(action: Callable[[], object]) -> float:
    wait_for_quiet()
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def recreate_database() -> None:
    scratch_database.recreate(BENCH_DATABASE)


def drop_database() -> None:
    scratch_database.drop(BENCH_DATABASE)


def maintenance(sql: str) -> float:
    """Run VACUUM/CHECKPOINT-style statements outside a transaction; returns seconds."""
    engine = create_engine(DATABASE_URL, isolation_level="AUTOCOMMIT")
    start = time.perf_counter()
    with engine.connect() as conn:
        conn.execute(text(sql))
    engine.dispose()
    return time.perf_counter() - start


def machine() -> dict[str, Any]:
    model = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    engine = create_engine(ADMIN_URL)
    with engine.connect() as conn:
        config = {
            name: conn.execute(text(f"SHOW {name}")).scalar()
            for name in (
                "server_version",
                "shared_buffers",
                "work_mem",
                "synchronous_commit",
                "jit",
                "autovacuum",
            )
        }
    engine.dispose()
    return {
        "cpu": model,
        "cpus": os.cpu_count(),
        "ram_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "system": f"{platform_module.system()} {platform_module.release()}",
        "python": platform_module.python_version(),
        "postgresql": config,
        "load_average_at_start": os.getloadavg(),
    }
