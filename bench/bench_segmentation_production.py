"""Segmentation under production conditions: the CLI as users run it, as a non-superuser role.

Issue 26 item 6. Sets up on 127.0.0.1 (all created here, all dropped at the end unless --keep):
a LOGIN NOSUPERUSER role `adflux_bench_h26`, and two databases it owns, `adflux_h26_prod_big`
(N candidates, default 1,000,000) and `adflux_h26_prod_small` (default 100,000). The role builds
the schema with `adflux db upgrade` (so every foreign key is there and it owns the tables); the
candidates are seeded with `adflux seed --persona-mix MIX` (not timed; as `postgres`, to save the
shared machine a few minutes). Then, alternating, in fresh processes:

1. **AdFlux through the CLI**: `adflux --json train-segments --k-min 2 --k-max 12 --force --seed R`
   with `DATABASE_URL` naming the non-superuser role: Python start-up, imports, the app, the read
   (COPY), training, and every assignment written back by binary COPY into `candidate_segments`
   with its foreign keys checked (the role cannot skip them). Wall time and peak RSS of the
   process; afterwards the assignment rows of the new version are counted against the candidates.
2. **The baseline at the small size**: the seeds' pipeline (ORM `Candidate.query.all()` → dicts →
   `get_dummies` → `StandardScaler`) that searches k over 2..12 the same way AdFlux does:
   `KMeans` per k, silhouette on a sample of the same size (5,000 rows), best silhouette wins.

Printed: each run with the 1-minute load average before it, the same-run ratio (baseline ÷ AdFlux
at the small size, medians), persona ARI and stability ARI (between consecutive retrains with
different seeds) from the model records.

    PYTHONPATH=src .venv/bin/python bench/bench_segmentation_production.py [--candidates 1000000]
        [--small 100000] [--rounds 2] [--mix colombia] [--keep] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
ROLE = "adflux_bench_h26"
# Granted every table but owning none: its assignments are checked row by row by the triggers
# (the path every non-superuser took before the owner's drop-and-validate write).
PLAIN_ROLE = "adflux_bench_h26_plain"
BIG = "adflux_h26_prod_big"
SMALL = "adflux_h26_prod_small"
SEED = 42
SILHOUETTE_SAMPLE = 5_000  # k_search.DEFAULT_SILHOUETTE_SAMPLE_SIZE
# CPU seconds (user + system, every thread) of the last process `_timed` ran.
_CPU = [0.0]
ADFLUX = shutil.which("adflux") or str(Path(sys.executable).with_name("adflux"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--mix", default="colombia")
    parser.add_argument("--keep", action="store_true", help="keep (and reuse) the databases and role")
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument(
        "--checked", action="store_true", help="also train once at N as a role that does not own the tables"
    )
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--write-only",
        type=int,
        metavar="ROUNDS",
        help="only time the assignment write at N (kept databases), as the owner and as a plain role",
    )
    parser.add_argument(
        "--owner-only",
        action="store_true",
        help="with --write-only: only as the owner, each step of the partition's write shown",
    )
    parser.add_argument(
        "--before-src",
        metavar="DIR",
        help="also run the CLI at N with this src directory first on PYTHONPATH (the code before a "
        "change, e.g. from `git archive <commit> src`), next to each run at N, order alternating",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_baseline(args.child)))
        return
    _role()
    _compile_bytecode(args.before_src)
    if args.write_only:
        _write_rounds(args.write_only, owner_only=args.owner_only)
        return
    seeding = {
        name: _prepare(name, n, args.mix, args.keep)
        for name, n in ((SMALL, args.small), (BIG, args.candidates))
    }
    runs: list[dict[str, Any]] = []
    try:
        for r in range(args.rounds):
            # Alternate which goes first each round, so load drifts do not favour one side.
            order = ["baseline", "small", "big", "before"]
            for kind in order if r % 2 == 0 else reversed(order):
                if (kind == "baseline" and args.skip_baseline) or (kind == "before" and not args.before_src):
                    continue
                if kind == "baseline":
                    runs.append(_baseline_run())
                elif kind == "before":
                    runs.append(_cli_run(BIG, r, src=args.before_src))
                else:
                    runs.append(_cli_run(BIG if kind == "big" else SMALL, r))
                _show(runs[-1])
        if args.checked:
            runs.append(_cli_run(BIG, args.rounds, role=PLAIN_ROLE))
            _show(runs[-1])
    finally:
        if not args.keep:
            _drop()
    summary = _summary(runs, seeding, args)
    print(json.dumps(summary, indent=2) if args.json else _table(summary))


# ---- set-up ---------------------------------------------------------------------------------
def _role() -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        for role in (ROLE, PLAIN_ROLE):
            if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone():
                conn.execute(f"CREATE ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE")


def _url(database: str, role: str = ROLE, driver: str = "postgresql+psycopg") -> str:
    return f"{driver}://{role}@127.0.0.1:5432/{database}"


def _env(database: str, role: str = ROLE, src: str | None = None) -> dict[str, str]:
    return {
        **os.environ,
        **({"PYTHONPATH": str(Path(src).resolve())} if src else {}),
        "DATABASE_URL": _url(database, role),
        "LOG_LEVEL": "WARNING",
        "ADFLUX_ENV": "development",
    }


def _prepare(database: str, candidates: int, mix: str, keep: bool) -> dict[str, Any]:
    if keep and _count(database, "candidates") == candidates:
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
    with psycopg.connect(_url(database, ROLE, "postgresql"), autocommit=True) as conn:
        conn.execute(f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {PLAIN_ROLE}")
        conn.execute(f"GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {PLAIN_ROLE}")
    with psycopg.connect(_url(database, "postgres", "postgresql"), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return {"candidates": _count(database, "candidates"), "seed_seconds": round(seconds, 1), "mix": mix}


def _count(database: str, table: str, where: str = "") -> int | None:
    try:
        with psycopg.connect(_url(database, ROLE, "postgresql")) as conn:
            return int(conn.execute(f"SELECT count(*) FROM {table} {where}").fetchone()[0])
    except psycopg.Error:
        return None


def _drop() -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        for name in (BIG, SMALL):
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        for role in (PLAIN_ROLE, ROLE):
            conn.execute(f"DROP ROLE IF EXISTS {role}")


# ---- runs -----------------------------------------------------------------------------------
def _timed(command: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MiB) and stdout of one fresh process (output to files: no pipe stall)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if process.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} failed ({process.returncode}):\n{stderr[-3000:]}{stdout[-1000:]}"
        )
    _CPU[0] = usage.ru_utime + usage.ru_stime
    return seconds, usage.ru_maxrss / 1024, stdout


def _compile_bytecode(before_src: str | None) -> None:
    """Write the bytecode of the AdFlux trees the runs import, as an installed package has it.

    `pip install` compiles every module when it installs; an editable install writes them on
    first import, unless PYTHONDONTWRITEBYTECODE is set (it is on some of our machines), and then
    every run compiled ~270 modules from source again: ~0.3-0.5 s of CPU no installed AdFlux
    spends. Python reads the bytecode whatever that variable says.
    """
    import compileall
    import importlib.util

    spec = importlib.util.find_spec("adflux")
    assert spec is not None and spec.submodule_search_locations
    trees = [Path(next(iter(spec.submodule_search_locations)))]
    if before_src:
        trees.append(Path(before_src) / "adflux")
    for tree in trees:
        compileall.compile_dir(str(tree), quiet=1, workers=1)
    print("bytecode compiled:", ", ".join(str(t) for t in trees), flush=True)


def _entry(src: str | None) -> list[str]:
    """The console script; for an older `src`, that tree's own entry point when it predates
    `adflux.command_line` (the script as it was installed then: `adflux.cli:main`)."""
    if src and not (Path(src) / "adflux" / "command_line.py").exists():
        return [
            sys.executable,
            "-c",
            "import sys; from adflux.cli import main; sys.argv[0] = 'adflux'; main()",
        ]
    return [ADFLUX]


def _cli_run(database: str, round_: int, role: str = ROLE, src: str | None = None) -> dict[str, Any]:
    with psycopg.connect(_url(database, role, "postgresql")) as conn:
        superuser = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()[0]
    assert not superuser, "the measured role must not be a superuser"
    load = os.getloadavg()[0]
    command = [*_entry(src), "--json", "train-segments", "--k-min", "2", "--k-max", "12", "--force"]
    seconds, rss, out = _timed([*command, "--seed", str(round_)], _env(database, role, src))
    model = json.loads(out)["model"]
    rows = _count(database, "candidate_segments", f"WHERE model_id = {int(model['id'])}")
    candidates = _count(database, "candidates")
    assert rows == candidates, f"{rows} assignments for {candidates} candidates"
    metrics = model.get("metrics") or {}
    return {
        "kind": "adflux-cli-before" if src else "adflux-cli" if role == ROLE else "adflux-cli-checked",
        "database": database,
        "candidates": candidates,
        "assignment_rows": rows,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(_CPU[0], 2),
        "peak_rss_mib": round(rss),
        "load_average_before": round(load, 2),
        "k": model["k"],
        "persona_ari": model["persona_ari"],
        "stability_ari": (metrics.get("stability") or {}).get("ari"),
        "timings": metrics.get("timings"),
    }


def _baseline_run() -> dict[str, Any]:
    load = os.getloadavg()[0]
    seconds, rss, out = _timed([sys.executable, __file__, "--child", SMALL], _env(SMALL))
    result = json.loads(out.strip().splitlines()[-1])
    return {
        **result,
        "kind": "baseline",
        "seconds": round(seconds, 2),
        "cpu_seconds": round(_CPU[0], 2),
        "peak_rss_mib": round(rss),
        "load_average_before": round(load, 2),
    }


def _baseline(database: str) -> dict[str, Any]:
    """The seeds' pipeline with the k search AdFlux does (2..12, silhouette on a 5,000-row sample)."""
    import numpy as np
    import pandas as pd
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score
    from sklearn.preprocessing import StandardScaler

    from adflux.app import create_app
    from adflux.models import Candidate

    app = create_app()
    columns = [c.name for c in Candidate.__table__.columns]
    with app.app_context():
        candidates = Candidate.query.all()
        frame = pd.DataFrame([{name: getattr(c, name) for name in columns} for c in candidates])
    features = frame[["years_experience", "expected_salary"]].astype(float).fillna(0.0)
    features["age"] = (2026 - frame["birth_year"]).fillna(30)
    categorical = pd.get_dummies(
        frame[["city", "department", "education_level", "desired_category", "desired_modality"]]
    )
    skills = frame["skills"].map(lambda s: "|".join(s or [])).str.get_dummies(sep="|")
    X = StandardScaler().fit_transform(pd.concat([features, categorical, skills], axis=1).astype(float))
    rows = np.random.default_rng(0).choice(len(X), size=min(SILHOUETTE_SAMPLE, len(X)), replace=False)
    scores = {}
    for k in range(2, 13):
        labels = KMeans(n_clusters=k, random_state=0, n_init="auto").fit_predict(X)
        scores[k] = float(silhouette_score(X[rows], labels[rows]))
    best = max(scores, key=lambda k: scores[k])
    return {"candidates": len(candidates), "k": best, "silhouette": round(scores[best], 4)}


def _write_rounds(rounds: int, *, owner_only: bool = False) -> None:
    """The write step alone, in a transaction rolled back: owner (keys dropped and validated)
    against a plain role (every row checked), alternating; same ids, same labels. `owner_only`:
    the owner's write alone, with the seconds of each step of its partition (logged by
    `assignment_partitions.attach`) — to compare source trees run by run (PYTHONPATH)."""
    import logging

    import numpy as np

    if owner_only:
        logging.basicConfig(format="  %(message)s")
        logging.getLogger("adflux.services.assignment_partitions").setLevel(logging.INFO)

    from adflux.services.assignment_copy import copy_assignments, write_mode

    with psycopg.connect(_url(BIG, ROLE, "postgresql")) as conn:
        ids = np.array([r[0] for r in conn.execute("SELECT id FROM candidates ORDER BY id")], dtype=np.int64)
        model_id, low, high = conn.execute(
            "SELECT model_id, min(id), max(id) FROM segments GROUP BY model_id ORDER BY model_id LIMIT 1"
        ).fetchone()
    labels = np.random.default_rng(0).integers(low, high + 1, size=len(ids))
    for r in range(rounds):
        order = (ROLE, PLAIN_ROLE) if r % 2 == 0 else (PLAIN_ROLE, ROLE)
        for role in (ROLE,) if owner_only else order:
            with psycopg.connect(_url(BIG, role, "postgresql")) as conn:
                conn.execute("DELETE FROM candidate_segments WHERE model_id = %s", (model_id,))
                with conn.cursor() as cur:
                    mode = write_mode(cur)
                load = os.getloadavg()[0]
                started = time.perf_counter()
                copy_assignments(conn, model_id, ids, labels)
                seconds = time.perf_counter() - started
                rows = conn.execute(
                    "SELECT count(*) FROM candidate_segments WHERE model_id = %s", (model_id,)
                ).fetchone()[0]
                conn.rollback()
            print(
                f"write as {role:<24} ({mode:<7}) {rows:>8} rows  {seconds:7.2f} s  load {load:.2f}",
                flush=True,
            )


# ---- report ---------------------------------------------------------------------------------
def _show(run: dict[str, Any]) -> None:
    print(
        f"{run['kind']:<11} {run.get('database', SMALL):<22} n={run['candidates']:<8}"
        f" {run['seconds']:>7.2f} s (CPU {run['cpu_seconds']:.1f} s)"
        f"  peak {run['peak_rss_mib']:>5} MiB  k={run['k']:<3} ARI {run.get('persona_ari')}"
        f"  stability {run.get('stability_ari')}  load {run['load_average_before']}",
        file=sys.stderr,
        flush=True,
    )


def _summary(runs: list[dict[str, Any]], seeding: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    def median(kind: str, database: str | None = None) -> float | None:
        values = [
            r["seconds"]
            for r in runs
            if r["kind"] == kind and (database is None or r.get("database") == database)
        ]
        return round(statistics.median(values), 2) if values else None

    small, baseline = median("adflux-cli", SMALL), median("baseline")
    big, before = median("adflux-cli", BIG), median("adflux-cli-before", BIG)
    cpu = {
        kind: round(
            statistics.median(r["cpu_seconds"] for r in runs if r["kind"] == kind and r["database"] == BIG), 2
        )
        for kind in ("adflux-cli", "adflux-cli-before")
        if any(r["kind"] == kind and r.get("database") == BIG for r in runs)
    }
    return {
        "mix": args.mix,
        "seeding": seeding,
        "runs": runs,
        "adflux_big_median_s": median("adflux-cli", BIG),
        "adflux_small_median_s": small,
        "baseline_small_median_s": baseline,
        "ratio_small": round(baseline / small, 1) if small and baseline else None,
        "before_big_median_s": before,
        # > 1: the code under test is faster at N than the code before, in the same run.
        "ratio_big_before_now": round(before / big, 2) if big and before else None,
        "cpu_big_median_s": cpu,
        "role": ROLE,
        "self_max_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def _table(summary: dict[str, Any]) -> str:
    lines = [
        f"mix {summary['mix']}, role {summary['role']} (not a superuser): AdFlux CLI at 1M median "
        f"{summary['adflux_big_median_s']} s; at the small size {summary['adflux_small_median_s']} s; "
        f"baseline {summary['baseline_small_median_s']} s; same-run ratio {summary['ratio_small']}×"
    ]
    if summary["before_big_median_s"]:
        lines.append(
            f"at 1M the code before: median {summary['before_big_median_s']} s; "
            f"before ÷ now {summary['ratio_big_before_now']}×"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
