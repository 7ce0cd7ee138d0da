"""What one API list request costs the machine: app CPU plus PostgreSQL CPU, two source trees A/B.

The ratio stage of bench_http.py divides req/s by the same run's hello-world; on a machine at
load 20-50 (other engineers' suites) those req/s are a few dozen and wrk times out. This bench
measures what throughput on a quiet machine is made of, the CPU each request costs, and it
counts PostgreSQL's share too (the backends serving this bench's connections, read from /proc),
which in-process timing alone misses.

For each source tree (``--source`` twice: before and after), in alternating rounds, a child
process serves the endpoints with the Flask test client in production settings (response cache
off, as in the ratio stage; JSON access log written to /dev/null) and reports per request:
process CPU, the PostgreSQL backends' CPU, SQL statements, and a hash of each answer (the
answers must be byte-identical between the trees).

Run (against bench_http.py's database, kept with --keep-db):
    BENCH_HTTP_DATABASE=adflux_bench_http .venv/bin/python bench/bench_api_cost.py \\
        --source before=/tmp/before/src --source after=src [--rounds 3] [--requests 300]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
DATABASE = os.environ.get("BENCH_HTTP_DATABASE", "adflux_bench_http")
ENDPOINTS = {
    "jobs": "/api/v1/jobs",
    "campaigns": "/api/v1/campaigns",
    "candidates": "/api/v1/candidates",
    "report": "/api/v1/reports/performance",
}
TICKS = os.sysconf("SC_CLK_TCK")
APP_NAME = "bench_api_cost"


def _backend_cpu(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / TICKS
    return total


def child(requests: int) -> None:
    """Runs in the served tree: per-request costs of each endpoint, as one JSON line."""
    import logging
    import time

    from sqlalchemy import event, select, text
    from sqlalchemy.engine import Engine

    from adflux.app import create_app
    from adflux.extensions import db
    from adflux.models import User
    from adflux.services import auth as auth_service

    app = create_app()
    sink = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process
    for handler in logging.getLogger().handlers:
        if getattr(handler, "_adflux", False):
            handler.setStream(sink)  # type: ignore[attr-defined]
    with app.app_context():
        admin = db.session.scalars(select(User).where(User.role == "admin")).first()
        token = auth_service.issue_token(user_id=admin.id, name="bench_api_cost", expires_in_days=1).secret
        db.session.commit()
    statements: list[str] = []
    event.listen(Engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    out: dict[str, Any] = {}
    for name, path in ENDPOINTS.items():
        for _ in range(50):  # warm: statement caches, prepared statements, the token cache
            body = client.get(path, headers=headers).get_data()
        with app.app_context():
            pids = [
                row[0]
                for row in db.session.execute(
                    text("SELECT pid FROM pg_stat_activity WHERE application_name = :name"),
                    {"name": APP_NAME},
                )
            ]
            db.session.remove()
        statements.clear()
        client.get(path, headers=headers)
        sql = len(statements)
        pg0, cpu0, wall0 = _backend_cpu(pids), time.process_time(), time.perf_counter()
        for _ in range(requests):
            client.get(path, headers=headers)
        cpu, wall, pg = time.process_time() - cpu0, time.perf_counter() - wall0, _backend_cpu(pids) - pg0
        out[name] = {
            "app_cpu_us": round(cpu / requests * 1e6),
            "pg_cpu_us": round(pg / requests * 1e6),
            "wall_us": round(wall / requests * 1e6),
            "sql": sql,
            "body_sha1": hashlib.sha1(body).hexdigest()[:12],
            "bytes": len(body),
        }
    print(json.dumps(out))


def run_tree(source: str, requests: int) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ADFLUX_", "PROMETHEUS_"))}
    env.update(
        {
            "ADFLUX_ENV": "production",
            "SECRET_KEY": "bench-api-cost-secret-key-0b8e2f6d1c",
            "ADFLUX_ENCRYPTION_KEY": "bench-api-cost-encryption-passphrase-77",
            # Named, so only this child's PostgreSQL backends are counted.
            "DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:5432/{DATABASE}?application_name={APP_NAME}",
            "LOG_LEVEL": "INFO",
            "LOG_FORMAT": "json",
            "ADFLUX_API_RATE_LIMIT_PER_MINUTE": "0",
            "ADFLUX_RESPONSE_CACHE_ENTRIES": "0",
            "PYTHONPATH": os.pathsep.join([source, str(BENCH_DIR)]),
        }
    )
    prometheus = Path(f"/tmp/bench-api-cost-prometheus-{os.getpid()}")
    prometheus.mkdir(exist_ok=True)
    env["PROMETHEUS_MULTIPROC_DIR"] = str(prometheus)
    done = subprocess.run(
        [sys.executable, "-c", f"import bench_api_cost; bench_api_cost.child({requests})"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", action="append", required=True, help="name=path/to/src (twice)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    trees = dict(item.split("=", 1) for item in args.source)
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in trees}
    for number in range(1, args.rounds + 1):
        order = list(trees) if number % 2 else list(reversed(trees))  # alternate who goes first
        for name in order:
            load = os.getloadavg()[0]
            measured = run_tree(trees[name], args.requests)
            results[name].append(measured)
            line = ", ".join(
                f"{e} {m['app_cpu_us']}+{m['pg_cpu_us']} µs ({m['sql']} SQL)" for e, m in measured.items()
            )
            print(
                f"round {number} {name:<8} load {load:.1f}: app+PostgreSQL CPU per request: {line}",
                flush=True,
            )
    names = list(trees)
    print()
    print(f"| endpoint | {' | '.join(f'{n}: app + PostgreSQL CPU µs' for n in names)} | SQL | same bytes |")
    print("|---|" + "---|" * len(names) + "---|---|")
    for endpoint in ENDPOINTS:
        cells, sql, hashes = [], [], set()
        for name in names:
            runs = results[name]
            app = sorted(r[endpoint]["app_cpu_us"] for r in runs)[len(runs) // 2]
            pg = sorted(r[endpoint]["pg_cpu_us"] for r in runs)[len(runs) // 2]
            cells.append(f"{app:,} + {pg:,} = **{app + pg:,}**")
            sql.append(str(runs[0][endpoint]["sql"]))
            hashes.update(r[endpoint]["body_sha1"] for r in runs)
        same = "yes" if len(hashes) == 1 else "NO"
        print("| " + " | ".join([endpoint, *cells, " → ".join(sql), same]) + " |")


if __name__ == "__main__":
    main()
