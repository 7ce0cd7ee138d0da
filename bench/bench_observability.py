"""Overhead of the metrics and logging middleware per request, with and without, under load.

Two measurements, each for two endpoints — `/healthz` (no database: the middleware is most of the
work) and `GET /api/v1/jobs?page_size=20` with a bearer token (token lookup, a query, JSON):

1. In process: the Flask test client in a tight loop, "off" (ADFLUX_METRICS_ENABLED=false,
   ADFLUX_ACCESS_LOG=false) against "on" (both on, JSON log lines written to a file). Gives the
   overhead in microseconds per request without HTTP or scheduling noise.
2. Under load: gunicorn with `gunicorn.conf.py` (2 workers × 2 threads, multiprocess metrics)
   on 127.0.0.1, driven by wrk (or a threaded httpx load generator when wrk is not installed):
   requests per second and latency percentiles, off against on.

Run: .venv/bin/python bench/bench_observability.py [--requests 5000] [--duration 10] [--connections 16]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
JOBS_PATH = "/api/v1/jobs?page_size=20"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _environment(instance: Path, *, observed: bool) -> dict[str, str]:
    """Environment for one variant; both use production settings and the same database."""
    env = dict(os.environ)
    for key in list(env):
        if key.startswith(("ADFLUX_", "PROMETHEUS_")) or key in ("DATABASE_URL", "CELERY_BROKER_URL"):
            env.pop(key)
    env.update(
        {
            "ADFLUX_ENV": "production",
            "SECRET_KEY": "bench-secret-key-0123456789abcdef",
            "ADFLUX_ENCRYPTION_KEY": "bench-encryption-passphrase-0123456789",
            "ADFLUX_INSTANCE_PATH": str(instance),
            "DATABASE_URL": f"sqlite:///{instance / 'bench.db'}",
            "LOG_LEVEL": "INFO",
            "LOG_FORMAT": "json",
            # One token drives thousands of requests a second: the per-token limit (on by default,
            # 1,200 a minute) would answer 429 and measure the limiter, not the endpoints.
            "ADFLUX_API_RATE_LIMIT_PER_MINUTE": "0",
            "ADFLUX_METRICS_ENABLED": "true" if observed else "false",
            "ADFLUX_ACCESS_LOG": "true" if observed else "false",
        }
    )
    return env


def _seed(instance: Path) -> str:
    """Create the schema, 200 job openings and a viewer token; return the token."""
    env = _environment(instance, observed=False)
    script = """
import sys
from adflux.app import create_app
from adflux.extensions import db
from adflux.models import ApiToken, JobOpening, User
from adflux.services.auth import hash_token
app = create_app()
with app.app_context():
    db.create_all()
    for n in range(200):
        db.session.add(JobOpening(external_ref=f"BENCH-{n}", title=f"Cargo {n}", company="Acme",
            city="Bogotá", department="Bogotá D.C.", category="tecnologia", modality="remoto",
            apply_url=f"https://e.co/{n}"))
    user = User(email="bench@adflux.local", name="bench", role="viewer")
    db.session.add(user); db.session.flush()
    token = "adf_bench001_" + "x" * 32
    db.session.add(ApiToken(user_id=user.id, name="bench", prefix="bench001", token_hash=hash_token(token)))
    db.session.commit()
print(token)
"""
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    return out.stdout.strip().splitlines()[-1]


# ---- 1. in process ---------------------------------------------------------------------------------

IN_PROCESS = """
import json, logging, statistics, sys, time
from adflux.app import create_app
path, token, n, log_file = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
app = create_app()
# Production logging writes to stderr; send it to a file so the cost of writing lines counts.
root = logging.getLogger()
for handler in root.handlers:
    if getattr(handler, "_adflux", False):
        handler.setStream(open(log_file, "a"))
client = app.test_client()
headers = {"Authorization": f"Bearer {token}"}
for _ in range(200):
    client.get(path, headers=headers)
rounds, cpu_rounds = [], []
for _ in range(10):
    started, cpu_started = time.perf_counter(), time.process_time()
    for _ in range(n // 10):
        assert client.get(path, headers=headers).status_code == 200
    rounds.append((time.perf_counter() - started) / (n // 10) * 1e6)
    cpu_rounds.append((time.process_time() - cpu_started) / (n // 10) * 1e6)
# The fastest round is the cost with the least interference from other work on the machine;
# CPU time is what the requests themselves burned, whatever else the machine was doing.
print(json.dumps({"us_per_request": min(rounds), "cpu_us_per_request": min(cpu_rounds)}))
"""


def in_process(instance: Path, token: str, path: str, *, observed: bool, requests: int) -> dict[str, float]:
    env = _environment(instance, observed=observed)
    log_file = instance / f"inproc-{'on' if observed else 'off'}.log"
    out = subprocess.run(
        [sys.executable, "-c", IN_PROCESS, path, token, str(requests), str(log_file)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


# ---- 1b. the parts, one at a time ---------------------------------------------------------------------


def components(n: int = 20_000) -> dict[str, float]:
    """CPU microseconds per call of each piece the middleware adds (tight loops, no HTTP)."""
    import io
    import logging

    from adflux.monitoring import logs, prometheus, request_stats  # noqa: F401

    handler = logging.StreamHandler(io.StringIO())
    handler.setFormatter(logs.JsonFormatter())
    logs.install_filters(handler)
    access = logging.getLogger("bench.access")
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    access.propagate = False
    extra = {
        "method": "GET",
        "route": "/api/v1/jobs/<int:job_id>",
        "status": 200,
        "duration_ms": 3.2,
        "user_id": 7,
        "user_role": "viewer",
    }

    def per_call(fn: Any) -> float:
        started = time.process_time()
        for _ in range(n):
            fn()
        return (time.process_time() - started) / n * 1e6

    return {
        "access_log_line_json_redacted": per_call(
            lambda: access.info("%s %s %s", "GET", "/api/v1/jobs/12", 200, extra=extra)
        ),
        "http_metrics_update": per_call(
            lambda: (
                prometheus._child(prometheus.HTTP_REQUESTS, "GET", "/r", "200").inc(),
                prometheus._child(prometheus.HTTP_LATENCY, "GET", "/r").observe(0.01),
            )
        ),
        "sql_statement_hook": per_call(
            lambda: prometheus._child(
                prometheus.DB_QUERY_DURATION, prometheus.statement_operation("SELECT 1")
            ).observe(0.001)
        ),
    }


# ---- 2. under load ---------------------------------------------------------------------------------


class Server:
    """gunicorn with the repository's gunicorn.conf.py on a free loopback port."""

    def __init__(self, instance: Path, *, observed: bool, workers: int, threads: int) -> None:
        self.port = _free_port()
        env = _environment(instance, observed=observed)
        metrics_dir = instance / f"prom-{'on' if observed else 'off'}"
        env.update(
            {
                "GUNICORN_BIND": f"127.0.0.1:{self.port}",
                "GUNICORN_WORKERS": str(workers),
                "GUNICORN_THREADS": str(threads),
                # No worker recycling mid-run: a recycled worker takes its CPU time with it.
                "GUNICORN_MAX_REQUESTS": "0",
                "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
            }
        )
        self.log = (instance / f"gunicorn-{'on' if observed else 'off'}.log").open("w")
        self.proc = subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), "-c", str(REPO / "gunicorn.conf.py"), "adflux.app:create_app()"],
            env=env,
            cwd=instance,
            stdout=self.log,
            stderr=self.log,
            start_new_session=True,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 120  # a loaded machine boots slowly
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("gunicorn did not start; see " + self.log.name)

    def cpu_seconds(self) -> float:
        """User + system CPU of gunicorn's master and workers (its process group), from /proc."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            # After "(comm)": state ppid pgrp ... utime stime are fields 14 and 15 of proc(5).
            if int(fields[2]) == self.proc.pid:
                total += int(fields[11]) + int(fields[12])
        return total / ticks

    def stop(self) -> None:
        os.killpg(self.proc.pid, signal.SIGTERM)
        self.proc.wait(timeout=30)
        self.log.close()


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s)", text.strip())
    if not match:
        raise ValueError(text)
    return float(match.group(1)) * _UNITS[match.group(2)]


def wrk(url: str, token: str, *, duration: int, connections: int, threads: int) -> dict[str, float]:
    out = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{duration}s",
            "--latency",
            "-H",
            f"Authorization: Bearer {token}",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    requests = float(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    percentiles = {p: _ms(v) for p, v in re.findall(r"^\s+(50|90|99)%\s+(\S+)", out, re.MULTILINE)}
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {
        "requests": requests,
        "rps": rps,
        "p50_ms": percentiles.get("50", 0.0),
        "p90_ms": percentiles.get("90", 0.0),
        "p99_ms": percentiles.get("99", 0.0),
        "errors": float(non_2xx.group(1)) if non_2xx else 0.0,
    }


def httpx_load(url: str, token: str, *, duration: int, connections: int, threads: int) -> dict[str, float]:
    """Fallback load generator: `connections` threads each with a keep-alive client."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    stop_at = time.monotonic() + duration

    def run() -> None:
        nonlocal errors
        local: list[float] = []
        bad = 0
        with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=10) as client:
            while time.monotonic() < stop_at:
                started = time.perf_counter()
                if client.get(url).status_code != 200:
                    bad += 1
                local.append((time.perf_counter() - started) * 1000)
        with lock:
            latencies.extend(local)
            errors += bad

    workers = [threading.Thread(target=run) for _ in range(connections)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(len(latencies) * p))]

    return {
        "requests": float(len(latencies)),
        "rps": len(latencies) / duration,
        "p50_ms": pct(0.5),
        "p90_ms": pct(0.9),
        "p99_ms": pct(0.99),
        "errors": float(errors),
    }


def machine() -> dict[str, Any]:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kib / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return {
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "memory": memory,
        "os": platform.platform(),
        "python": platform.python_version(),
        "load_generator": "wrk" if shutil.which("wrk") else "httpx threads",
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=5000, help="in-process requests per variant")
    parser.add_argument("--duration", type=int, default=5, help="seconds of load per run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=5, help="alternate off/on this many times")
    args = parser.parse_args()

    instance = Path(tempfile.mkdtemp(prefix="adflux-bench-obs-"))
    token = _seed(instance)
    results: dict[str, Any] = {"machine": machine(), "in_process": {}, "load": {}}
    for label, path in (("healthz", "/healthz"), ("jobs", JOBS_PATH)):
        samples: dict[str, list[dict[str, float]]] = {"off": [], "on": []}
        for _ in range(args.repeat):
            for variant in ("off", "on"):
                samples[variant].append(
                    in_process(instance, token, path, observed=variant == "on", requests=args.requests)
                )
        best = {v: {k: min(r[k] for r in rs) for k in rs[0]} for v, rs in samples.items()}
        off, on = best["off"], best["on"]
        results["in_process"][label] = {
            "off_us": off["us_per_request"],
            "on_us": on["us_per_request"],
            "off_cpu_us": off["cpu_us_per_request"],
            "on_cpu_us": on["cpu_us_per_request"],
            "cpu_overhead_us": on["cpu_us_per_request"] - off["cpu_us_per_request"],
        }
        print(
            f"in-process {label}: wall off {off['us_per_request']:.0f} µs on {on['us_per_request']:.0f} µs; "
            f"CPU off {off['cpu_us_per_request']:.0f} µs on {on['cpu_us_per_request']:.0f} µs "
            f"(overhead {on['cpu_us_per_request'] - off['cpu_us_per_request']:.0f} µs)",
            flush=True,
        )

    results["components_cpu_us"] = parts = components()
    print("components (CPU µs per call): " + ", ".join(f"{k} {v:.1f}" for k, v in parts.items()), flush=True)

    load = wrk if shutil.which("wrk") else httpx_load
    for label, path in (("healthz", "/healthz"), ("jobs", JOBS_PATH)):
        runs: dict[str, list[dict[str, float]]] = {"off": [], "on": []}
        for _ in range(args.repeat):
            for variant in ("off", "on"):  # alternate, so drift on the machine hits both
                server = Server(
                    instance, observed=variant == "on", workers=args.workers, threads=args.threads
                )
                try:
                    load(
                        server.url + path, token, duration=2, connections=args.connections, threads=2
                    )  # warm-up
                    cpu_before = server.cpu_seconds()
                    run = load(
                        server.url + path,
                        token,
                        duration=args.duration,
                        connections=args.connections,
                        threads=2,
                    )
                    run["server_cpu_us_per_request"] = (
                        (server.cpu_seconds() - cpu_before) / run["requests"] * 1e6
                    )
                    runs[variant].append(run)
                finally:
                    server.stop()
        # On a shared machine other work slows some runs down; the best run of each variant is
        # the closest to an unloaded machine, the median says what a typical run saw.
        best_of = {"rps": max, "requests": max}
        summary = {
            variant: {
                "median": {key: statistics.median(r[key] for r in rs) for key in rs[0]},
                "best": {key: best_of.get(key, min)(r[key] for r in rs) for key in rs[0]},
                "runs": rs,
            }
            for variant, rs in runs.items()
        }
        results["load"][label] = summary
        for kind in ("best", "median"):
            off, on = summary["off"][kind], summary["on"][kind]
            print(
                f"load {label} ({kind} of {args.repeat}): off {off['rps']:.0f} req/s "
                f"p50 {off['p50_ms']:.2f} ms p99 {off['p99_ms']:.2f} ms; "
                f"on {on['rps']:.0f} req/s p50 {on['p50_ms']:.2f} ms p99 {on['p99_ms']:.2f} ms "
                f"({(on['rps'] / off['rps'] - 1) * 100:+.1f} % throughput); server CPU per request "
                f"off {off['server_cpu_us_per_request']:.0f} µs, on {on['server_cpu_us_per_request']:.0f} µs",
                flush=True,
            )
    print(json.dumps(results, indent=2))
    shutil.rmtree(instance, ignore_errors=True)


if __name__ == "__main__":
    main()
