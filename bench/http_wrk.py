"""bench_http's load runs: wrk against a server (with the CPU each party spent), parsed, and the
stages built on it: c50 medians, the same-run ratio to the hello-world, the largest load, the soak.
"""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path
from typing import Any

from http_baseline_app import BASELINE_ENDPOINTS
from http_machine import CLOCK_TICKS, _cpu_times, cpu_busy, load_average, postgres_backends_cpu
from http_server import Gunicorn

BENCH_DIR = Path(__file__).resolve().parent
P99_LIMIT_MS = 100.0
SOAK_SCRIPT = BENCH_DIR / "wrk_mix.lua"
LOAD_LEVELS = (5, 10, 25, 50, 100, 150, 200, 300, 400)
_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not match:
        raise ValueError(f"unparsed latency {text!r}")
    return float(match.group(1)) * _UNIT_MS[match.group(2)]


def parse_wrk(output: str) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for pct in ("50", "75", "90", "99"):
        match = re.search(rf"^\s+{pct}(?:\.000)?%\s+(\S+)", output, re.M)
        result[f"p{pct}_ms"] = round(_ms(match.group(1)), 2) if match else None
    match = re.search(r"Requests/sec:\s+([\d.]+)", output)
    result["rps"] = round(float(match.group(1)), 1) if match else 0.0
    match = re.search(r"(\d+) requests in ([\d.]+\w+)", output)
    result["requests"] = int(match.group(1)) if match else 0
    match = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    socket_errors = [int(x) for x in match.groups()] if match else [0, 0, 0, 0]
    result["socket_errors"] = dict(zip(("connect", "read", "write", "timeout"), socket_errors, strict=True))
    match = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    result["non_2xx"] = int(match.group(1)) if match else 0
    result["errors"] = sum(socket_errors) + result["non_2xx"]
    return result


def run_wrk(
    server: Gunicorn,
    path: str,
    token: str | None,
    *,
    connections: int,
    duration: int,
    threads: int = 2,
    script: Path | None = None,
) -> dict[str, Any]:
    """One wrk run, with the CPU each party spent: gunicorn, PostgreSQL backends, wrk, others."""
    import resource

    command = ["wrk", f"-t{min(threads, connections)}", f"-c{connections}", f"-d{duration}s", "--latency"]
    if token:
        command += ["-H", f"Authorization: Bearer {token}"]
    if script is not None:
        command += ["-s", str(script)]
    command.append(server.url + path)
    busy_before = round(cpu_busy(0.5), 2)  # measured, never waited for: the figure is what this load gives
    load_before = load_average()[0]
    server_cpu0, pg_cpu0 = server.cpu_seconds(), postgres_backends_cpu()
    machine0 = _cpu_times()
    wrk0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60, check=True)
    wrk1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    machine1 = _cpu_times()
    server_cpu1, pg_cpu1 = server.cpu_seconds(), postgres_backends_cpu()
    result = parse_wrk(out.stdout)
    requests = max(1, result["requests"])
    machine_cpu = (machine1[0] - machine0[0]) / CLOCK_TICKS
    cpu = {
        "gunicorn": server_cpu1 - server_cpu0,
        "postgresql": sum(cpu - pg_cpu0.get(pid, 0.0) for pid, cpu in pg_cpu1.items()),
        "wrk": (wrk1.ru_utime + wrk1.ru_stime) - (wrk0.ru_utime + wrk0.ru_stime),
    }
    cpu["others"] = max(0.0, machine_cpu - sum(cpu.values()))
    result.update(
        {
            "connections": connections,
            "duration_s": duration,
            "load_before": load_before,
            "cpu_busy_before": busy_before,
            "cpu_seconds": {k: round(v, 2) for k, v in cpu.items()},
            "cpu_us_per_request": {k: round(v / requests * 1e6) for k, v in cpu.items() if k != "others"},
        }
    )
    return result


def passes(result: dict[str, Any]) -> bool:
    return result["errors"] == 0 and result["p99_ms"] is not None and result["p99_ms"] < P99_LIMIT_MS


def measure_at_c50(
    server: Gunicorn, token: str | None, endpoints: dict[str, str], *, duration: int, repeat: int
) -> dict[str, Any]:
    """wrk -t2 -c50 against each endpoint; the median run (by req/s) of `repeat`."""
    out: dict[str, Any] = {}
    for name, path in endpoints.items():
        run_wrk(server, path, token, connections=50, duration=max(2, duration // 5))  # warm-up
        runs = [run_wrk(server, path, token, connections=50, duration=duration) for _ in range(repeat)]
        runs.sort(key=lambda r: r["rps"])
        median = dict(runs[len(runs) // 2])
        median["all_rps"] = [r["rps"] for r in runs]
        median["all_p99_ms"] = [r["p99_ms"] for r in runs]
        out[name] = median
        print(
            f"  {server.name:>8} {name:<10} c50: {median['rps']:>8,.0f} req/s  p50 {median['p50_ms']} ms  "
            f"p99 {median['p99_ms']} ms  errors {median['errors']}  (runs {median['all_rps']}, "
            f"load {median['load_before']}, busy before {median['cpu_busy_before']}; "
            f"CPU µs/request {median['cpu_us_per_request']}, "
            f"others' CPU {median['cpu_seconds']['others']} s)",
            flush=True,
        )
    return out


def measure_ratio(
    baseline: Gunicorn,
    server: Gunicorn,
    token: str,
    endpoints: dict[str, str],
    *,
    duration: int,
    rounds: int,
    cached: tuple[Gunicorn, dict[str, str]] | None = None,
) -> dict[str, Any]:
    """The headline: each endpoint's req/s at c50 as a share of the bare hello-world's, both servers
    up at once under the same gunicorn settings, the hello-world run right before each endpoint run
    in every round (so both meet the same machine), the ratio taken per round.

    `cached`: a server with the response cache on (the product's default) and the endpoints to
    time on it too, as "<name> (cache on)" rows."""
    targets = [(name, server, path, token) for name, path in endpoints.items()]
    if cached is not None:
        targets += [(f"{name} (cache on)", cached[0], path, token) for name, path in cached[1].items()]
    out: dict[str, Any] = {name: {"rounds": []} for name, *_ in targets}
    for _, target, path, _auth in targets:  # warm every server (and fill the caches)
        run_wrk(target, path, token, connections=50, duration=2)
    run_wrk(baseline, "/hello", None, connections=50, duration=2)
    # A reference row: the bare app's plain Core query of the same 20 job rows (no auth, no count,
    # no middleware) -- what one round trip to PostgreSQL costs against the hello-world.
    targets.append(("core query (bare)", baseline, BASELINE_ENDPOINTS["jobs_core"], None))
    out["core query (bare)"] = {"rounds": []}
    for number in range(1, rounds + 1):
        for name, target, path, auth in targets:
            hello = run_wrk(baseline, "/hello", None, connections=50, duration=duration)
            mine = run_wrk(target, path, auth, connections=50, duration=duration)
            ratio = mine["rps"] / max(1.0, hello["rps"])
            out[name]["rounds"].append(
                {
                    "ratio": round(ratio, 3),
                    "rps": mine["rps"],
                    "hello_rps": hello["rps"],
                    "p99_ms": mine["p99_ms"],
                    "errors": mine["errors"] + hello["errors"],
                    "load": mine["load_before"],
                }
            )
            print(
                f"  round {number} {name:<20} {ratio:.2f}x hello ({mine['rps']:,.0f} vs {hello['rps']:,.0f} "
                f"req/s), p99 {mine['p99_ms']} ms, errors {mine['errors']}, load {mine['load_before']}",
                flush=True,
            )
    for result in out.values():
        ratios = sorted(r["ratio"] for r in result["rounds"])
        p99s = sorted(r["p99_ms"] or 0.0 for r in result["rounds"])
        result["median_ratio"] = ratios[len(ratios) // 2]
        result["median_p99_ms"] = p99s[len(p99s) // 2]
    return out


def find_max_load(
    server: Gunicorn, token: str, endpoints: dict[str, str], *, duration: int
) -> dict[str, Any]:
    """Per endpoint: the largest connection count (of LOAD_LEVELS) with p99 < 100 ms and no errors."""
    out: dict[str, Any] = {}
    for name, path in endpoints.items():
        steps = []
        best = None
        failures = 0
        for connections in LOAD_LEVELS:
            result = run_wrk(server, path, token, connections=connections, duration=duration)
            result["pass"] = passes(result)
            steps.append(result)
            print(
                f"  load {name:<10} c{connections:<4} {result['rps']:>8,.0f} req/s  "
                f"p50 {result['p50_ms']} ms p99 {result['p99_ms']} ms  errors {result['errors']}  "
                f"{'ok' if result['pass'] else 'over'}",
                flush=True,
            )
            if result["pass"]:
                best = result
                failures = 0
            else:
                failures += 1
                if failures >= 2:  # two levels in a row over the line: higher ones will be too
                    break
        out[name] = {"best": best, "steps": steps}
    return out


def soak(server: Gunicorn, token: str, *, duration: int, connections: int) -> dict[str, Any]:
    before = server.log_counts()
    result = run_wrk(server, "/", token, connections=connections, duration=duration, script=SOAK_SCRIPT)
    time.sleep(1)
    after = server.log_counts()
    result["log"] = {k: after[k] - before[k] for k in after}
    print(
        f"  soak {duration} s c{connections}: {result['requests']:,} requests, {result['rps']:,.0f} req/s, "
        f"p50 {result['p50_ms']} ms p99 {result['p99_ms']} ms, wrk errors {result['errors']}, "
        f"log {result['log']}",
        flush=True,
    )
    return result
