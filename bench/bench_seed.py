"""Seeding benchmark: 1,000,000 simulated candidates into PostgreSQL, COPY path vs plain ORM.

Creates its own scratch database (`adflux_bench_seed`) on 127.0.0.1 as user postgres, builds
the schema with `db.create_all()`, then in one run:

1. `seed_database(candidates=N)` (generation + COPY + personas + index rebuild, one
   transaction) `--repeat` times on an emptied table: wall time, rows/s, peak RSS.
2. The plain ORM way for the same rows: `session.add_all(Candidate(...) + CandidatePersona(...))`
   and one commit, on the first `--orm-rows` rows (default 100,000), extrapolated linearly to N.

Usage:
    .venv/bin/python bench/bench_seed.py [--candidates 1000000] [--orm-rows 100000] [--repeat 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import psycopg

from adflux.app import create_app
from adflux.extensions import db
from adflux.models import Candidate, CandidatePersona
from adflux.services.seeding import seed_database
from adflux.settings import Settings
from adflux.simulation import generate_candidates

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
BENCH_DATABASE = "adflux_bench_seed"
SEED = 42

logger = logging.getLogger("bench_seed")


class _PhaseLog(logging.Handler):
    """Collects the seeding service's debug timings (COPY, index rebuild, personas)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=1_000_000)
    parser.add_argument("--orm-rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)

    _recreate_database()
    try:
        results = run(args.candidates, args.orm_rows, args.repeat)
    finally:
        _drop_database()
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        _print(results)


def run(candidates: int, orm_rows: int, repeat: int) -> dict[str, Any]:
    settings = Settings.from_env(
        {},
        env="testing",
        database_url=f"postgresql+psycopg://postgres@127.0.0.1:5432/{BENCH_DATABASE}",
        instance_path=str(Path("/tmp/adflux-bench-seed")),
        secret_key="bench",
    )
    app = create_app(settings)
    phases = _PhaseLog()
    service_logger = logging.getLogger("adflux.services.seeding")
    service_logger.addHandler(phases)
    service_logger.setLevel(logging.DEBUG)
    with app.app_context():
        db.create_all()
        server_version = db.session.execute(db.text("SHOW server_version")).scalar_one()
        db.session.remove()
        rss_before = _peak_rss_mib()

        copy_times: list[float] = []
        server_cpu: list[float] = []
        client_cpu: list[float] = []
        loads: list[float] = []
        phase_runs: list[list[str]] = []
        for attempt in range(repeat):
            _truncate()
            load_before = os.getloadavg()[0]
            phases.messages.clear()
            server_before, client_before = _server_cpu(), _client_cpu()
            started = time.perf_counter()
            result = seed_database(candidates=candidates, jobs=0, seed=SEED)
            elapsed = time.perf_counter() - started
            server_cpu.append(_server_cpu() - server_before)
            client_cpu.append(_client_cpu() - client_before)
            assert result.candidates_inserted == candidates, result
            copy_times.append(elapsed)
            phase_runs.append([m for m in phases.messages if "took" in m or "rebuilt" in m])
            logger.info(
                "seed run %d: %.2f s (%.0f rows/s), CPU server %.2f s / client %.2f s, load before %.2f",
                attempt + 1,
                elapsed,
                candidates / elapsed,
                server_cpu[-1],
                client_cpu[-1],
                load_before,
            )
            loads.append(round(load_before, 2))
        rss_after_copy = _peak_rss_mib()

        _truncate()
        started = time.perf_counter()
        batch = generate_candidates(orm_rows, seed=SEED)
        records = batch.to_records()
        generated = time.perf_counter() - started
        people = [Candidate(**record) for record in records]
        db.session.add_all(people)
        db.session.flush()  # the ORM way to learn the ids the personas need
        db.session.add_all(
            CandidatePersona(candidate_id=person.id, persona=name, persona_index=int(index))
            for person, name, index in zip(people, batch.persona, batch.persona_index, strict=True)
        )
        db.session.commit()
        orm_elapsed = time.perf_counter() - started
        db.session.remove()
        logger.info("ORM add_all of %d rows: %.2f s (generation %.2f s)", orm_rows, orm_elapsed, generated)
        _truncate()

    copy_median = statistics.median(copy_times)
    orm_rate = orm_rows / orm_elapsed
    return {
        "candidates": candidates,
        "copy_seconds": [round(t, 2) for t in copy_times],
        "copy_median_seconds": round(copy_median, 2),
        "copy_rows_per_second": round(candidates / copy_median),
        "copy_phases": phase_runs,
        # CPU seconds do not stretch when other work shares the machine; wall time does.
        "copy_server_cpu_seconds": [round(t, 2) for t in server_cpu],
        "copy_client_cpu_seconds": [round(t, 2) for t in client_cpu],
        "load_average_before_runs": loads,
        "peak_rss_mib_before_seeding": round(rss_before),
        "peak_rss_mib_after_seeding": round(rss_after_copy),
        "orm_rows": orm_rows,
        "orm_seconds": round(orm_elapsed, 2),
        "orm_generation_seconds": round(generated, 2),
        "orm_rows_per_second": round(orm_rate),
        "orm_extrapolated_seconds": round(candidates / orm_rate, 1),
        "speedup": round((candidates / orm_rate) / copy_median, 1),
        "machine": _machine(server_version),
    }


def _truncate() -> None:
    with db.engine.begin() as conn:
        conn.execute(
            db.text("TRUNCATE candidates, candidate_personas, job_openings RESTART IDENTITY CASCADE")
        )
        conn.execute(db.text("CHECKPOINT"))  # start every run from the same WAL state


def _server_cpu() -> float:
    """CPU seconds used so far by the PostgreSQL backends serving the bench database.

    The pool keeps its connections open, so the backend that ran the COPY is still there after
    the seed and its /proc counters cover the run (server and bench share this machine).
    """
    rows = db.session.execute(
        db.text("SELECT pid FROM pg_stat_activity WHERE datname = :name"),
        {"name": BENCH_DATABASE},
    ).scalars()
    db.session.remove()
    total = 0.0
    for pid in rows:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _client_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def _machine(server_version: str) -> dict[str, Any]:
    cpu = "unknown"
    memory_gib = 0.0
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory_gib = int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    import numpy
    import pyarrow

    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gib": round(memory_gib, 1),
        "postgresql": server_version,
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "pyarrow": pyarrow.__version__,
        "psycopg": psycopg.__version__,
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
    }


def _recreate_database() -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {BENCH_DATABASE}")


def _drop_database() -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)")


def _print(r: dict[str, Any]) -> None:
    m = r["machine"]
    print(f"machine: {m['nproc']} × {m['cpu']}, {m['ram_gib']} GiB RAM, PostgreSQL {m['postgresql']}")
    print(f"seed_database, {r['candidates']:,} candidates: {r['copy_seconds']} s")
    print(f"  median {r['copy_median_seconds']} s = {r['copy_rows_per_second']:,} rows/s")
    print(f"  CPU seconds: server {r['copy_server_cpu_seconds']}, client {r['copy_client_cpu_seconds']}")
    print(f"  load average before each run: {r['load_average_before_runs']}")
    for phases in r["copy_phases"]:
        print("  phases:", "; ".join(phases))
    rss_before, rss_after = r["peak_rss_mib_before_seeding"], r["peak_rss_mib_after_seeding"]
    print(f"  peak RSS {rss_after} MiB (before seeding {rss_before} MiB)")
    print(
        f"ORM add_all, {r['orm_rows']:,} rows: {r['orm_seconds']} s = {r['orm_rows_per_second']:,} rows/s"
        f" -> {r['candidates']:,} rows ≈ {r['orm_extrapolated_seconds']} s (extrapolated)"
    )
    print(f"COPY path is {r['speedup']}× faster")
    print(f"load average at end: {m['load_average_at_end']}")


if __name__ == "__main__":
    main()
