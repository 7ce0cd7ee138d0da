"""The publishing benches' scratch set-up: the database and platforms of the run (module-wide, set by
`configure` from the command line; read them as `publishing_scratch.PLATFORMS` etc.), the sandbox
process, the machine, and the openings and draft campaigns to publish.
"""

from __future__ import annotations

import argparse
import os
import platform as platform_module
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import redis
import scratch_database
from publishing_media import EXTRA_LIMITS
from sqlalchemy import create_engine, text

from adflux.services import campaigns as campaigns_service
from adflux.services import jobs as jobs_service

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
# ADFLUX_BENCH_DATABASE: another scratch database name, so two people can run it at once.
BENCH_DATABASE = os.environ.get("ADFLUX_BENCH_DATABASE", "adflux_bench_pub")
DATABASE_URL = f"postgresql+psycopg://postgres@127.0.0.1:5432/{BENCH_DATABASE}"
PLATFORMS = ("meta", "google", "tiktok")
DEFAULT_LIMITS = "meta=50,google=20,tiktok=45"


def configure(args: argparse.Namespace) -> None:
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


def recreate_database() -> None:
    """Drop and create the scratch database."""
    scratch_database.recreate(BENCH_DATABASE)


def drop_database() -> None:
    """Remove the scratch database, whoever is still connected."""
    scratch_database.drop(BENCH_DATABASE)


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
