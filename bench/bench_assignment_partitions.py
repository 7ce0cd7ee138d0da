"""One version's 1M assignments written beside K kept versions: plain table (before) vs partitioned.

Issue 25 item 5 / issue 26 item 6. Two copies of the same database (made beforehand, e.g.
`CREATE DATABASE x TEMPLATE adflux_h26_prod_big OWNER adflux_bench_h26`): PLAIN at migration 0032
(one table) and PART at 0033 (one partition per version). Both owned by ROLE (the owner path).

Each round, order alternating, in fresh processes: the code before the change (`--before-src`, a
`git archive` of main's src) writes a new version's assignments into PLAIN, this branch's code into
PART; the same ids and labels, inside a transaction that is rolled back (a new segmentation_models
row for the version, then `copy_assignments`). Printed per run: seconds, 1-minute load average
before it, rows of the new version counted before the rollback; then the same-run ratio.

`--versions K` first brings both databases to K kept versions of 1M rows (adds copies of the last
version's rows, or prunes the oldest: timed, DELETE on PLAIN vs dropping partitions on PART, rows
counted before).

    PYTHONPATH=src .venv/bin/python bench/bench_assignment_partitions.py --before-src /tmp/main-src \
        --plain adflux_h25w_big_plain --part adflux_h25w_big_part --versions 12 --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psycopg

ROLE = "adflux_bench_h26"
CHILD_ARGS = ("--plain", "-", "--part", "-", "--before-src", "-")
LAST_SEGMENTS = "SELECT id FROM segments WHERE model_id = (SELECT max(model_id) FROM segments)"
COUNT_ONE = "SELECT count(*) FROM candidate_segments WHERE model_id = %s"
COUNT_MANY = "SELECT count(*) FROM candidate_segments WHERE model_id = ANY(%s)"


def _url(database: str, role: str = ROLE) -> str:
    return f"postgresql://{role}@127.0.0.1:5432/{database}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plain", required=True)
    parser.add_argument("--part", required=True)
    parser.add_argument("--before-src", required=True)
    parser.add_argument("--versions", type=int, help="bring both databases to this many kept versions first")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_write(args.child)))
        return
    if args.versions:
        for database, partitioned in ((args.plain, False), (args.part, True)):
            print(json.dumps(_set_versions(database, args.versions, partitioned)), flush=True)
    runs: dict[str, list[float]] = {"before": [], "after": []}
    here = str(Path(__file__).resolve().parents[1] / "src")
    for r in range(args.rounds):
        order = [("before", args.plain, args.before_src), ("after", args.part, here)]
        for kind, database, src in order if r % 2 == 0 else reversed(order):
            env = {**os.environ, "PYTHONPATH": str(Path(src).resolve())}
            out = subprocess.run(
                [sys.executable, __file__, "--child", database, *CHILD_ARGS],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            run = json.loads(out.strip().splitlines()[-1])
            runs[kind].append(run["seconds"])
            print(f"round {r} {kind:<6} {database:<24} {json.dumps(run)}", flush=True)
    before, after = statistics.median(runs["before"]), statistics.median(runs["after"])
    print(f"median before {before:.2f} s, after {after:.2f} s, after/before {after / before:.2f}")


def _write(database: str) -> dict[str, object]:
    """One new version's assignments, written and counted in a transaction rolled back."""
    import numpy as np

    from adflux.services.assignment_copy import copy_assignments

    with psycopg.connect(_url(database)) as conn:
        ids = np.array([r[0] for r in conn.execute("SELECT id FROM candidates ORDER BY id")], dtype=np.int64)
        newest = conn.execute("SELECT max(id) FROM segmentation_models").fetchone()[0]
        segments = [r[0] for r in conn.execute(LAST_SEGMENTS)]
        model_id = _copy_model(conn, newest)
        labels = np.random.default_rng(0).choice(np.array(segments, dtype=np.int64), size=len(ids))
        versions = conn.execute("SELECT count(DISTINCT model_id) FROM candidate_segments").fetchone()[0]
        load = os.getloadavg()[0]
        started = time.perf_counter()
        copy_assignments(conn, model_id, ids, labels)
        seconds = time.perf_counter() - started
        rows = conn.execute(COUNT_ONE, (model_id,)).fetchone()[0]
        conn.rollback()
    return {"seconds": round(seconds, 2), "load": round(load, 2), "rows": rows, "kept_versions": versions}


def _copy_model(conn: psycopg.Connection, model_id: int) -> int:
    """A new retired segmentation_models row like `model_id` (a new version); its id."""
    columns = [
        r[0]
        for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'segmentation_models'"
            " AND column_name NOT IN ('id', 'version', 'status')"
        )
    ]
    listed = ", ".join(columns)
    return int(
        conn.execute(
            f"INSERT INTO segmentation_models (version, status, {listed})"
            f" SELECT (SELECT max(version) + 1 FROM segmentation_models), 'retired', {listed}"
            " FROM segmentation_models WHERE id = %s RETURNING id",
            (model_id,),
        ).fetchone()[0]
    )


def _set_versions(database: str, keep: int, partitioned: bool) -> dict[str, object]:
    """Add copies of the newest version's rows, or drop the oldest versions, to `keep` versions
    (set-up, as `postgres`: the copies skip the foreign-key triggers, their rows are copies)."""
    with psycopg.connect(_url(database, "postgres")) as conn:
        conn.execute("SET session_replication_role = replica")
        kept = [r[0] for r in conn.execute("SELECT DISTINCT model_id FROM candidate_segments ORDER BY 1")]
        load, started, rows = os.getloadavg()[0], time.perf_counter(), 0
        if len(kept) > keep:
            stale = kept[: len(kept) - keep]
            rows = conn.execute(COUNT_MANY, (stale,)).fetchone()[0]
            started = time.perf_counter()
            if partitioned:
                for model_id in stale:
                    conn.execute(f"DROP TABLE candidate_segments_m{int(model_id)}")
            else:
                conn.execute("DELETE FROM candidate_segments WHERE model_id = ANY(%s)", (stale,))
            action = "pruned"
        else:
            newest = kept[-1]
            for _ in range(keep - len(kept)):
                model_id = _copy_model(conn, newest)
                if partitioned:
                    conn.execute(
                        f"CREATE TABLE candidate_segments_m{model_id} PARTITION OF candidate_segments"
                        f" FOR VALUES IN ({model_id})"
                    )
                cur = conn.execute(
                    "INSERT INTO candidate_segments SELECT %s, candidate_id, segment_id"
                    " FROM candidate_segments WHERE model_id = %s",
                    (model_id, newest),
                )
                rows += cur.rowcount
            action = "added"
        conn.commit()
        seconds = time.perf_counter() - started
    if not partitioned:
        with psycopg.connect(_url(database, "postgres"), autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE candidate_segments")
    return {
        "database": database,
        action: rows,
        "seconds": round(seconds, 2),
        "load": round(load, 2),
        "keep": keep,
    }


if __name__ == "__main__":
    main()
