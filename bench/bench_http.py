"""HTTP under load: the job list, campaign list and performance report behind gunicorn, with wrk.

What it does, all on 127.0.0.1 and all bounded in time:

1. Creates a scratch PostgreSQL database (``adflux_bench_http``), the schema (``create_all``), and
   seeds it through the services: 5,000 simulated job openings (``seed_database``), 200 draft
   campaigns on 2–3 platforms (``create_campaign``), 30 days of daily metrics with rollups
   (``upsert_metrics``), and an admin API token (``issue_token``). Then ``VACUUM ANALYZE``.
2. Optionally (``--profile``) measures the cost of each endpoint in one process with the Flask test
   client: microseconds per request, SQL statements per request, and a cProfile summary.
3. Starts gunicorn with the repository's ``gunicorn.conf.py`` and production settings
   (``ADFLUX_ENV=production``, real ``SECRET_KEY`` and ``ADFLUX_ENCRYPTION_KEY``, ``LOG_FORMAT=json``
   at INFO, so AdFlux writes its JSON access line for every request, to a file) with sync workers
   (2 × cores + 1) and, for comparison, gthread workers.
4. Runs ``wrk -t2 -c50 -d15s --latency`` with the bearer token against each endpoint, plus a
   same-run baseline: a bare Flask app (same gunicorn settings) serving a hello-world and a plain
   SQLAlchemy Core query of the same 20 job rows.
   The headline (stage ``ratio``): with the response cache off, both servers up at once, each
   round runs the hello-world right before each endpoint, and the figure is the endpoint's req/s
   as a share of that hello-world's, per round, with the load average beside it. Nothing waits
   for a quiet machine: the ratio is what this machine's load gives both. A reference row, the
   bare app's plain Core query of 20 job rows, shows what one PostgreSQL round trip allows.
   The lists whose data has version tokens (candidates, the report by platform, campaigns) are
   timed a second time on a third server with the response cache on, as the product serves them
   ("<name> (cache on)"; ``--no-cached`` leaves them out); the job list only uncached.
5. Finds, per endpoint, the largest number of connections that keeps p99 < 100 ms with no errors.
6. Soaks (5 minutes; ``--quick``: 30 s) with a mix of the three endpoints, counting socket
   errors, non-2xx responses, 5xx lines in the access log, and worker restarts or timeouts.

Run:  .venv/bin/python bench/bench_http.py [--quick] [--stages ratio,...] [--rounds N] [--profile]
          [--json out.json]
The scratch database, gunicorn processes and temporary files are removed at the end.

The parts, each in its own module next to this one: http_data (the scratch database and its seed),
http_server (gunicorn), http_baseline_app (the bare app), http_wrk (wrk runs and the stages built on
them), http_machine (load and CPU from /proc), http_profile (--profile).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import http_server
from http_baseline_app import BASELINE_ENDPOINTS
from http_data import drop_database, seed
from http_machine import load_average, machine
from http_profile import profile_in_process
from http_server import serving
from http_wrk import find_max_load, measure_at_c50, measure_ratio, soak

ENDPOINTS = {
    "jobs": "/api/v1/jobs",
    "campaigns": "/api/v1/campaigns",
    "candidates": "/api/v1/candidates",
    "report": "/api/v1/reports/performance",
}

# Timed in the ratio stage a second time with the response cache on (the product's default): their
# data has version tokens. The job list is timed uncached only, as issue 25 asks.
CACHED_IN_RATIO = ("candidates", "report", "campaigns")


# ---- before and during the load ------------------------------------------------------------------


def check_endpoints(base: str, token: str) -> dict[str, int]:
    """Every measured endpoint answers 200 with the token (and 401 without) before any load."""
    import httpx

    sizes = {}
    for name, path in ENDPOINTS.items():
        response = httpx.get(base + path, headers={"Authorization": f"Bearer {token}"}, timeout=10)
        if response.status_code != 200:
            raise RuntimeError(f"{path}: {response.status_code} {response.text[:300]}")
        if httpx.get(base + path, timeout=10).status_code != 401:
            raise RuntimeError(f"{path} answered without a token")
        sizes[name] = len(response.content)
        if name == "jobs":
            assert len(response.json()["items"]) == 20, response.json()
    return sizes


@contextlib.contextmanager
def job_edits(base: str, token: str, *, per_second: float) -> Iterator[dict[str, int]]:
    """PATCH the newest job opening's title `per_second` times a second until the block ends."""
    import threading

    import httpx

    counts = {"sent": 0, "ok": 0}
    stop = threading.Event()
    headers = {"Authorization": f"Bearer {token}"}

    def edit() -> None:
        with httpx.Client(base_url=base, headers=headers, timeout=10) as client:
            job_id = client.get(ENDPOINTS["jobs"], params={"page_size": 1}).json()["items"][0]["id"]
            while not stop.wait(1 / per_second):
                counts["sent"] += 1
                response = client.patch(f"/api/v1/jobs/{job_id}", json={"title": f"Edición {counts['sent']}"})
                counts["ok"] += response.status_code == 200

    thread = threading.Thread(target=edit, daemon=True)
    thread.start()
    try:
        yield counts
    finally:
        stop.set()
        thread.join(timeout=15)


# ---- the run ---------------------------------------------------------------------------------------


def _interrupt(*_: Any) -> None:
    raise KeyboardInterrupt


STAGES = ("ratio", "baseline", "sync", "gthread", "nocache", "churn", "load", "soak")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short runs (5 s) and a 30 s soak")
    parser.add_argument("--profile", action="store_true", help="also profile each endpoint in process")
    parser.add_argument("--profile-cache-off", action="store_true", help="profile with the cache off")
    parser.add_argument("--stages", default=",".join(STAGES), help=f"any of {','.join(STAGES)}")
    parser.add_argument("--endpoints", default=",".join(ENDPOINTS), help="which AdFlux endpoints")
    parser.add_argument("--repeat", type=int, default=None, help="wrk runs per c50 figure (median)")
    parser.add_argument("--duration", type=int, default=None, help="seconds per wrk run")
    parser.add_argument("--soak-seconds", type=int, default=None)
    parser.add_argument("--reuse-db", action="store_true", help="keep an existing seeded database")
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database at the end")
    parser.add_argument("--json", type=Path, help="write every result to this file")
    parser.add_argument("--served-source", help="serve adflux from this src directory instead")
    parser.add_argument("--rounds", type=int, default=None, help="alternations in the ratio stage")
    parser.add_argument("--no-cached", action="store_true", help="ratio stage: no cache-on rows")
    args = parser.parse_args()
    # SIGTERM unwinds like Ctrl-C, so gunicorn, the database and temporary files are cleaned up.
    signal.signal(signal.SIGTERM, _interrupt)
    http_server.SERVED_SOURCE = args.served_source

    stages = set(args.stages.split(",")) if args.stages else set()
    endpoints = {k: ENDPOINTS[k] for k in args.endpoints.split(",")}
    duration = args.duration or (5 if args.quick else 15)
    repeat = args.repeat or (1 if args.quick else 3)
    soak_seconds = args.soak_seconds or (30 if args.quick else 300)
    workers = 2 * (os.cpu_count() or 1) + 1
    results: dict[str, Any] = {"machine": machine(), "mode": "quick" if args.quick else "full"}
    results["started"] = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    results["load_average_start"] = load_average()
    results["config"] = {"workers": workers, "gthread_threads": 2, "wrk": f"-t2 -d{duration}s --latency"}
    instance = Path(tempfile.mkdtemp(prefix="adflux-bench-http-"))
    print(f"machine: {results['machine']}; load average {results['load_average_start']}", flush=True)
    try:
        data = seed(instance, reuse=args.reuse_db)
        token = data.pop("token")
        results["data"] = data
        print(f"data: {data}", flush=True)
        if args.profile:
            results["profile"] = profile_in_process(
                instance,
                token,
                endpoints,
                requests=1000 if args.quick else 3000,
                cache=not args.profile_cache_off,
            )
            for name, prof in results["profile"].items():
                print(
                    f"  in process {name:<10} {prof['us_per_request']} µs/request "
                    f"({prof['cpu_us_per_request']} µs CPU), SQL: {' '.join(prof['sql_per_request'])}",
                    flush=True,
                )
            for name, prof in results["profile"].items():
                print(f"---- {name}")
                print("\n".join(prof["top_tottime"]))
        results["c50"] = {}
        if "ratio" in stages:
            with (
                serving(
                    instance,
                    name="baseline",
                    worker_class="sync",
                    workers=workers,
                    threads=1,
                    app="http_baseline_app:baseline_app()",
                ) as hello_server,
                serving(
                    instance,
                    name="adflux",
                    worker_class="sync",
                    workers=workers,
                    threads=1,
                    extra_env={"ADFLUX_RESPONSE_CACHE_ENTRIES": "0"},
                ) as server,
                serving(
                    instance, name="adflux_cached", worker_class="sync", workers=workers, threads=1
                ) as cached_server,
            ):
                check_endpoints(server.url, token)
                # As served (the response cache on, the default): the lists whose data has tokens,
                # not the job list (issue 25 times it uncached).
                as_served = {k: v for k, v in endpoints.items() if k in CACHED_IN_RATIO}
                results["ratio"] = measure_ratio(
                    hello_server,
                    server,
                    token,
                    endpoints,
                    duration=duration,
                    rounds=args.rounds or repeat,
                    cached=(cached_server, as_served) if as_served and not args.no_cached else None,
                )
        if "baseline" in stages:
            with serving(
                instance,
                name="baseline",
                worker_class="sync",
                workers=workers,
                threads=1,
                app="http_baseline_app:baseline_app()",
            ) as server:
                results["c50"]["baseline"] = measure_at_c50(
                    server, None, BASELINE_ENDPOINTS, duration=duration, repeat=repeat
                )
        if "gthread" in stages:
            with serving(
                instance, name="gthread", worker_class="gthread", workers=workers, threads=2
            ) as server:
                check_endpoints(server.url, token)
                results["c50"]["gthread"] = measure_at_c50(
                    server, token, endpoints, duration=duration, repeat=repeat
                )
        if "nocache" in stages and "jobs" in endpoints:
            # The simple way in the same run: every request builds its page from the database.
            with serving(
                instance,
                name="nocache",
                worker_class="sync",
                workers=workers,
                threads=1,
                extra_env={"ADFLUX_RESPONSE_CACHE_ENTRIES": "0"},
            ) as server:
                results["c50"]["sync, cache off"] = measure_at_c50(
                    server, token, {"jobs": ENDPOINTS["jobs"]}, duration=duration, repeat=repeat
                )
        if "churn" in stages and "jobs" in endpoints:
            # The cache under writes: a manager edits a job opening 10 times a second meanwhile.
            with (
                serving(instance, name="churn", worker_class="sync", workers=workers, threads=1) as server,
                job_edits(server.url, token, per_second=10) as edits,
            ):
                results["c50"]["sync, 10 job edits/s"] = measure_at_c50(
                    server, token, {"jobs": ENDPOINTS["jobs"]}, duration=duration, repeat=repeat
                )
                results["c50"]["sync, 10 job edits/s"]["jobs"]["edits"] = dict(edits)
        if stages & {"sync", "load", "soak"}:
            with serving(instance, name="sync", worker_class="sync", workers=workers, threads=1) as server:
                results["response_bytes"] = check_endpoints(server.url, token)
                if "sync" in stages:
                    results["c50"]["sync"] = measure_at_c50(
                        server, token, endpoints, duration=duration, repeat=repeat
                    )
                if "load" in stages:
                    results["max_load"] = find_max_load(server, token, endpoints, duration=duration)
                if "soak" in stages:
                    results["soak"] = soak(server, token, duration=soak_seconds, connections=50)
                results["gunicorn_log"] = server.log_counts()
        results["load_average_end"] = load_average()
    finally:
        if not args.keep_db:
            with contextlib.suppress(Exception):
                drop_database()
        shutil.rmtree(instance, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    print_markdown(results)


def _fmt(r: dict[str, Any] | None) -> str:
    if not r:
        return "–"
    return f"{r['rps']:,.0f} | {r['p50_ms']:.1f} / {r['p99_ms']:.1f} | {r['errors']}"


def print_markdown(results: dict[str, Any]) -> None:
    m = results["machine"]
    print()
    print(
        f"Machine: {m['nproc']} × {m['cpu']}, {m['ram_gib']} GiB RAM, Python {m['python']}, "
        f"PostgreSQL {results['data']['postgresql']}, {m['gunicorn']}, {m['wrk']}; "
        f"load average at start {results['load_average_start']}, at end {results.get('load_average_end')}."
    )
    print()
    if "ratio" in results:
        print("| endpoint (cache off) | share of hello-world req/s at c50, per round | median | p99 ms |")
        print("|---|---|---|---|")
        for name, r in results["ratio"].items():
            shares = ", ".join(f"{x['ratio']:.2f}" for x in r["rounds"])
            print(f"| {name} | {shares} | **{r['median_ratio']:.2f}** | {r['median_p99_ms']} |")
        print()
    print("| server | endpoint | req/s | p50 / p99 ms | errors |")
    print("|---|---|---|---|---|")
    for server, endpoints in results["c50"].items():
        for name, r in endpoints.items():
            print(f"| {server} | {name} | {_fmt(r)} |")
    if "max_load" in results:
        print()
        print("| endpoint | largest load with p99 < 100 ms, 0 errors | req/s | p50 / p99 ms | errors |")
        print("|---|---|---|---|---|")
        for name, found in results["max_load"].items():
            best = found["best"]
            print(f"| {name} | c{best['connections'] if best else '–'} | {_fmt(best)} |")
    if "soak" in results:
        s = results["soak"]
        print()
        print(
            f"Soak {s['duration_s']} s at c{s['connections']}: {s['requests']:,} requests, "
            f"{s['rps']:,.0f} req/s, p50 {s['p50_ms']} ms, p99 {s['p99_ms']} ms, wrk errors {s['errors']} "
            f"(socket {s['socket_errors']}, non-2xx {s['non_2xx']}), access log {s['log']}."
        )


if __name__ == "__main__":
    main()
