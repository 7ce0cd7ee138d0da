"""`adflux train-segments` through the console script, several source trees alternated run by run.

For comparing variants of the training path at once (bench/README.md, "twelfth session"):
`bench_segmentation_production.py --before-src` compares two trees and runs the baselines too;
this runs only the CLI at one size, for N trees in a rotating order, and prints each run's wall
time, the process's CPU, the load average before it and the assignment rows counted afterwards.

Run (the database seeded by `bench_segmentation_production.py --keep`):
    PYTHONPATH=src .venv/bin/python bench/bench_training_trees.py --rounds 4 \\
        before=/tmp/before/src after=src [name=DIR:ENV=VALUE:ENV2=VALUE ...]

`ADFLUX=/path/to/adflux` among a tree's pairs runs that console script instead of this
interpreter's (e.g. one installed as the README installs it, without the test extras).

Compile each tree's bytecode first (`python -m compileall -q DIR`): an installed AdFlux has it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

DATABASE = "adflux_h26_prod_big"
ROLE = "adflux_bench_h26"
ADFLUX = str(Path(sys.executable).with_name("adflux"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trees", nargs="+", help="name=SRC_DIR[:ENV=VALUE...]")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database", default=DATABASE)
    args = parser.parse_args()
    trees = dict(tree.split("=", 1) for tree in args.trees)
    walls: dict[str, list[float]] = {name: [] for name in trees}
    for round_ in range(args.rounds):
        names = list(trees)
        order = names[round_ % len(names) :] + names[: round_ % len(names)]
        for name in order:
            source, *pairs = trees[name].split(":")
            extra = dict(pair.split("=", 1) for pair in pairs)
            walls[name].append(_run(name, source, extra, round_, args.database))
    for name, seconds in walls.items():
        print(f"{name}: median {statistics.median(seconds):.2f} s  {[round(s, 2) for s in seconds]}")
    first = next(iter(walls))
    for name in list(walls)[1:]:
        ratio = statistics.median(walls[first]) / statistics.median(walls[name])
        print(f"ratio {first} / {name} (medians): {ratio:.3f}")


def _run(name: str, source: str, extra: dict[str, str], round_: int, database: str) -> float:
    extra = dict(extra)
    adflux = extra.pop("ADFLUX", ADFLUX)
    env = {
        **os.environ,
        **extra,
        "PYTHONPATH": str(Path(source).resolve()),
        "DATABASE_URL": f"postgresql+psycopg://{ROLE}@127.0.0.1:5432/{database}",
        "LOG_LEVEL": "WARNING",
        "ADFLUX_ENV": "development",
    }
    command = [adflux, "--json", "train-segments", "--k-min", "2", "--k-max", "12", "--force"]
    load = os.getloadavg()[0]
    thp_before = _huge_page_faults()
    started = time.perf_counter()
    command += ["--seed", str(round_)]
    # wait4: this run's own CPU (user, system) and peak memory.
    with tempfile.TemporaryFile("w+") as errors:
        child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=errors, text=True)
        assert child.stdout is not None
        stdout = child.stdout.read()
        _pid, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - started
        if child.returncode:
            errors.seek(0)
            raise SystemExit(f"{name}: train-segments failed\n{errors.read()}")
    thp = _huge_page_faults() - thp_before
    model = json.loads(stdout)["model"]
    with psycopg.connect(f"postgresql://{ROLE}@127.0.0.1:5432/{database}") as conn:
        rows = conn.execute(
            "SELECT count(*) FROM candidate_segments WHERE model_id = %s", (model["id"],)
        ).fetchone()[0]
        candidates = conn.execute("SELECT count(*) FROM candidates").fetchone()[0]
    assert rows == candidates, f"{rows} assignments for {candidates} candidates"
    print(
        f"round {round_} {name:10s} {wall:6.2f} s  CPU {usage.ru_utime:5.2f} user + {usage.ru_stime:4.2f} sys"
        f"  peak {usage.ru_maxrss // 1024:,} MiB  huge-page faults {thp:,}  k={model['k']} "
        f"ARI {model['persona_ari']}  rows {rows:,}  load {load:.2f}",
        flush=True,
    )
    return wall


def _huge_page_faults() -> int:
    """The system's transparent huge pages faulted in so far (each zeroes 2 MiB): /proc/vmstat."""
    try:
        with open("/proc/vmstat") as vmstat:
            return next((int(line.split()[1]) for line in vmstat if line.startswith("thp_fault_alloc ")), 0)
    except OSError:
        return 0


if __name__ == "__main__":
    main()
