"""Platform layer benchmarks against the loopback sandbox.

1. Adapter overhead per call: the same Meta Graph GET through a bare httpx client, through the
   Transport (classification, metrics, retries bookkeeping), and through the Transport with the
   per-account token bucket enabled. Zero simulated latency.
2. A burst of 1,000 campaign creates from several threads against a sandbox rate limit: how close
   throughput comes to the limit and how many throttles the sandbox had to send, with and without
   the client-side limiter.

Run: .venv/bin/python bench/bench_platforms.py [--calls 2000] [--creates 1000] [--rate 200]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import httpx

from adflux.constants import SANDBOX_ACCOUNTS
from adflux.platforms import AccountConfig, get_adapter
from adflux.platforms.meta import MetaAdapter
from adflux.platforms.ratelimit import TokenBucket
from adflux.platforms.transport import RetryPolicy, Transport, TransportConfig

TOKEN = SANDBOX_ACCOUNTS["meta"]["credentials"]["access_token"]  # registered with the sandbox


def bench_overhead(base_url: str, calls: int) -> dict[str, dict[str, float]]:
    """Median/mean/p95 per variant; the variants are interleaved so machine noise hits all alike."""
    path = "/v26.0/act_100/campaigns"
    params = {"fields": "id,name", "limit": "1"}
    headers = {"Authorization": f"Bearer {TOKEN}"}
    client = httpx.Client(timeout=10)
    plain = Transport(platform="meta", base_url=base_url, classify=MetaAdapter.classify, headers=headers)
    limited = Transport(
        platform="meta",
        base_url=base_url,
        classify=MetaAdapter.classify,
        headers=headers,
        limiter=TokenBucket(1e9, burst=1e9),
    )
    variants: dict[str, Callable[[], object]] = {
        "bare httpx": lambda: client.get(base_url + path, params=params, headers=headers),
        "Transport": lambda: plain.request("GET", path, operation="bench", params=params),
        "Transport + token bucket": lambda: limited.request("GET", path, operation="bench", params=params),
    }
    samples: dict[str, list[float]] = {label: [] for label in variants}
    for round_number in range(calls + 50):
        for label, call in variants.items():
            start = time.perf_counter()
            call()
            if round_number >= 50:  # the first rounds warm up the connection pools
                samples[label].append((time.perf_counter() - start) * 1e6)
    client.close()
    plain.close()
    limited.close()
    return {
        label: {
            "median_us": statistics.median(values),
            "mean_us": statistics.fmean(values),
            "p95_us": statistics.quantiles(values, n=20)[18],
        }
        for label, values in samples.items()
    }


def bench_cpu_overhead(calls: int) -> dict[str, float]:
    """The layer's own CPU cost per call, without any network: both sides use httpx.MockTransport."""
    body = b'{"data":[{"id":"1","name":"x"}],"paging":{"cursors":{"before":"a","after":"b"}}}'
    mock = httpx.MockTransport(lambda request: httpx.Response(200, content=body))
    client = httpx.Client(transport=mock)
    transport = Transport(
        platform="meta",
        base_url="http://127.0.0.1:9",
        classify=MetaAdapter.classify,
        config=TransportConfig(client=httpx.Client(transport=mock)),
        limiter=TokenBucket(1e9, burst=1e9),
    )
    timings: dict[str, list[float]] = {"bare": [], "layer": []}
    for _ in range(calls):
        start = time.perf_counter()
        client.get("http://127.0.0.1:9/v26.0/act_1/campaigns", params={"limit": "1"}).json()
        timings["bare"].append(time.perf_counter() - start)
        start = time.perf_counter()
        transport.request("GET", "/v26.0/act_1/campaigns", operation="bench", params={"limit": "1"}).json()
        timings["layer"].append(time.perf_counter() - start)
    bare, layer = (statistics.median(timings[key]) * 1e6 for key in ("bare", "layer"))
    return {"bare_httpx_us": bare, "transport_us": layer, "overhead_us": layer - bare}


def bench_burst(
    base_url: str, creates: int, rate: float, *, client_rate: float | None, threads: int = 8
) -> dict:
    control = httpx.Client(base_url=base_url, timeout=10)
    control.post("/__sandbox/reset")
    control.post("/__sandbox/rate_limits", json={"platform": "meta", "per_second": rate, "burst": 10})
    account = AccountConfig(
        account_id=f"act_{200 + int(client_rate or 0)}",
        credentials={"access_token": TOKEN},
        base_url=base_url,
        # burst 1: the client smooths its traffic; the platform's burst absorbs network jitter.
        rate_limit_per_second=client_rate,
        rate_limit_burst=1 if client_rate else None,
    )
    config = TransportConfig(retry=RetryPolicy(max_attempts=10, base_delay=0.05, max_delay=2.0, max_wait=5.0))
    adapter = get_adapter("meta", account, transport_config=config)
    data = {
        "objective": "OUTCOME_TRAFFIC",
        "status": "PAUSED",
        "special_ad_categories": ["EMPLOYMENT"],
        "special_ad_category_country": ["CO"],
    }
    counter = iter(range(creates))
    lock = threading.Lock()
    failures = []

    def worker() -> None:
        while True:
            with lock:
                index = next(counter, None)
            if index is None:
                return
            try:
                adapter._post(
                    f"{adapter.act}/campaigns", "create_campaign", {**data, "name": f"[adflux:b{index}] x"}
                )
            except Exception as exc:  # counted and reported below
                failures.append(repr(exc))

    start = time.perf_counter()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - start
    created = (
        control.get("/__sandbox/objects", params={"platform": "meta"}).json()["counts"].get("campaign", 0)
    )
    throttles = control.get("/__sandbox/stats").json()["throttled"].get("meta", 0)
    control.post("/__sandbox/rate_limits", json={"platform": "meta", "per_second": None})
    control.close()
    adapter.close()
    # The ideal time: the burst is free, the rest arrives at exactly the limit.
    ideal = max(0.0, (creates - 10) / rate)
    return {
        "client_rate": client_rate,
        "creates": creates,
        "created": created,
        "failures": len(failures),
        "elapsed_s": elapsed,
        "throughput_per_s": created / elapsed,
        "limit_per_s": rate,
        "efficiency": ideal / elapsed if elapsed else 0.0,
        "sandbox_throttles": throttles,
        "client_waits": len(adapter.transport.waits),
    }


def _wait_until_up(base_url: str) -> None:
    for _ in range(100):
        try:
            httpx.get(f"{base_url}/__sandbox/health", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError("sandbox did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--creates", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    # The sandbox runs in its own process, as `adflux sandbox` would, so it does not share our GIL.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"from adflux.sandbox import serve_sandbox; serve_sandbox('127.0.0.1', {port})",
        ]
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base_url)
        cpu = bench_cpu_overhead(args.calls * 5)
        overhead = bench_overhead(base_url, args.calls)
        runs = [
            bench_burst(base_url, args.creates, args.rate, client_rate=args.rate),
            bench_burst(base_url, args.creates, args.rate, client_rate=0.95 * args.rate),
            bench_burst(base_url, args.creates, args.rate, client_rate=None),
        ]
    finally:
        server.terminate()
        server.wait(timeout=10)
    machine = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "processor": platform.processor() or "unknown",
        "cpus": os.cpu_count(),
        "system": f"{platform.system()} {platform.release()}",
    }
    report = {"machine": machine, "cpu_overhead": cpu, "overhead": overhead, "burst": runs}
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"machine: {machine}")
    print(
        f"\nlayer CPU cost, no network (median of {args.calls * 5}): "
        f"bare httpx {cpu['bare_httpx_us']:.0f} µs, "
        f"Transport + limiter + classify + metrics {cpu['transport_us']:.0f} µs "
        f"(+{cpu['overhead_us']:.0f} µs per call)"
    )
    print(f"\nper-call latency over {args.calls} GETs against the sandbox (zero simulated latency):")
    base = overhead["bare httpx"]["median_us"]
    for label, figures in overhead.items():
        print(
            f"  {label:<26} median {figures['median_us']:7.0f} µs  mean {figures['mean_us']:7.0f} µs  "
            f"p95 {figures['p95_us']:7.0f} µs  (+{figures['median_us'] - base:5.0f} µs vs bare)"
        )
    print(f"\nburst of {args.creates} creates, 8 threads, sandbox limit {args.rate}/s (burst 10):")
    for run in runs:
        limiter = f"{run['client_rate']:.0f}/s" if run["client_rate"] else "off"
        print(
            f"  client limiter {limiter:>6}: {run['created']} created, "
            f"{run['failures']} failed, {run['elapsed_s']:.2f} s, {run['throughput_per_s']:.1f}/s "
            f"({100 * run['throughput_per_s'] / run['limit_per_s']:.1f}% of the limit), "
            f"{run['sandbox_throttles']} throttled by the sandbox, {run['client_waits']} client retries"
        )


if __name__ == "__main__":
    main()
