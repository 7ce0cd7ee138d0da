"""Seeding benchmark: 1,000,000 simulated candidates into PostgreSQL, COPY path vs plain ORM.

Creates its own scratch database (`adflux_bench_seed`) on 127.0.0.1, owned by an ordinary
role (`adflux_bench_app`, not a superuser, so foreign keys are kept as in production: the
service, owning the tables, sets the personas' key aside during a bulk COPY and validates it once
after), builds the schema with `db.create_all()` as that role, then `--repeat` rounds, alternating
the two (and which goes first) every round:

1. `seed_database(candidates=N)` (generation + COPY + personas + index rebuild, one
   transaction) on an emptied table: wall time, rows/s, CPU, peak RSS;
2. the plain ORM way for the same rows: `session.add_all(Candidate(...) + CandidatePersona(...))`
   and one commit, on the first `--orm-rows` rows (default 100,000), extrapolated linearly to N.

After each, the rows in `candidates` and `candidate_personas` are counted (not the service's
return value); a shortfall stops the run, and so do a foreign-key trigger switched off or a
persona without its candidate (counted). The figure is the ratio per round, with the load average.

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
APP_ROLE = "adflux_bench_app"  # an ordinary role, as in production
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
        # As deployed: an ordinary role that owns the database, so the foreign keys hold (a
        # superuser's seed would skip their triggers with session_replication_role).
        database_url=f"postgresql+psycopg://{APP_ROLE}@127.0.0.1:5432/{BENCH_DATABASE}",
        instance_path=str(Path("/tmp/adflux-bench-seed")),
        secret_key="bench",
    )
    app = create_app(settings)
    phases = _PhaseLog()
    for name in ("adflux.services.seeding", "adflux.services.bulk_foreign_keys"):
        service_logger = logging.getLogger(name)
        service_logger.addHandler(phases)
        service_logger.setLevel(logging.DEBUG)
    with app.app_context():
        db.create_all()
        server_version = db.session.execute(db.text("SHOW server_version")).scalar_one()
        superuser = db.session.execute(
            db.text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        ).scalar_one()
        db.session.remove()
        rss_before = _peak_rss_mib()
        rounds = []
        # The service and the ORM way alternate every round (and which goes first), each on an
        # emptied table.
        for attempt in range(repeat):
            if attempt % 2 == 0:
                copy = _copy_round(candidates, phases)
                orm = _orm_round(orm_rows)
            else:
                orm = _orm_round(orm_rows)
                copy = _copy_round(candidates, phases)
            extrapolated = orm["seconds"] * candidates / orm_rows
            first = "service" if attempt % 2 == 0 else "ORM"
            ratio = round(extrapolated / copy["seconds"], 1)
            rounds.append({"first": first, "copy": copy, "orm": orm, "ratio": ratio})
            logger.info(
                "round %d: service %.2f s (%d rows counted), ORM %d rows %.2f s (%d counted) -> %.1f s "
                "for all; ratio %.1fx; load %.2f",
                attempt + 1,
                copy["seconds"],
                copy["rows_counted"],
                orm_rows,
                orm["seconds"],
                orm["rows_counted"],
                extrapolated,
                rounds[-1]["ratio"],
                copy["load_before"],
            )
        rss_after_copy = _peak_rss_mib()
        _truncate()

    copy_median = statistics.median(r["copy"]["seconds"] for r in rounds)
    orm_median = statistics.median(r["orm"]["seconds"] for r in rounds)
    return {
        "candidates": candidates,
        "role": {"name": APP_ROLE, "superuser": superuser},
        "rounds": rounds,
        "ratios": [r["ratio"] for r in rounds],
        "copy_median_seconds": round(copy_median, 2),
        "copy_rows_per_second": round(candidates / copy_median),
        "peak_rss_mib_before_seeding": round(rss_before),
        "peak_rss_mib_after_seeding": round(rss_after_copy),
        "orm_rows": orm_rows,
        "orm_median_seconds": round(orm_median, 2),
        "orm_extrapolated_seconds": round(orm_median * candidates / orm_rows, 1),
        "machine": _machine(server_version),
    }


def _copy_round(candidates: int, phases: _PhaseLog) -> dict[str, Any]:
    """`seed_database` as the CLI runs it, on an emptied table; the rows it left, counted."""
    _truncate()
    load_before = os.getloadavg()[0]
    phases.messages.clear()
    server_before, client_before = _server_cpu(), _client_cpu()
    started = time.perf_counter()
    seed_database(candidates=candidates, jobs=0, seed=SEED)
    elapsed = time.perf_counter() - started
    counted = _count_rows()
    if counted != {"candidates": candidates, "candidate_personas": candidates}:
        raise SystemExit(f"the seed left {counted}, not {candidates:,} of each")
    keys = _foreign_keys()
    if keys["orphan_personas"] or not keys["fk_triggers_enabled"]:
        raise SystemExit(f"foreign keys not kept: {keys}")
    return {
        "seconds": round(elapsed, 2),
        "rows_per_second": round(candidates / elapsed),
        "rows_counted": counted["candidates"],
        # CPU seconds do not stretch when other work shares the machine; wall time does.
        "server_cpu_seconds": round(_server_cpu() - server_before, 2),
        "client_cpu_seconds": round(_client_cpu() - client_before, 2),
        "load_before": round(load_before, 2),
        **keys,
        "phases": [m for m in phases.messages if "took" in m or "rebuilt" in m or "validated" in m],
    }


def _orm_round(orm_rows: int) -> dict[str, Any]:
    """The plain ORM way for the first `orm_rows` rows: add_all, flush for ids, personas, commit."""
    _truncate()
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    batch = generate_candidates(orm_rows, seed=SEED)
    people = [Candidate(**record) for record in batch.to_records()]
    db.session.add_all(people)
    db.session.flush()  # the ORM way to learn the ids the personas need
    db.session.add_all(
        CandidatePersona(candidate_id=person.id, persona=name, persona_index=int(index))
        for person, name, index in zip(people, batch.persona, batch.persona_index, strict=True)
    )
    db.session.commit()
    elapsed = time.perf_counter() - started
    db.session.remove()
    counted = _count_rows()
    if counted != {"candidates": orm_rows, "candidate_personas": orm_rows}:
        raise SystemExit(f"the ORM way left {counted}, not {orm_rows:,} of each")
    return {
        "seconds": round(elapsed, 2),
        "rows_counted": counted["candidates"],
        "load_before": round(load_before, 2),
    }


def _foreign_keys() -> dict[str, int]:
    """The personas' foreign key as the seed left it: its triggers enabled (the role could not
    switch them off) and no persona without its candidate, counted."""
    with db.engine.connect() as conn:
        enabled = conn.execute(
            db.text(
                "SELECT count(*) FROM pg_trigger t JOIN pg_constraint c ON c.oid = t.tgconstraint "
                "WHERE c.contype = 'f' AND c.conrelid = 'candidate_personas'::regclass "
                "AND t.tgenabled = 'O'"
            )
        ).scalar_one()
        orphans = conn.execute(
            db.text(
                "SELECT count(*) FROM candidate_personas p "
                "WHERE NOT EXISTS (SELECT 1 FROM candidates c WHERE c.id = p.candidate_id)"
            )
        ).scalar_one()
    return {"fk_triggers_enabled": int(enabled), "orphan_personas": int(orphans)}


def _count_rows() -> dict[str, int]:
    with db.engine.connect() as conn:
        return {
            table: int(conn.execute(db.text(f"SELECT count(*) FROM {table}")).scalar_one())
            for table in ("candidates", "candidate_personas")
        }


def _truncate() -> None:
    with db.engine.begin() as conn:
        conn.execute(
            db.text("TRUNCATE candidates, candidate_personas, job_openings RESTART IDENTITY CASCADE")
        )
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute("CHECKPOINT")  # start every run from the same WAL state (the admin's right)


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
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (APP_ROLE,)).fetchone()
        if not exists:
            conn.execute(f"CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER")
        conn.execute(f"CREATE DATABASE {BENCH_DATABASE} OWNER {APP_ROLE}")


def _drop_database() -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)")


def _print(r: dict[str, Any]) -> None:
    m = r["machine"]
    print(f"machine: {m['nproc']} × {m['cpu']}, {m['ram_gib']} GiB RAM, PostgreSQL {m['postgresql']}")
    role = r["role"]
    print(f"role: {role['name']} (superuser: {role['superuser']}); {r['candidates']:,} candidates")
    print(f"same-run ratio per round (ORM extrapolated / service): {r['ratios']}")
    for number, one in enumerate(r["rounds"], 1):
        copy, orm = one["copy"], one["orm"]
        print(
            f"  round {number} ({one['first']} first; load {copy['load_before']} / ORM "
            f"{orm['load_before']}): FK triggers on {copy['fk_triggers_enabled']}, orphans "
            f"{copy['orphan_personas']}; service {copy['seconds']} s = "
            f"{copy['rows_per_second']:,} rows/s, {copy['rows_counted']:,} rows counted, CPU server "
            f"{copy['server_cpu_seconds']} s / client {copy['client_cpu_seconds']} s; ORM "
            f"{r['orm_rows']:,} rows {orm['seconds']} s ({orm['rows_counted']:,} counted)"
        )
        print("    phases:", "; ".join(copy["phases"]))
    print(
        f"median: service {r['copy_median_seconds']} s ({r['copy_rows_per_second']:,} rows/s); ORM "
        f"{r['orm_median_seconds']} s for {r['orm_rows']:,} rows"
        f" -> ≈ {r['orm_extrapolated_seconds']} s for all"
    )
    rss_before, rss_after = r["peak_rss_mib_before_seeding"], r["peak_rss_mib_after_seeding"]
    print(f"peak RSS {rss_after} MiB (before seeding {rss_before} MiB)")
    print(f"load average at end: {m['load_average_at_end']}")


if __name__ == "__main__":
    main()
