"""Two checkouts of AdFlux timed on the same national paths in the same run, request by request.

Each side is its own process (`--serve`: an app built from that checkout's `src`, signed in through
the login form as its own bench user, with its own API token) reading paths on stdin and answering
one line of JSON per request: the server time through the Flask test client, the process's CPU
time over it (less noisy than the wall clock on a loaded machine; the database's CPU is not in
it), the status, the response's size and its row count (`<tr` in a page; `items`/`rows` of an API
answer). The driver asks both sides for every path in turn, the side that goes first swapping
every round, so that the machine's load falls on both alike; it prints p50/p95 per side, the
same-run ratio, the load average beside them, and flags a path the two sides answer with
different row counts (ROWS DIFFER).

Usage (old = main's checkout, new = this one):
    PYTHONPATH=src .venv/bin/python bench/bench_national_ab.py --old /work/main --new . \\
        [--database adflux_national] [--rounds 20] [--only REGEX] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PATHS = [
    "/campaigns/{id}",
    "/campaigns/{id}?period=all",
    "/campaigns/{id}/allocation",
    "/campaigns",
    "/campaigns?sort=spend&dir=desc",
    "/campaigns?sort=cpa&dir=asc",
    "/campaigns?page=400",
    "/api/v1/reports/performance?group_by=campaign",
    "/api/v1/status",
    "/api/v1/campaigns",
    "/api/v1/campaigns?page=400",
    "/api/v1/reports/campaigns/{id}/daily",
]


def serve(database: str, tag: str) -> None:
    """One side: requests from stdin, one JSON line per answer on stdout."""
    sys.path.insert(0, str(HERE))
    import bench_national_pages
    import bench_pages

    from adflux.app import create_app
    from adflux.extensions import db
    from adflux.settings import Settings

    bench_national_pages.EMAIL = f"bench-{tag}@national.local"  # each side its own user and token
    settings = Settings.from_env(
        {}, env="testing", instance_path="/tmp", metrics_enabled=False,
        database_url=f"postgresql+psycopg://postgres@127.0.0.1:5432/{database}",
    )  # fmt: skip
    app = create_app(settings)
    with app.app_context():
        token = bench_national_pages.signed_in_user()
        campaign_id = db.session.scalar(db.text("SELECT max(campaign_id) FROM campaign_metric_totals"))
        db.session.remove()
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    form = {"email": bench_national_pages.EMAIL, "password": bench_pages.PASSWORD, "csrf_token": csrf}
    assert client.post("/login", data=form).status_code == 302
    bearer = {"Authorization": f"Bearer {token}"}
    print(json.dumps({"campaign_id": campaign_id}), flush=True)
    for line in sys.stdin:
        path = line.strip()
        start, cpu = time.perf_counter(), time.process_time()
        response = client.get(path, headers=bearer if path.startswith("/api/") else None)
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        body = response.get_data()
        if path.startswith("/api/"):
            data = response.get_json(silent=True) or {}
            rows = len(data.get("items") or data.get("rows") or data.get("series", {}).get("meta") or [])
        else:
            rows = body.count(b"<tr")
        answer = {"s": elapsed, "cpu": cpu, "status": response.status_code, "bytes": len(body), "rows": rows}
        print(json.dumps(answer),
              flush=True)  # fmt: skip


class Side:
    def __init__(self, name: str, checkout: Path, database: str) -> None:
        env = {**os.environ, "PYTHONPATH": str(checkout.resolve() / "src")}
        command = [sys.executable, str(Path(__file__).resolve()), "--serve", name, "--database", database]
        self.name = name
        self.process = subprocess.Popen(
            command, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        self.campaign_id = json.loads(self._line())["campaign_id"]

    def _line(self) -> str:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit(f"side {self.name} stopped")
        return line

    def get(self, path: str) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(path + "\n")
        self.process.stdin.flush()
        return dict(json.loads(self._line()))

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--old", type=Path, default=Path("/work/main"))
    parser.add_argument("--new", type=Path, default=HERE.parent)
    parser.add_argument("--database", default="adflux_national")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--only", help="time only the paths matching this regular expression")
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args()
    if args.serve:
        serve(args.database, args.serve)
        return
    print(f"load average at start: {os.getloadavg()}", flush=True)
    sides = [Side("old", args.old, args.database), Side("new", args.new, args.database)]
    campaign_id = sides[0].campaign_id
    paths = [p.format(id=campaign_id) for p in PATHS if not args.only or re.search(args.only, p)]
    for path in paths:  # once each, untimed: templates compiled, connections open
        for side in sides:
            assert side.get(path)["status"] == 200, (side.name, path)
    samples: dict[tuple[str, str], list[float]] = {(s.name, p): [] for s in sides for p in paths}
    cpu: dict[tuple[str, str], list[float]] = {(s.name, p): [] for s in sides for p in paths}
    rows: dict[tuple[str, str], set[int]] = {(s.name, p): set() for s in sides for p in paths}
    loads: dict[str, list[float]] = {p: [] for p in paths}
    for round_number in range(args.rounds):
        order = sides if round_number % 2 == 0 else sides[::-1]
        for path in paths:
            for side in order:
                answer = side.get(path)
                assert answer["status"] == 200, (side.name, path, answer)
                samples[(side.name, path)].append(answer["s"])
                cpu[(side.name, path)].append(answer["cpu"])
                rows[(side.name, path)].add(answer["rows"])
            loads[path].append(os.getloadavg()[0])
    for side in sides:
        side.close()
    report(args, paths, samples, rows, loads, cpu)


def report(
    args: argparse.Namespace, paths: list[str], samples: dict[tuple[str, str], list[float]],
    rows: dict[tuple[str, str], set[int]], loads: dict[str, list[float]],
    cpu: dict[tuple[str, str], list[float]],
) -> None:  # fmt: skip
    sys.path.insert(0, str(HERE))
    from bench_national_pages import percentile

    load = os.getloadavg()
    print(f"\n{args.rounds} rounds, old and new alternated per path (first side swapped every round); "
          f"load average at the end {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}")  # fmt: skip
    figures: dict[str, Any] = {}
    for path in paths:
        old, new = samples[("old", path)], samples[("new", path)]
        o50, o95, n50, n95 = (v * 1000 for v in (statistics.median(old), percentile(old, 0.95),
                                                 statistics.median(new), percentile(new, 0.95)))  # fmt: skip
        same = rows[("old", path)] == rows[("new", path)]
        old_cpu, new_cpu = (statistics.median(cpu[(side, path)]) * 1000 for side in ("old", "new"))
        found = sorted(rows[("new", path)])
        figures[path] = {
            "old_p50_ms": round(o50, 1), "old_p95_ms": round(o95, 1), "new_p50_ms": round(n50, 1),
            "new_p95_ms": round(n95, 1), "ratio_p50": round(o50 / n50, 2),
            "old_cpu_p50_ms": round(old_cpu, 1), "new_cpu_p50_ms": round(new_cpu, 1),
            "load": round(statistics.median(loads[path]), 2),
            "rows_old": sorted(rows[("old", path)]), "rows_new": found,
        }  # fmt: skip
        differ = "" if same else f" ROWS DIFFER: old {sorted(rows[('old', path)])}"
        load_then = figures[path]["load"]
        print(f"  {path:<48} ratio {o50 / n50:5.2f}x | old p50 {o50:6.1f} p95 {o95:6.1f} | "
              f"new p50 {n50:6.1f} p95 {n95:6.1f} ms | load {load_then:5.2f} | "
              f"rows {found}{differ}\n  {'':<48} Python CPU p50 old {old_cpu:6.1f} new {new_cpu:6.1f} ms: "
              f"{old_cpu / new_cpu:5.2f}x")  # fmt: skip
    if args.json:
        Path(args.json).write_text(
            json.dumps({"rounds": args.rounds, "load_end": load, "paths": figures}, indent=1)
        )


if __name__ == "__main__":
    main()
