"""Segmentation benchmark: 1,000,000 candidates in PostgreSQL end to end, and the seeds' naive way.

Creates two scratch databases on 127.0.0.1 as user postgres (`adflux_bench_seg` with N candidates,
`adflux_bench_seg_small` with the naive comparison's size), seeds them with
`adflux.services.seeding.seed_database` (not timed as part of the pipeline), then:

1. **AdFlux end to end** at N (default 1,000,000), `--repeat` times, each in a fresh process:
   `services.segmentation.train_segmentation(k_min=2, k_max=12, force=True)` — read only the
   feature columns (COPY → Arrow), features, k search over 2..12, final fit on every row,
   profiles, PCA, drift reference, persona ARI, artifact, and every assignment written back
   (binary COPY into candidate_segments), committed. Wall time and the process's peak RSS.
2. The same at the small size (default 100,000).
3. **The seeds' way** at the small size, once, in a fresh process: `Candidate.query.all()` →
   DataFrame from one dict per object → `get_dummies` → `StandardScaler` → `KMeans(n_clusters=5)`
   → full `silhouette_score` (O(n²)).

The ratio reported is (seeds' way at 100k) ÷ (AdFlux at 100k while choosing k over 2..12).

Usage:
    .venv/bin/python bench/bench_segmentation.py [--candidates 1000000] [--small 100000]
        [--repeat 3] [--skip-naive] [--keep] [--json]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
BIG_DATABASE = "adflux_bench_seg"
SMALL_DATABASE = "adflux_bench_seg_small"
SEED = 42
TARGET_SECONDS = 10.0
TARGET_PEAK_MIB = 2048
TARGET_RATIO = 25.0

logger = logging.getLogger("bench_segmentation")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-naive", action="store_true", help="skip the ~80 s naive run")
    parser.add_argument("--keep", action="store_true", help="keep the scratch databases (and reuse them)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument(
        "--wait-quiet", type=float, default=900.0, help="wait up to this many seconds for an idle machine"
    )
    parser.add_argument("--child", choices=["fast", "naive"], help=argparse.SUPPRESS)
    parser.add_argument("--database", help=argparse.SUPPRESS)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)

    global QUIET_MAX_WAIT
    QUIET_MAX_WAIT = args.wait_quiet
    if args.child:
        result = _child_fast(args.database) if args.child == "fast" else _child_naive(args.database)
        print(json.dumps(result))
        return

    results = run(args)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        _print(results)


def run(args: argparse.Namespace) -> dict[str, Any]:
    seeding = {
        BIG_DATABASE: _prepare(BIG_DATABASE, args.candidates, reuse=args.keep),
        SMALL_DATABASE: _prepare(SMALL_DATABASE, args.small, reuse=args.keep),
    }
    try:
        big = [_spawn("fast", BIG_DATABASE) for _ in range(args.repeat)]
        small = [_spawn("fast", SMALL_DATABASE) for _ in range(args.repeat)]
        naive = None if args.skip_naive else _spawn("naive", SMALL_DATABASE)
    finally:
        if not args.keep:
            for name in (BIG_DATABASE, SMALL_DATABASE):
                _drop_database(name)
    big_median = statistics.median(r["seconds"] for r in big)
    small_median = statistics.median(r["seconds"] for r in small)
    return {
        "candidates": args.candidates,
        "small": args.small,
        "seeding": seeding,
        "fast_big": big,
        "fast_big_median_seconds": round(big_median, 2),
        "fast_big_peak_rss_mib": max(r["peak_rss_mib"] for r in big),
        "fast_small": small,
        "fast_small_median_seconds": round(small_median, 2),
        "naive_small": naive,
        "ratio_small": round(naive["seconds"] / small_median, 1) if naive else None,
        "machine": _machine(),
    }


# ---- children (fresh processes: peak RSS belongs to the measured work alone) --------------------
def _app(database: str):  # type: ignore[no-untyped-def]
    from adflux.app import create_app
    from adflux.settings import Settings

    settings = Settings.from_env(
        {},
        env="testing",
        database_url=f"postgresql+psycopg://postgres@127.0.0.1:5432/{database}",
        instance_path=str(Path(tempfile.gettempdir()) / f"adflux-bench-seg-{database}"),
        secret_key="bench",
        log_level="WARNING",
        # Keep every connection the run opens, so their server-side CPU can be read at the end.
        database_pool_size=12,
    )
    return create_app(settings)


def _child_fast(database: str) -> dict[str, Any]:
    from adflux.extensions import db
    from adflux.services.segmentation import train_segmentation

    app = _app(database)
    # As in a Celery worker (adflux.worker imports the ML stack at start), and as the naive run
    # below imports its libraries before its clock: library import time is not training time.
    import adflux.services.segmentation_data  # noqa: F401
    from adflux.ml import warm_up

    warm_up()
    with app.app_context():
        db.session.execute(db.text("SELECT 1"))  # connect before the clock starts
        load = os.getloadavg()[0]
        server_before = _server_cpu_seconds()
        cpu_before = _cpu_seconds()
        started = time.perf_counter()
        model = train_segmentation(k_min=2, k_max=12, force=True)
        seconds = time.perf_counter() - started
        cpu = _cpu_seconds() - cpu_before
        server_cpu = _server_cpu_seconds() - server_before
        return {
            "seconds": round(seconds, 3),
            "cpu_seconds": round(cpu, 2),
            "server_cpu_seconds": round(server_cpu, 2),
            "peak_rss_mib": round(_peak_rss_mib()),
            "load_average_before": round(load, 2),
            "load_average_after": round(os.getloadavg()[0], 2),
            "version": model.version,
            "k": model.k,
            "silhouette": model.silhouette,
            "persona_ari": model.persona_ari,
            "stability_ari": (model.metrics.get("stability") or {}).get("ari"),
            "timings": model.metrics["timings"],
            "stage_cpu_seconds": model.metrics.get("cpu_seconds", {}),
            "k_search": [
                {key: row[key] for key in ("k", "silhouette", "davies_bouldin", "n_iter", "seconds")}
                for row in model.metrics["k_search"]
            ],
        }


def _child_naive(database: str) -> dict[str, Any]:
    """The seeds' segmentation, literally: ORM objects, dicts, get_dummies, KMeans(5), full silhouette."""
    import numpy as np
    import pandas as pd
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score
    from sklearn.preprocessing import StandardScaler

    from adflux.models import Candidate

    app = _app(database)
    columns = [c.name for c in Candidate.__table__.columns]
    with app.app_context():
        load = os.getloadavg()[0]
        cpu_before = _cpu_seconds()
        timings: dict[str, float] = {}
        started = clock = time.perf_counter()

        def lap(name: str) -> None:
            nonlocal clock
            now = time.perf_counter()
            timings[name] = round(now - clock, 3)
            clock = now

        candidates = Candidate.query.all()
        lap("orm_query_all")
        frame = pd.DataFrame([{name: getattr(c, name) for name in columns} for c in candidates])
        lap("dataframe_from_dicts")
        features = frame[["years_experience", "expected_salary"]].astype(float)
        features["age"] = 2026 - frame["birth_year"]
        categorical = pd.get_dummies(
            frame[["city", "department", "education_level", "desired_category", "desired_modality"]]
        )
        skills = frame["skills"].str.join("|").str.get_dummies(sep="|")
        X = StandardScaler().fit_transform(pd.concat([features, categorical, skills], axis=1).astype(float))
        lap("get_dummies_and_scale")
        labels = KMeans(n_clusters=5, random_state=0).fit_predict(X)
        lap("kmeans_k5")
        score = silhouette_score(X, labels)
        lap("full_silhouette")
        seconds = time.perf_counter() - started
    return {
        "seconds": round(seconds, 3),
        "cpu_seconds": round(_cpu_seconds() - cpu_before, 2),
        "peak_rss_mib": round(_peak_rss_mib()),
        "load_average_before": round(load, 2),
        "rows": len(candidates),
        "features": int(X.shape[1]),
        "silhouette": float(score),
        "segments": int(np.unique(labels).size),
        "timings": timings,
    }


# ---- orchestration ----------------------------------------------------------------------------
def _spawn(kind: str, database: str) -> dict[str, Any]:
    busy_before = _wait_for_quiet()
    command = [sys.executable, __file__, "--child", kind, "--database", database]
    busy0, _ = _cpu_times()
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    busy1, _ = _cpu_times()
    if completed.returncode != 0:
        raise RuntimeError(f"{kind} run on {database} failed:\n{completed.stderr[-4000:]}")
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    ours = result.get("cpu_seconds", 0.0) + result.get("server_cpu_seconds", 0.0)
    result["cpu_busy_before"] = busy_before
    # Everything the machine did during the run that was not this run (other people's work).
    result["other_cpu_seconds"] = round(max(0.0, (busy1 - busy0) / os.sysconf("SC_CLK_TCK") - ours), 1)
    logger.info(
        "%s on %s: %.2f s, peak RSS %s MiB (machine busy %.0f%% before, %.1f CPU-s of other work during)",
        kind,
        database,
        result["seconds"],
        result["peak_rss_mib"],
        100 * busy_before,
        result["other_cpu_seconds"],
    )
    return result


# The machine is shared: before each run wait (up to QUIET_MAX_WAIT s) until other work uses at
# most this share of the CPUs, and report what ran beside us anyway.
QUIET_BUSY = 0.15
QUIET_MAX_WAIT = 900.0


def _cpu_times() -> tuple[int, int]:
    """(busy, total) jiffies over all CPUs since boot, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def _cpu_busy(seconds: float) -> float:
    busy0, total0 = _cpu_times()
    time.sleep(seconds)
    busy1, total1 = _cpu_times()
    return (busy1 - busy0) / max(1, total1 - total0)


def _wait_for_quiet() -> float:
    deadline = time.monotonic() + QUIET_MAX_WAIT
    busy = _cpu_busy(1.0)
    while busy > QUIET_BUSY and time.monotonic() < deadline:
        busy = _cpu_busy(2.0)
    return round(busy, 2)


def _prepare(database: str, candidates: int, *, reuse: bool) -> dict[str, Any]:
    """Create (or reuse) a scratch database holding `candidates` simulated candidates."""
    from adflux.extensions import db
    from adflux.services.seeding import seed_database

    if reuse and _count_candidates(database) == candidates:
        logger.info("reusing %s (%d candidates)", database, candidates)
        _reset_models(database)
        return {"reused": True}
    _recreate_database(database)
    app = _app(database)
    with app.app_context():
        db.create_all()
        started = time.perf_counter()
        result = seed_database(candidates=candidates, jobs=0, seed=SEED)
        seconds = time.perf_counter() - started
        db.session.remove()
        db.engine.dispose()
    # Fresh statistics and a checkpoint, so every measured run starts from the same state.
    with psycopg.connect(_url(database), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
        conn.execute("CHECKPOINT")
    logger.info("seeded %s with %d candidates in %.1f s", database, result.candidates_inserted, seconds)
    return {"seconds": round(seconds, 2), "candidates": result.candidates_inserted}


def _count_candidates(database: str) -> int | None:
    try:
        with psycopg.connect(_url(database)) as conn:
            return int(conn.execute("SELECT count(*) FROM candidates").fetchone()[0])
    except psycopg.Error:
        return None


def _reset_models(database: str) -> None:
    with psycopg.connect(_url(database), autocommit=True) as conn:
        conn.execute("TRUNCATE segmentation_models, segments, candidate_segments RESTART IDENTITY CASCADE")


def _url(database: str) -> str:
    return f"postgresql://postgres@127.0.0.1:5432/{database}"


def _recreate_database(name: str) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")


def _drop_database(name: str) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _cpu_seconds() -> float:
    """CPU time of this process, all threads (user + system)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _server_cpu_seconds() -> float:
    """CPU time of the PostgreSQL backends serving this database (they run on this machine).

    On a machine shared with other work the wall time depends on what else runs; CPU seconds
    (this process + its backends) do not, and bound the wall time on a quiet machine from below.
    """
    from adflux.extensions import db

    pids = db.session.execute(
        db.text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
    ).scalars()
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # not visible (another host or namespace): report what is
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def _machine() -> dict[str, Any]:
    import numpy
    import pyarrow
    import sklearn

    cpu, memory_gib = "unknown", 0.0
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
    with psycopg.connect(ADMIN_URL) as conn:
        server = conn.execute("SHOW server_version").fetchone()[0]
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gib": round(memory_gib, 1),
        "postgresql": server,
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "numpy": numpy.__version__,
        "pyarrow": pyarrow.__version__,
        "psycopg": psycopg.__version__,
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
    }


def _print(r: dict[str, Any]) -> None:
    m = r["machine"]
    print(f"machine: {m['nproc']} × {m['cpu']}, {m['ram_gib']} GiB RAM, PostgreSQL {m['postgresql']}")
    print(f"AdFlux end to end, {r['candidates']:,} candidates, k in 2..12 (target ≤ {TARGET_SECONDS:g} s):")
    for run in r["fast_big"]:
        stages = ", ".join(f"{k} {v:.2f}" for k, v in run["timings"].items())
        print(
            f"  {run['seconds']:.2f} s (CPU: {run['cpu_seconds']} s here + {run['server_cpu_seconds']} s "
            f"PostgreSQL; {run['other_cpu_seconds']} s of other work), peak RSS {run['peak_rss_mib']} MiB, "
            f"k={run['k']}, "
            f"silhouette {run['silhouette']:.3f}, persona ARI {run['persona_ari']}, "
            f"load {run['load_average_before']}"
        )
        print(f"    stages: {stages}")
        print(f"    CPU by stage: {run['stage_cpu_seconds']}")
    print(f"  median {r['fast_big_median_seconds']} s, peak RSS {r['fast_big_peak_rss_mib']} MiB")
    print(f"AdFlux end to end, {r['small']:,} candidates: {[x['seconds'] for x in r['fast_small']]} s")
    naive = r["naive_small"]
    if naive:
        print(f"seeds' way, {r['small']:,} candidates: {naive['seconds']:.1f} s ({naive['timings']})")
        print(f"ratio (seeds' way ÷ AdFlux with k search 2..12) at {r['small']:,}: {r['ratio_small']}×")
    print(f"load average at end: {m['load_average_at_end']}")


if __name__ == "__main__":
    main()
