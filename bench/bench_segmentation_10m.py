"""Segmentation at 10,000,000 candidates through the CLI (issue 25 item 5), and 1M in-memory vs streamed.

Production conditions as in bench_segmentation_production.py (issue 26 item 6): a LOGIN NOSUPERUSER
role `adflux_bench_h25s` owns the databases and builds the schema with `adflux db upgrade` (every
foreign key is there); the candidates are seeded once with `adflux seed --persona-mix MIX` (as
`postgres`, not timed) into `adflux_h25s_10m` and `adflux_h25s_1m`, which are KEPT and reused.

Every run is `adflux --json train-segments --k-min 2 --k-max 12 --force --seed R` in a fresh process
with DATABASE_URL naming the role; `ADFLUX_SEGMENTATION_STREAMING_ROWS` picks the path (0: in
memory; 1: streamed). Measured: wall time and peak RSS of the process (wait4), the load average
before it, the model's stage timings; afterwards (not timed) the assignment rows of the new version
are counted against the candidates and the persona ARI over EVERY candidate is computed from a
contingency table the database groups (the model records its ARI on the training sample). Before
each run the assignments of all but the active version are deleted (as the monthly retrain's
`prune_assignments` would, down to one), so each write validates its keys over the same table.

Each round alternates at 1M the in-memory and the streamed path (and which goes first), then runs
10M streamed. The same-run ratio is in-memory ÷ streamed wall at 1M (medians).

    PYTHONPATH=src .venv/bin/python bench/bench_segmentation_10m.py [--rounds 2] [--skip-10m] [--json]
        [--prefix adflux_h25w]   # databases <prefix>_1m / <prefix>_10m (a helper's own copies)

On a partitioned candidate_segments (migration 0033) the prune before each run drops the old
versions' partitions (what `prune_assignments` does now) instead of deleting their rows.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import psycopg

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
ROLE = "adflux_bench_h25s"
DATABASES = {"adflux_h25s_1m": 1_000_000, "adflux_h25s_10m": 10_000_000}
SEED = 42
ADFLUX = shutil.which("adflux") or str(Path(sys.executable).with_name("adflux"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--mix", default="colombia")
    parser.add_argument("--skip-10m", action="store_true")
    parser.add_argument("--skip-1m", action="store_true")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--prefix", default="adflux_h25s", help="database names: PREFIX_1m, PREFIX_10m")
    args = parser.parse_args()
    if args.prefix != "adflux_h25s":
        DATABASES.clear()
        DATABASES.update({f"{args.prefix}_1m": 1_000_000, f"{args.prefix}_10m": 10_000_000})
    small, big = DATABASES
    _role()
    seeding = {
        name: _prepare(name, n, args.mix)
        for name, n in DATABASES.items()
        if not (args.skip_1m and n == 1_000_000) and not (args.skip_10m and n == 10_000_000)
    }
    runs: list[dict[str, Any]] = []
    for r in range(args.rounds):
        order = ["memory", "streamed"] if r % 2 == 0 else ["streamed", "memory"]
        if not args.skip_1m:
            for path in order:
                runs.append(_run(small, path, r))
                _show(runs[-1])
        if not args.skip_10m:
            runs.append(_run(big, "streamed", r))
            _show(runs[-1])
    summary = _summary(runs, seeding)
    print(json.dumps(summary, indent=2) if args.json else _table(summary))


# ---- set-up ---------------------------------------------------------------------------------
def _role() -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (ROLE,)).fetchone():
            conn.execute(f"CREATE ROLE {ROLE} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE")


def _url(database: str, role: str = ROLE, driver: str = "postgresql+psycopg") -> str:
    return f"{driver}://{role}@127.0.0.1:5432/{database}"


def _env(database: str, role: str = ROLE, **extra: str) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": _url(database, role), "LOG_LEVEL": "WARNING", **extra}


def _prepare(database: str, candidates: int, mix: str) -> dict[str, Any]:
    """Reuse the kept database when it holds the candidates; else create, migrate and seed it."""
    if _scalar(database, "SELECT count(*) FROM candidates") == candidates:
        return {"reused": True, "candidates": candidates}
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {database} OWNER {ROLE}")
    subprocess.run([ADFLUX, "db", "upgrade"], env=_env(database), check=True, capture_output=True)
    started = time.perf_counter()
    seed = [ADFLUX, "seed", "--candidates", str(candidates), "--jobs", "0", "--seed", str(SEED)]
    subprocess.run(
        [*seed, "--persona-mix", mix], env=_env(database, "postgres"), check=True, capture_output=True
    )
    seconds = time.perf_counter() - started
    with psycopg.connect(_url(database, "postgres", "postgresql"), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    counted = _scalar(database, "SELECT count(*) FROM candidates")
    return {"candidates": counted, "seed_seconds": round(seconds)}


def _scalar(database: str, query: str) -> Any:
    try:
        with psycopg.connect(_url(database, ROLE, "postgresql")) as conn:
            return conn.execute(query).fetchone()[0]
    except psycopg.Error:
        return None


def _prune(database: str) -> None:
    """Keep only the active version's assignments (as the retrain's prune would), then VACUUM."""
    with psycopg.connect(_url(database, ROLE, "postgresql"), autocommit=True) as conn:
        stale = conn.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " WHERE i.inhparent = 'candidate_segments'::regclass AND c.relname ~ '_m[0-9]+$'"
            " AND substring(c.relname from '_m([0-9]+)$')::int NOT IN"
            " (SELECT id FROM segmentation_models WHERE status = 'active')"
        ).fetchall()
        for (name,) in stale:
            conn.execute(f"DROP TABLE {name}")
        conn.execute(
            "DELETE FROM candidate_segments WHERE model_id NOT IN"
            " (SELECT id FROM segmentation_models WHERE status = 'active')"
        )
        conn.execute("VACUUM ANALYZE candidate_segments")


# ---- runs -----------------------------------------------------------------------------------
def _timed(command: list[str], env: dict[str, str]) -> tuple[float, float, float, str]:
    """Wall seconds, peak RSS (MiB), CPU seconds (user + system) and stdout of one fresh process."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{stderr[-3000:]}{stdout[-1000:]}")
    return seconds, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime, stdout


def _run(database: str, path: str, round_: int) -> dict[str, Any]:
    assert not _scalar(database, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    _prune(database)
    load = os.getloadavg()
    command = [ADFLUX, "--json", "train-segments", "--k-min", "2", "--k-max", "12", "--force"]
    threshold = "0" if path == "memory" else "1"
    env = _env(database, ADFLUX_SEGMENTATION_STREAMING_ROWS=threshold)
    seconds, rss, cpu, out = _timed([*command, "--seed", str(round_)], env)
    model = json.loads(out)["model"]
    model_id = int(model["id"])
    rows = _scalar(database, f"SELECT count(*) FROM candidate_segments WHERE model_id = {model_id}")
    candidates = _scalar(database, "SELECT count(*) FROM candidates")
    assert rows == candidates, f"{rows} assignments for {candidates} candidates"
    metrics = model.get("metrics") or {}
    assert ("streaming" in metrics) == (path == "streamed"), "the run did not take the asked path"
    return {
        "database": database,
        "path": path,
        "round": round_ + 1,
        "load_before": [round(value, 2) for value in load],
        "seconds": round(seconds, 1),
        "peak_rss_mib": round(rss),
        "cpu_seconds": round(cpu, 1),  # this process only (the database's work is not in it)
        "assignments": rows,
        "candidates": candidates,
        "k": model["k"],
        "persona_ari_recorded": model.get("persona_ari"),
        "persona_ari_all": round(_persona_ari(database, model_id), 4),
        "timings": metrics.get("timings", {}),
        "streaming": {key: value for key, value in (metrics.get("streaming") or {}).items()},
    }


def _persona_ari(database: str, model_id: int) -> float:
    """Adjusted Rand index of the version's assignments against the personas, over every candidate."""
    with psycopg.connect(_url(database, ROLE, "postgresql")) as conn:
        conn.execute("SET work_mem = '256MB'")
        cells = conn.execute(
            "SELECT s.segment_id, p.persona_index, count(*) FROM candidate_segments s"
            " JOIN candidate_personas p ON p.candidate_id = s.candidate_id"
            " WHERE s.model_id = %s GROUP BY 1, 2",
            (model_id,),
        ).fetchall()
    counts = np.array([int(n) for _, _, n in cells], dtype=np.float64)
    segments = {s for s, _, _ in cells}
    personas = {p for _, p, _ in cells}
    by_segment = np.array([sum(int(n) for s2, _, n in cells if s2 == s) for s in segments], dtype=np.float64)
    by_persona = np.array([sum(int(n) for _, p2, n in cells if p2 == p) for p in personas], dtype=np.float64)
    pairs = float((counts * (counts - 1) / 2).sum())
    a = float((by_segment * (by_segment - 1) / 2).sum())
    b = float((by_persona * (by_persona - 1) / 2).sum())
    n = float(counts.sum())
    total = n * (n - 1) / 2
    expected = a * b / total
    return (pairs - expected) / ((a + b) / 2 - expected)


def _show(run: dict[str, Any]) -> None:
    print(
        f"{run['database']:<16} {run['path']:<9} round {run['round']}: {run['seconds']:>6.1f} s, "
        f"{run['peak_rss_mib']:>5} MiB, CPU {run['cpu_seconds']} s, load {run['load_before'][0]:.2f}, "
        f"{run['assignments']:,} rows, "
        f"k {run['k']}, ARI all {run['persona_ari_all']} (sample {run['persona_ari_recorded']})",
        file=sys.stderr,
        flush=True,
    )


def _summary(runs: list[dict[str, Any]], seeding: dict[str, Any]) -> dict[str, Any]:
    def median(database: str, path: str, key: str) -> float | None:
        values = [r[key] for r in runs if r["database"] == database and r["path"] == path]
        return statistics.median(values) if values else None

    memory = median(next(iter(DATABASES)), "memory", "seconds")
    streamed = median(next(iter(DATABASES)), "streamed", "seconds")
    return {
        "when_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
        "seeding": seeding,
        "runs": runs,
        "ratio_1m_memory_over_streamed": round(memory / streamed, 2) if memory and streamed else None,
        "median_seconds": {
            f"{db_}/{path}": median(db_, path, "seconds")
            for db_ in DATABASES
            for path in ("memory", "streamed")
            if median(db_, path, "seconds") is not None
        },
    }


def _table(summary: dict[str, Any]) -> str:
    header = (
        "| database | path | round | load (1/5/15) | wall s | peak RSS MiB | rows | k | ARI all"
        " | stages (s) |"
    )
    lines = [header]
    lines.append("|---|---|---|---|---|---|---|---|---|---|")
    for r in summary["runs"]:
        stages = ", ".join(f"{k} {v:.1f}" for k, v in r["timings"].items() if v >= 0.5)
        lines.append(
            f"| {r['database']} | {r['path']} | {r['round']} | {'/'.join(map(str, r['load_before']))} |"
            f" {r['seconds']} | {r['peak_rss_mib']} | {r['assignments']:,} | {r['k']} |"
            f" {r['persona_ari_all']} | {stages} |"
        )
    lines.append(f"ratio at 1M (in-memory ÷ streamed, medians): {summary['ratio_1m_memory_over_streamed']}")
    lines.append(f"medians: {summary['median_seconds']}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
