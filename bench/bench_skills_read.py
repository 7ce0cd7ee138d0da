"""The segmentation's bulk read: skills as jsonb text (before) against `skills_text` (now).

Issue 26 item 6. On a database that already holds candidates (e.g. the one
`bench_segmentation_production.py --keep` leaves, upgraded to 0028), alternating every round in
one process:

- **before**: the read as it was — `COPY (SELECT id, ..., skills::text ...) TO STDOUT (FORMAT CSV)`
  in the same parallel streams, then `candidate_frame` splitting the JSON text;
- **now**: `read_candidate_columns()` (reads `skills_text`, the jsonb only where it is NULL),
  then `candidate_frame`.

Both read the same table with the same number of COPY streams; each round checks
that both read every candidate (row count against `SELECT count(*)`) and that every candidate's
skills came out the same (the lists joined back per row, compared in Arrow). Prints the
1-minute load average beside each timing and the same-run ratio of the medians.

    DATABASE_URL=postgresql+psycopg://ROLE@127.0.0.1:5432/DB PYTHONPATH=src \\
        .venv/bin/python bench/bench_skills_read.py [--rounds 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import text

from adflux.app import create_app
from adflux.extensions import db
from adflux.ml.features import SOURCE_COLUMNS, candidate_frame, list_column
from adflux.services import segmentation_data as data
from adflux.settings import Settings


def _before() -> tuple[int, pa.Table]:
    columns = ", ".join(f"{name}::text AS {name}" if name == "skills" else name for name in SOURCE_COLUMNS)
    query = f"SELECT id, {columns} FROM candidates"
    pages = data._relation_pages("candidates")
    streams = data.PARALLEL_READ_STREAMS if pages >= data.PARALLEL_READ_MIN_PAGES else 1
    if streams == 1:
        table = data._copy_out_csv(query, data._CSV_TYPES)
    else:
        table = data._copy_out_parallel(query, data._CSV_TYPES, pages, streams)
    ids = table.column("id").to_numpy()
    if len(ids) > 1 and not bool(np.all(ids[1:] >= ids[:-1])):  # as read_candidate_columns does
        table = table.take(pa.array(np.argsort(ids, kind="stable")))
    return table.num_rows, table.select(list(SOURCE_COLUMNS))


def _now() -> tuple[int, pa.Table]:
    columns = data.read_candidate_columns()
    return len(columns), columns.table


def _timed(read: Any) -> tuple[float, float, int, pa.Array]:
    started = time.perf_counter()
    rows, table = read()
    read_s = time.perf_counter() - started
    frame = candidate_frame(table, reference_year=2026)
    frame_s = time.perf_counter() - started - read_s
    lists = list_column(frame["skills"])
    assert lists is not None
    joined = pc.binary_join(lists.decoded(), "|")
    return read_s, frame_s, rows, joined


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    app = create_app(Settings.from_env())
    runs: list[dict[str, Any]] = []
    with app.app_context():
        candidates = int(db.session.execute(text("SELECT count(*) FROM candidates")).scalar_one())
        db.session.rollback()
        for r in range(args.rounds):
            order = [("before", _before), ("now", _now)]
            results: dict[str, pa.Array] = {}
            for name, read in order if r % 2 == 0 else order[::-1]:
                load = os.getloadavg()[0]
                read_s, frame_s, rows, joined = _timed(read)
                assert rows == candidates, f"{name}: {rows} rows for {candidates} candidates"
                results[name] = joined
                runs.append(
                    {
                        "path": name,
                        "round": r + 1,
                        "rows": rows,
                        "read_s": round(read_s, 2),
                        "frame_s": round(frame_s, 2),
                        "load": round(load, 2),
                    }
                )
                print(json.dumps(runs[-1]), flush=True)
            same = results["before"].equals(results["now"])
            assert same, "the two reads gave different skills"
    summary: dict[str, Any] = {"candidates": candidates, "runs": runs}
    for key in ("read_s", "frame_s"):
        before = statistics.median(r[key] for r in runs if r["path"] == "before")
        now = statistics.median(r[key] for r in runs if r["path"] == "now")
        summary[f"{key}_median_before"], summary[f"{key}_median_now"] = before, now
        summary[f"{key}_ratio"] = round(before / now, 2) if now else None
    print(json.dumps(summary, indent=2) if args.json else summary)


if __name__ == "__main__":
    main()
