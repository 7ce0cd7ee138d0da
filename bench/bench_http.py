"""HTTP under load: the job list, campaign list and performance report behind gunicorn, with wrk.

What it does, all on 127.0.0.1 and all bounded in time:

1. Creates a scratch PostgreSQL database (``adflux_bench_http``), the schema (``create_all``), and
   seeds it through the services: 5,000 simulated job openings (``seed_database``), 200 draft
   campaigns on 2–3 platforms (``create_campaign``), 30 days of daily metrics with rollups
   (``upsert_metrics``), and an admin API token (``issue_token``). Then ``VACUUM ANALYZE``.
2. Optionally (``--profile``) measures the cost of each endpoint in one process with the Flask test
   client: microseconds per request, SQL statements per request, and a cProfile summary.
3. Starts gunicorn with the repository's ``gunicorn.conf.py`` and production settings
   (``ADFLUX_ENV=production``, real ``SECRET_KEY`` and ``ADFLUX_ENCRYPTION_KEY``, ``LOG_FORMAT=json``
   at INFO, so AdFlux writes its JSON access line for every request, to a file) with sync workers
   (2 × cores + 1) and, for comparison, gthread workers.
4. Runs ``wrk -t2 -c50 -d15s --latency`` with the bearer token against each endpoint, plus a
   same-run baseline: a bare Flask app (same gunicorn settings) serving a hello-world and a plain
   SQLAlchemy Core query of the same 20 job rows.
   The headline (stage ``ratio``): with the response cache off, both servers up at once, each
   round runs the hello-world right before each endpoint, and the figure is the endpoint's req/s
   as a share of that hello-world's, per round, with the load average beside it. Nothing waits
   for a quiet machine: the ratio is what this machine's load gives both. A reference row, the
   bare app's plain Core query of 20 job rows, shows what one PostgreSQL round trip allows.
5. Finds, per endpoint, the largest number of connections that keeps p99 < 100 ms with no errors.
6. Soaks (5 minutes; ``--quick``: 30 s) with a mix of the three endpoints, counting socket
   errors, non-2xx responses, 5xx lines in the access log, and worker restarts or timeouts.

Run:  .venv/bin/python bench/bench_http.py [--quick] [--stages ratio,...] [--rounds N] [--profile]
          [--json out.json]
The scratch database, gunicorn processes and temporary files are removed at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
BENCH_DIR = Path(__file__).resolve().parent
VENV_BIN = Path(sys.executable).parent
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
# A shared machine: each engineer names their own scratch database (BENCH_HTTP_DATABASE).
BENCH_DATABASE = os.environ.get("BENCH_HTTP_DATABASE", "adflux_bench_http")
DATABASE_URL = f"postgresql+psycopg://postgres@127.0.0.1:5432/{BENCH_DATABASE}"
SEED = 42
JOBS = 5_000
CAMPAIGNS = 200
METRIC_DAYS = 30
P99_LIMIT_MS = 100.0

ENDPOINTS = {
    "jobs": "/api/v1/jobs",
    "campaigns": "/api/v1/campaigns",
    "candidates": "/api/v1/candidates",
    "report": "/api/v1/reports/performance",
}
CANDIDATES = 20_000
BASELINE_ENDPOINTS = {"hello": "/hello", "jobs_core": "/jobs_core"}
SOAK_SCRIPT = BENCH_DIR / "wrk_mix.lua"
LOAD_LEVELS = (5, 10, 25, 50, 100, 150, 200, 300, 400)
# Serve AdFlux from another source tree (e.g. an export of an older commit): --served-source.
SERVED_SOURCE: str | None = None


# ---- the same-run baseline: a bare Flask app ---------------------------------------------------


def baseline_app() -> Any:
    """A bare Flask app with no AdFlux middleware: what gunicorn + Flask (+ a Core query) can do.

    Served by the same gunicorn settings: ``gunicorn --pythonpath bench "bench_http:baseline_app()"``.
    `/jobs_core` reads the same 20 rows as the job list (newest first) with a plain SQLAlchemy Core
    text query and `.mappings()`, the way the performance anchors measured it; no token, no count.
    """
    from flask import Flask, jsonify
    from sqlalchemy import create_engine, text

    app = Flask("baseline")
    engine = create_engine(os.environ["DATABASE_URL"], pool_size=2, max_overflow=2, pool_pre_ping=True)
    query = text(
        "SELECT id, external_ref, title, description, company, city, department, country, category, "
        "modality, salary_min, salary_max, salary_currency, education_required, experience_years_min, "
        "apply_url, status, created_at, updated_at, closed_at FROM job_openings ORDER BY id DESC LIMIT 20"
    )

    @app.get("/hello")
    def hello() -> Any:
        return jsonify({"hello": "world"})

    @app.get("/jobs_core")
    def jobs_core() -> Any:
        with engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(query).mappings()]
        for row in rows:
            for key in ("created_at", "updated_at", "closed_at"):
                if row[key] is not None:
                    row[key] = row[key].isoformat()
        return jsonify({"items": rows})

    @app.get("/healthz")
    def healthz() -> Any:
        return jsonify({"status": "ok"})

    return app


# ---- machine -----------------------------------------------------------------------------------


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


# ---- database ----------------------------------------------------------------------------------


def recreate_database() -> None:
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {BENCH_DATABASE}")


def drop_database() -> None:
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)")


def _settings(instance: Path, **overrides: Any) -> Any:
    from adflux.settings import Settings

    values: dict[str, Any] = {
        "env": "testing",
        "database_url": DATABASE_URL,
        "instance_path": str(instance),
        "secret_key": "bench",
    }
    values.update(overrides)
    return Settings.from_env({}, **values)


def database_exists() -> bool:
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        return (
            conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (BENCH_DATABASE,)).fetchone()
            is not None
        )


def seed(instance: Path, *, reuse: bool = False) -> dict[str, Any]:
    """Schema and data through the services; returns an admin token and what was written."""
    if reuse and database_exists():
        return issue_token_only(instance)
    recreate_database()
    import random

    import psycopg
    from sqlalchemy import select

    from adflux.app import create_app
    from adflux.extensions import db
    from adflux.models import Campaign, JobOpening
    from adflux.services import auth as auth_service
    from adflux.services import campaigns as campaigns_service
    from adflux.services import local_dates
    from adflux.services.metrics_store import upsert_metrics
    from adflux.services.seeding import seed_database

    started = time.perf_counter()
    app = create_app(_settings(instance))
    rng = random.Random(SEED)
    with app.app_context():
        db.create_all()
        seed_database(candidates=CANDIDATES, jobs=JOBS, seed=SEED)
        admin = auth_service.create_user(email="bench-admin@adflux.local", role="admin", name="bench")
        token = auth_service.issue_token(user_id=admin.id, name="bench_http", expires_in_days=7).secret
        open_jobs = db.session.scalars(
            select(JobOpening.id).where(JobOpening.status == "open").order_by(JobOpening.id).limit(CAMPAIGNS)
        ).all()
        platforms = ["meta", "google", "tiktok", "x", "snapchat"]
        for job_id in open_jobs:
            chosen = rng.sample(platforms, rng.choice((2, 3)))
            campaigns_service.create_campaign(
                job_id=job_id, platforms=chosen, budget_total=rng.randrange(2, 20) * 1_000_000
            )
        end = local_dates.today()
        rows = []
        for campaign in db.session.scalars(select(Campaign)).all():
            for pc in campaign.platform_campaigns:
                for group in pc.ad_groups:
                    for n in range(METRIC_DAYS):
                        impressions = rng.randrange(1_000, 20_000)
                        clicks = impressions // rng.randrange(30, 90)
                        rows.append(
                            {
                                "ad_group_id": group.id,
                                "date": end - timedelta(days=METRIC_DAYS - 1 - n),
                                "platform_campaign_id": pc.id,
                                "campaign_id": campaign.id,
                                "platform": pc.platform,
                                "segment_id": group.segment_id,
                                "impressions": impressions,
                                "reach": int(impressions * 0.7),
                                "clicks": clicks,
                                "engagements": None,
                                "spend_micros": rng.randrange(20_000, 90_000) * 1_000_000,
                                "applications": clicks // rng.randrange(5, 15),
                            }
                        )
        metric_rows = upsert_metrics(rows)
        db.session.commit()
        server_version = db.session.execute(db.text("SHOW server_version")).scalar_one()
        db.session.remove()
        db.engine.dispose()
    with psycopg.connect(ADMIN_URL.rsplit("/", 1)[0] + f"/{BENCH_DATABASE}", autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return {
        "token": token,
        "jobs": JOBS,
        "candidates": CANDIDATES,
        "campaigns": len(open_jobs),
        "metric_rows": metric_rows,
        "postgresql": server_version,
        "seconds": round(time.perf_counter() - started, 1),
    }


def issue_token_only(instance: Path) -> dict[str, Any]:
    """A new admin token in an existing bench database (for --reuse-db)."""
    from sqlalchemy import func, select

    from adflux.app import create_app
    from adflux.extensions import db
    from adflux.models import Campaign, Candidate, JobOpening, MetricDaily, User
    from adflux.services import auth as auth_service

    app = create_app(_settings(instance))
    with app.app_context():
        admin = db.session.scalars(select(User).where(User.role == "admin")).first()
        token = auth_service.issue_token(user_id=admin.id, name="bench_http", expires_in_days=7).secret
        data = {
            "token": token,
            "jobs": db.session.scalar(select(func.count()).select_from(JobOpening)),
            "candidates": db.session.scalar(select(func.count()).select_from(Candidate)),
            "campaigns": db.session.scalar(select(func.count()).select_from(Campaign)),
            "metric_rows": db.session.scalar(select(func.count()).select_from(MetricDaily)),
            "postgresql": db.session.execute(db.text("SHOW server_version")).scalar_one(),
            "reused": True,
        }
        db.session.remove()
        db.engine.dispose()
    return data


# ---- production environment for the served app -------------------------------------------------


def server_environment(instance: Path, port: int, *, workers: int, threads: int) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ADFLUX_", "PROMETHEUS_", "GUNICORN_"))
        and k not in ("DATABASE_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "SECRET_KEY")
    }
    env.update(
        {
            "ADFLUX_ENV": "production",
            "SECRET_KEY": "bench-http-secret-key-5f0c9e7d2b8a4163a9e1",
            "ADFLUX_ENCRYPTION_KEY": "bench-http-encryption-passphrase-8d2f61c4e9",
            "ADFLUX_INSTANCE_PATH": str(instance),
            "DATABASE_URL": DATABASE_URL,
            "LOG_LEVEL": "INFO",
            "LOG_FORMAT": "json",
            # One token drives thousands of requests a second: the per-token limit (on by default,
            # 1,200 a minute) would answer 429 and measure the limiter, not the endpoints.
            "ADFLUX_API_RATE_LIMIT_PER_MINUTE": "0",
            # Our own metrics directory: gunicorn.conf.py empties it on start.
            "PROMETHEUS_MULTIPROC_DIR": str(instance / f"prometheus-{port}"),
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "GUNICORN_WORKERS": str(workers),
            "GUNICORN_THREADS": str(threads),
        }
    )
    if SERVED_SOURCE:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [SERVED_SOURCE, env.get("PYTHONPATH")]))
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """gunicorn with the repository's gunicorn.conf.py on a free loopback port; stops on exit."""

    def __init__(
        self,
        instance: Path,
        *,
        name: str,
        worker_class: str,
        workers: int,
        threads: int,
        app: str = "adflux.app:create_app()",
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.name = name
        self.log_path = instance / f"gunicorn-{name}.log"
        env = server_environment(instance, self.port, workers=workers, threads=threads) | (extra_env or {})
        command = [
            str(VENV_BIN / "gunicorn"),
            "-c",
            str(REPO / "gunicorn.conf.py"),
            "--worker-class",
            worker_class,
            "--workers",
            str(workers),
            "--threads",
            str(threads),
        ]
        if not app.startswith("adflux."):
            command += ["--pythonpath", str(BENCH_DIR)]
        command.append(app)
        self._log = self.log_path.open("w")
        self.proc = subprocess.Popen(
            command, env=env, cwd=REPO, stdout=self._log, stderr=self._log, start_new_session=True
        )
        self._wait_ready()

    def _wait_ready(self) -> None:
        import httpx

        deadline = time.monotonic() + 180  # five workers importing the app on a loaded machine
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn {self.name} exited: {self.log_path.read_text()[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(
            f"gunicorn {self.name} did not answer /healthz: {self.log_path.read_text()[-2000:]}"
        )

    def cpu_seconds(self) -> float:
        """CPU of the master, its live workers and every worker it has reaped (recycled ones)."""
        pid = self.proc.pid
        return _proc_cpu(pid, children=True) + sum(_proc_cpu(child) for child in _children_of(pid))

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=35)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._log.close()

    def log_counts(self) -> dict[str, int]:
        """Access lines by status class, plus worker timeouts/boots seen in gunicorn's own log."""
        counts = {"access_lines": 0, "status_5xx": 0, "status_4xx": 0, "worker_timeouts": 0, "tracebacks": 0}
        with self.log_path.open(errors="replace") as handle:
            for line in handle:
                if line.startswith("{") and '"adflux.access"' in line:
                    counts["access_lines"] += 1
                    match = re.search(r'"status": (\d+)', line)
                    if match:
                        status = int(match.group(1))
                        counts["status_5xx"] += status >= 500
                        counts["status_4xx"] += 400 <= status < 500
                elif "WORKER TIMEOUT" in line:
                    counts["worker_timeouts"] += 1
                elif "Traceback" in line or '"exc_info"' in line:
                    counts["tracebacks"] += 1
        return counts


@contextlib.contextmanager
def serving(instance: Path, **kwargs: Any) -> Iterator[Gunicorn]:
    server = Gunicorn(instance, **kwargs)
    try:
        yield server
    finally:
        server.stop()


# ---- wrk -----------------------------------------------------------------------------------------

_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not match:
        raise ValueError(f"unparsed latency {text!r}")
    return float(match.group(1)) * _UNIT_MS[match.group(2)]


def parse_wrk(output: str) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for pct in ("50", "75", "90", "99"):
        match = re.search(rf"^\s+{pct}(?:\.000)?%\s+(\S+)", output, re.M)
        result[f"p{pct}_ms"] = round(_ms(match.group(1)), 2) if match else None
    match = re.search(r"Requests/sec:\s+([\d.]+)", output)
    result["rps"] = round(float(match.group(1)), 1) if match else 0.0
    match = re.search(r"(\d+) requests in ([\d.]+\w+)", output)
    result["requests"] = int(match.group(1)) if match else 0
    match = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    socket_errors = [int(x) for x in match.groups()] if match else [0, 0, 0, 0]
    result["socket_errors"] = dict(zip(("connect", "read", "write", "timeout"), socket_errors, strict=True))
    match = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    result["non_2xx"] = int(match.group(1)) if match else 0
    result["errors"] = sum(socket_errors) + result["non_2xx"]
    return result


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


def run_wrk(
    server: Gunicorn,
    path: str,
    token: str | None,
    *,
    connections: int,
    duration: int,
    threads: int = 2,
    script: Path | None = None,
) -> dict[str, Any]:
    """One wrk run, with the CPU each party spent: gunicorn, PostgreSQL backends, wrk, others."""
    import resource

    command = ["wrk", f"-t{min(threads, connections)}", f"-c{connections}", f"-d{duration}s", "--latency"]
    if token:
        command += ["-H", f"Authorization: Bearer {token}"]
    if script is not None:
        command += ["-s", str(script)]
    command.append(server.url + path)
    busy_before = round(cpu_busy(0.5), 2)  # measured, never waited for: the figure is what this load gives
    load_before = load_average()[0]
    server_cpu0, pg_cpu0 = server.cpu_seconds(), postgres_backends_cpu()
    machine0 = _cpu_times()
    wrk0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60, check=True)
    wrk1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    machine1 = _cpu_times()
    server_cpu1, pg_cpu1 = server.cpu_seconds(), postgres_backends_cpu()
    result = parse_wrk(out.stdout)
    requests = max(1, result["requests"])
    machine_cpu = (machine1[0] - machine0[0]) / CLOCK_TICKS
    cpu = {
        "gunicorn": server_cpu1 - server_cpu0,
        "postgresql": sum(cpu - pg_cpu0.get(pid, 0.0) for pid, cpu in pg_cpu1.items()),
        "wrk": (wrk1.ru_utime + wrk1.ru_stime) - (wrk0.ru_utime + wrk0.ru_stime),
    }
    cpu["others"] = max(0.0, machine_cpu - sum(cpu.values()))
    result.update(
        {
            "connections": connections,
            "duration_s": duration,
            "load_before": load_before,
            "cpu_busy_before": busy_before,
            "cpu_seconds": {k: round(v, 2) for k, v in cpu.items()},
            "cpu_us_per_request": {k: round(v / requests * 1e6) for k, v in cpu.items() if k != "others"},
        }
    )
    return result


def passes(result: dict[str, Any]) -> bool:
    return result["errors"] == 0 and result["p99_ms"] is not None and result["p99_ms"] < P99_LIMIT_MS


def check_endpoints(base: str, token: str) -> dict[str, int]:
    """Every measured endpoint answers 200 with the token (and 401 without) before any load."""
    import httpx

    sizes = {}
    for name, path in ENDPOINTS.items():
        response = httpx.get(base + path, headers={"Authorization": f"Bearer {token}"}, timeout=10)
        if response.status_code != 200:
            raise RuntimeError(f"{path}: {response.status_code} {response.text[:300]}")
        if httpx.get(base + path, timeout=10).status_code != 401:
            raise RuntimeError(f"{path} answered without a token")
        sizes[name] = len(response.content)
        if name == "jobs":
            assert len(response.json()["items"]) == 20, response.json()
    return sizes


@contextlib.contextmanager
def job_edits(base: str, token: str, *, per_second: float) -> Iterator[dict[str, int]]:
    """PATCH the newest job opening's title `per_second` times a second until the block ends."""
    import threading

    import httpx

    counts = {"sent": 0, "ok": 0}
    stop = threading.Event()
    headers = {"Authorization": f"Bearer {token}"}

    def edit() -> None:
        with httpx.Client(base_url=base, headers=headers, timeout=10) as client:
            job_id = client.get(ENDPOINTS["jobs"], params={"page_size": 1}).json()["items"][0]["id"]
            while not stop.wait(1 / per_second):
                counts["sent"] += 1
                response = client.patch(f"/api/v1/jobs/{job_id}", json={"title": f"Edición {counts['sent']}"})
                counts["ok"] += response.status_code == 200

    thread = threading.Thread(target=edit, daemon=True)
    thread.start()
    try:
        yield counts
    finally:
        stop.set()
        thread.join(timeout=15)


# ---- in-process profile --------------------------------------------------------------------------


def profile_in_process(
    instance: Path, token: str, endpoints: dict[str, str], *, requests: int, cache: bool = True
) -> dict[str, Any]:
    """Per-request cost of each endpoint with the Flask test client, in a child process."""
    env = server_environment(instance, 0, workers=1, threads=1)
    if not cache:  # as the ratio stage serves them
        env["ADFLUX_RESPONSE_CACHE_ENTRIES"] = "0"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(BENCH_DIR), env.get("PYTHONPATH")]))
    Path(env["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import bench_http; bench_http._profile_child({token!r}, {requests}, {endpoints!r})",
        ],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if out.returncode != 0:
        raise RuntimeError(f"profile failed: {out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _profile_child(token: str, requests: int, endpoints: dict[str, str]) -> None:
    import cProfile
    import io
    import logging
    import pstats

    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from adflux.app import create_app

    app = create_app()
    # Production logging goes to stderr; write it to a file so the cost of writing lines counts.
    sink = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process
    for handler in logging.getLogger().handlers:
        if getattr(handler, "_adflux", False):
            handler.setStream(sink)  # type: ignore[attr-defined]
    statements: list[str] = []
    event.listen(Engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    results: dict[str, Any] = {}
    for name, path in endpoints.items():
        for _ in range(100):
            assert client.get(path, headers=headers).status_code == 200
        statements.clear()
        client.get(path, headers=headers)
        per_request_sql = [s.split()[0] for s in statements]
        rounds = []
        for _ in range(5):
            t0, c0 = time.perf_counter(), time.process_time()
            for _ in range(requests // 5):
                client.get(path, headers=headers)
            rounds.append(
                (
                    (time.perf_counter() - t0) / (requests // 5) * 1e6,
                    (time.process_time() - c0) / (requests // 5) * 1e6,
                )
            )
        best = min(rounds)
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(requests // 5):
            client.get(path, headers=headers)
        profiler.disable()
        text = io.StringIO()
        lines = int(os.environ.get("BENCH_PROFILE_LINES", "25"))
        sort = os.environ.get("BENCH_PROFILE_SORT", "tottime")
        pstats.Stats(profiler, stream=text).sort_stats(sort).print_stats(lines)
        results[name] = {
            "us_per_request": round(best[0], 1),
            "cpu_us_per_request": round(best[1], 1),
            "sql_per_request": per_request_sql,
            "top_tottime": text.getvalue().splitlines()[: 35 + lines],
        }
    print(json.dumps(results))


# ---- the run ---------------------------------------------------------------------------------------


def measure_at_c50(
    server: Gunicorn, token: str | None, endpoints: dict[str, str], *, duration: int, repeat: int
) -> dict[str, Any]:
    """wrk -t2 -c50 against each endpoint; the median run (by req/s) of `repeat`."""
    out: dict[str, Any] = {}
    for name, path in endpoints.items():
        run_wrk(server, path, token, connections=50, duration=max(2, duration // 5))  # warm-up
        runs = [run_wrk(server, path, token, connections=50, duration=duration) for _ in range(repeat)]
        runs.sort(key=lambda r: r["rps"])
        median = dict(runs[len(runs) // 2])
        median["all_rps"] = [r["rps"] for r in runs]
        median["all_p99_ms"] = [r["p99_ms"] for r in runs]
        out[name] = median
        print(
            f"  {server.name:>8} {name:<10} c50: {median['rps']:>8,.0f} req/s  p50 {median['p50_ms']} ms  "
            f"p99 {median['p99_ms']} ms  errors {median['errors']}  (runs {median['all_rps']}, "
            f"load {median['load_before']}, busy before {median['cpu_busy_before']}; "
            f"CPU µs/request {median['cpu_us_per_request']}, "
            f"others' CPU {median['cpu_seconds']['others']} s)",
            flush=True,
        )
    return out


def measure_ratio(
    baseline: Gunicorn, server: Gunicorn, token: str, endpoints: dict[str, str], *, duration: int, rounds: int
) -> dict[str, Any]:
    """The headline: each endpoint's req/s at c50 as a share of the bare hello-world's, both servers
    up at once under the same gunicorn settings, the hello-world run right before each endpoint run
    in every round (so both meet the same machine), the ratio taken per round."""
    out: dict[str, Any] = {name: {"rounds": []} for name in endpoints}
    for path in endpoints.values():  # warm both
        run_wrk(server, path, token, connections=50, duration=2)
    run_wrk(baseline, "/hello", None, connections=50, duration=2)
    # A reference row: the bare app's plain Core query of the same 20 job rows (no auth, no count,
    # no middleware) -- what one round trip to PostgreSQL costs against the hello-world.
    targets = [(name, server, path, token) for name, path in endpoints.items()]
    targets.append(("core query (bare)", baseline, BASELINE_ENDPOINTS["jobs_core"], None))
    out["core query (bare)"] = {"rounds": []}
    for number in range(1, rounds + 1):
        for name, target, path, auth in targets:
            hello = run_wrk(baseline, "/hello", None, connections=50, duration=duration)
            mine = run_wrk(target, path, auth, connections=50, duration=duration)
            ratio = mine["rps"] / max(1.0, hello["rps"])
            out[name]["rounds"].append(
                {
                    "ratio": round(ratio, 3),
                    "rps": mine["rps"],
                    "hello_rps": hello["rps"],
                    "p99_ms": mine["p99_ms"],
                    "errors": mine["errors"] + hello["errors"],
                    "load": mine["load_before"],
                }
            )
            print(
                f"  round {number} {name:<10} {ratio:.2f}x hello ({mine['rps']:,.0f} vs {hello['rps']:,.0f} "
                f"req/s), p99 {mine['p99_ms']} ms, errors {mine['errors']}, load {mine['load_before']}",
                flush=True,
            )
    for result in out.values():
        ratios = sorted(r["ratio"] for r in result["rounds"])
        p99s = sorted(r["p99_ms"] or 0.0 for r in result["rounds"])
        result["median_ratio"] = ratios[len(ratios) // 2]
        result["median_p99_ms"] = p99s[len(p99s) // 2]
    return out


def find_max_load(
    server: Gunicorn, token: str, endpoints: dict[str, str], *, duration: int
) -> dict[str, Any]:
    """Per endpoint: the largest connection count (of LOAD_LEVELS) with p99 < 100 ms and no errors."""
    out: dict[str, Any] = {}
    for name, path in endpoints.items():
        steps = []
        best = None
        failures = 0
        for connections in LOAD_LEVELS:
            result = run_wrk(server, path, token, connections=connections, duration=duration)
            result["pass"] = passes(result)
            steps.append(result)
            print(
                f"  load {name:<10} c{connections:<4} {result['rps']:>8,.0f} req/s  "
                f"p50 {result['p50_ms']} ms p99 {result['p99_ms']} ms  errors {result['errors']}  "
                f"{'ok' if result['pass'] else 'over'}",
                flush=True,
            )
            if result["pass"]:
                best = result
                failures = 0
            else:
                failures += 1
                if failures >= 2:  # two levels in a row over the line: higher ones will be too
                    break
        out[name] = {"best": best, "steps": steps}
    return out


def soak(server: Gunicorn, token: str, *, duration: int, connections: int) -> dict[str, Any]:
    before = server.log_counts()
    result = run_wrk(server, "/", token, connections=connections, duration=duration, script=SOAK_SCRIPT)
    time.sleep(1)
    after = server.log_counts()
    result["log"] = {k: after[k] - before[k] for k in after}
    print(
        f"  soak {duration} s c{connections}: {result['requests']:,} requests, {result['rps']:,.0f} req/s, "
        f"p50 {result['p50_ms']} ms p99 {result['p99_ms']} ms, wrk errors {result['errors']}, "
        f"log {result['log']}",
        flush=True,
    )
    return result


def _interrupt(*_: Any) -> None:
    raise KeyboardInterrupt


STAGES = ("ratio", "baseline", "sync", "gthread", "nocache", "churn", "load", "soak")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short runs (5 s) and a 30 s soak")
    parser.add_argument("--profile", action="store_true", help="also profile each endpoint in process")
    parser.add_argument("--profile-cache-off", action="store_true", help="profile with the cache off")
    parser.add_argument("--stages", default=",".join(STAGES), help=f"any of {','.join(STAGES)}")
    parser.add_argument("--endpoints", default=",".join(ENDPOINTS), help="which AdFlux endpoints")
    parser.add_argument("--repeat", type=int, default=None, help="wrk runs per c50 figure (median)")
    parser.add_argument("--duration", type=int, default=None, help="seconds per wrk run")
    parser.add_argument("--soak-seconds", type=int, default=None)
    parser.add_argument("--reuse-db", action="store_true", help="keep an existing seeded database")
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database at the end")
    parser.add_argument("--json", type=Path, help="write every result to this file")
    parser.add_argument("--served-source", help="serve adflux from this src directory instead")
    parser.add_argument("--rounds", type=int, default=None, help="alternations in the ratio stage")
    args = parser.parse_args()
    # SIGTERM unwinds like Ctrl-C, so gunicorn, the database and temporary files are cleaned up.
    signal.signal(signal.SIGTERM, _interrupt)
    global SERVED_SOURCE
    SERVED_SOURCE = args.served_source

    stages = set(args.stages.split(",")) if args.stages else set()
    endpoints = {k: ENDPOINTS[k] for k in args.endpoints.split(",")}
    duration = args.duration or (5 if args.quick else 15)
    repeat = args.repeat or (1 if args.quick else 3)
    soak_seconds = args.soak_seconds or (30 if args.quick else 300)
    workers = 2 * (os.cpu_count() or 1) + 1
    results: dict[str, Any] = {"machine": machine(), "mode": "quick" if args.quick else "full"}
    results["started"] = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    results["load_average_start"] = load_average()
    results["config"] = {"workers": workers, "gthread_threads": 2, "wrk": f"-t2 -d{duration}s --latency"}
    instance = Path(tempfile.mkdtemp(prefix="adflux-bench-http-"))
    print(f"machine: {results['machine']}; load average {results['load_average_start']}", flush=True)
    try:
        data = seed(instance, reuse=args.reuse_db)
        token = data.pop("token")
        results["data"] = data
        print(f"data: {data}", flush=True)
        if args.profile:
            results["profile"] = profile_in_process(
                instance,
                token,
                endpoints,
                requests=1000 if args.quick else 3000,
                cache=not args.profile_cache_off,
            )
            for name, prof in results["profile"].items():
                print(
                    f"  in process {name:<10} {prof['us_per_request']} µs/request "
                    f"({prof['cpu_us_per_request']} µs CPU), SQL: {' '.join(prof['sql_per_request'])}",
                    flush=True,
                )
            for name, prof in results["profile"].items():
                print(f"---- {name}")
                print("\n".join(prof["top_tottime"]))
        results["c50"] = {}
        if "ratio" in stages:
            with (
                serving(
                    instance,
                    name="baseline",
                    worker_class="sync",
                    workers=workers,
                    threads=1,
                    app="bench_http:baseline_app()",
                ) as hello_server,
                serving(
                    instance,
                    name="adflux",
                    worker_class="sync",
                    workers=workers,
                    threads=1,
                    extra_env={"ADFLUX_RESPONSE_CACHE_ENTRIES": "0"},
                ) as server,
            ):
                check_endpoints(server.url, token)
                results["ratio"] = measure_ratio(
                    hello_server, server, token, endpoints, duration=duration, rounds=args.rounds or repeat
                )
        if "baseline" in stages:
            with serving(
                instance,
                name="baseline",
                worker_class="sync",
                workers=workers,
                threads=1,
                app="bench_http:baseline_app()",
            ) as server:
                results["c50"]["baseline"] = measure_at_c50(
                    server, None, BASELINE_ENDPOINTS, duration=duration, repeat=repeat
                )
        if "gthread" in stages:
            with serving(
                instance, name="gthread", worker_class="gthread", workers=workers, threads=2
            ) as server:
                check_endpoints(server.url, token)
                results["c50"]["gthread"] = measure_at_c50(
                    server, token, endpoints, duration=duration, repeat=repeat
                )
        if "nocache" in stages and "jobs" in endpoints:
            # The simple way in the same run: every request builds its page from the database.
            with serving(
                instance,
                name="nocache",
                worker_class="sync",
                workers=workers,
                threads=1,
                extra_env={"ADFLUX_RESPONSE_CACHE_ENTRIES": "0"},
            ) as server:
                results["c50"]["sync, cache off"] = measure_at_c50(
                    server, token, {"jobs": ENDPOINTS["jobs"]}, duration=duration, repeat=repeat
                )
        if "churn" in stages and "jobs" in endpoints:
            # The cache under writes: a manager edits a job opening 10 times a second meanwhile.
            with (
                serving(instance, name="churn", worker_class="sync", workers=workers, threads=1) as server,
                job_edits(server.url, token, per_second=10) as edits,
            ):
                results["c50"]["sync, 10 job edits/s"] = measure_at_c50(
                    server, token, {"jobs": ENDPOINTS["jobs"]}, duration=duration, repeat=repeat
                )
                results["c50"]["sync, 10 job edits/s"]["jobs"]["edits"] = dict(edits)
        if stages & {"sync", "load", "soak"}:
            with serving(instance, name="sync", worker_class="sync", workers=workers, threads=1) as server:
                results["response_bytes"] = check_endpoints(server.url, token)
                if "sync" in stages:
                    results["c50"]["sync"] = measure_at_c50(
                        server, token, endpoints, duration=duration, repeat=repeat
                    )
                if "load" in stages:
                    results["max_load"] = find_max_load(server, token, endpoints, duration=duration)
                if "soak" in stages:
                    results["soak"] = soak(server, token, duration=soak_seconds, connections=50)
                results["gunicorn_log"] = server.log_counts()
        results["load_average_end"] = load_average()
    finally:
        if not args.keep_db:
            with contextlib.suppress(Exception):
                drop_database()
        shutil.rmtree(instance, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    print_markdown(results)


def _fmt(r: dict[str, Any] | None) -> str:
    if not r:
        return "–"
    return f"{r['rps']:,.0f} | {r['p50_ms']:.1f} / {r['p99_ms']:.1f} | {r['errors']}"


def print_markdown(results: dict[str, Any]) -> None:
    m = results["machine"]
    print()
    print(
        f"Machine: {m['nproc']} × {m['cpu']}, {m['ram_gib']} GiB RAM, Python {m['python']}, "
        f"PostgreSQL {results['data']['postgresql']}, {m['gunicorn']}, {m['wrk']}; "
        f"load average at start {results['load_average_start']}, at end {results.get('load_average_end')}."
    )
    print()
    if "ratio" in results:
        print("| endpoint (cache off) | share of hello-world req/s at c50, per round | median | p99 ms |")
        print("|---|---|---|---|")
        for name, r in results["ratio"].items():
            shares = ", ".join(f"{x['ratio']:.2f}" for x in r["rounds"])
            print(f"| {name} | {shares} | **{r['median_ratio']:.2f}** | {r['median_p99_ms']} |")
        print()
    print("| server | endpoint | req/s | p50 / p99 ms | errors |")
    print("|---|---|---|---|---|")
    for server, endpoints in results["c50"].items():
        for name, r in endpoints.items():
            print(f"| {server} | {name} | {_fmt(r)} |")
    if "max_load" in results:
        print()
        print("| endpoint | largest load with p99 < 100 ms, 0 errors | req/s | p50 / p99 ms | errors |")
        print("|---|---|---|---|---|")
        for name, found in results["max_load"].items():
            best = found["best"]
            print(f"| {name} | c{best['connections'] if best else '–'} | {_fmt(best)} |")
    if "soak" in results:
        s = results["soak"]
        print()
        print(
            f"Soak {s['duration_s']} s at c{s['connections']}: {s['requests']:,} requests, "
            f"{s['rps']:,.0f} req/s, p50 {s['p50_ms']} ms, p99 {s['p99_ms']} ms, wrk errors {s['errors']} "
            f"(socket {s['socket_errors']}, non-2xx {s['non_2xx']}), access log {s['log']}."
        )


if __name__ == "__main__":
    main()
