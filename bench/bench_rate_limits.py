"""The client rate limiter alone: two processes with uneven work against one rate-limited account.

Everything on 127.0.0.1: the sandbox in its own process (50 ms per call, a rate limit for Google
Ads) and two worker processes calling it through the real Google Ads adapter and transport
(GAQL searches). Process A has work for --seconds, process B for half of it, the tail that Celery
leaves when one worker's queue runs dry before the other's. Two limiters, alternated round by
round in the same run:

- process: each process its own token bucket at --client-share x limit / 2 (what AdFlux did);
- account: one budget per account shared through Redis (ADFLUX_PLATFORM_RATE_LIMIT_SCOPE=account).

Reported per round: the calls the sandbox answered (its own /__sandbox/stats, less its throttles)
over A's working time, as a share of the platform's limit, and the throttles (429s). CPU-light (40 calls/s
at most), so it can be judged on a busy machine where the 1,000-campaign run cannot.

Usage:
    .venv/bin/python bench/bench_rate_limits.py [--limit 20] [--seconds 12] [--rounds 2]
        [--client-share 0.95] [--redis-db 13] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

CHILD = "child"


def child(base_url: str, mode: str, rate: float, redis_url: str, seconds: float) -> None:
    from adflux.constants import SANDBOX_ACCOUNTS
    from adflux.platforms.google import GoogleAdsAdapter
    from adflux.platforms.types import AccountConfig

    sandbox = SANDBOX_ACCOUNTS["google"]
    account = AccountConfig(
        account_id=sandbox["account_id"], credentials=dict(sandbox["credentials"]), base_url=base_url,
        rate_limit_per_second=rate, rate_limit_burst=1,
        rate_limit_shared_url=redis_url if mode == "account" else None,
    )  # fmt: skip
    adapter = GoogleAdsAdapter(account)
    calls = [0]
    lock = threading.Lock()

    def work() -> None:
        while time.time() < start + seconds:
            adapter.search("SELECT campaign.id FROM campaign LIMIT 1")
            with lock:
                calls[0] += 1

    print("ready", flush=True)
    start = float(sys.stdin.readline())
    time.sleep(max(0.0, start - time.time()))
    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(json.dumps({"calls": calls[0], "ended": time.time()}))


def one_round(args: argparse.Namespace, base_url: str, control: Any, mode: str) -> dict[str, Any]:
    import redis

    redis_url = f"redis://127.0.0.1:6379/{args.redis_db}"
    redis.Redis.from_url(redis_url).flushdb()
    control.post("/__sandbox/reset")
    control.post("/__sandbox/faults", json={"latency_ms": args.latency_ms}).raise_for_status()
    burst = max(2.0, round(args.limit / 5))
    control.post(
        "/__sandbox/rate_limits", json={"platform": "google", "per_second": args.limit, "burst": burst}
    )
    rate = args.limit * args.client_share / (2 if mode == "process" else 1)
    procs = [
        subprocess.Popen(
            [sys.executable, __file__, CHILD, base_url, mode, str(rate), redis_url, str(seconds)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for seconds in (args.seconds, args.seconds / 2)
    ]
    for proc in procs:  # both interpreters up (imports done) before the clock starts
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    before = control.get("/__sandbox/stats").json()
    start = time.time() + 0.3
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write(f"{start}\n")
        proc.stdin.flush()
    outs = [json.loads(proc.communicate(timeout=300)[0].strip().splitlines()[-1]) for proc in procs]
    after = control.get("/__sandbox/stats").json()
    counted = after["requests"].get("google", 0) - before["requests"].get("google", 0)
    throttled = after["throttled"].get("google", 0) - before["throttled"].get("google", 0)
    busy = max(out["ended"] for out in outs) - start
    return {
        "mode": mode, "client_rate": round(rate, 3), "calls_a_b": [o["calls"] for o in outs],
        "sandbox_counted": counted, "busy_s": round(busy, 2),
        "share_of_limit": round((counted - throttled) / busy / args.limit, 3), "throttled": throttled,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }  # fmt: skip


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == CHILD:
        base_url, mode, rate, redis_url, seconds = sys.argv[2:7]
        return child(base_url, mode, float(rate), redis_url, float(seconds))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=float, default=20.0, help="the sandbox's Google calls/s")
    parser.add_argument("--seconds", type=float, default=12.0, help="process A's work (B: half)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--client-share", type=float, default=0.95)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--redis-db", type=int, default=13, help="Redis database (flushed) for the budget")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).parent))
    import httpx
    from publishing_scratch import start_sandbox, stop

    sandbox, base_url = start_sandbox(args.latency_ms)
    control = httpx.Client(base_url=base_url, timeout=30)
    rounds = []
    try:
        for index in range(args.rounds):
            order = ("process", "account") if index % 2 == 0 else ("account", "process")
            result = {mode: one_round(args, base_url, control, mode) for mode in order}
            result["ratio"] = round(
                result["account"]["share_of_limit"] / result["process"]["share_of_limit"], 3
            )
            rounds.append(result)
            for mode in order:
                r = result[mode]
                print(f"round {index + 1} {mode}: {r['sandbox_counted']} calls in {r['busy_s']} s = "
                      f"{100 * r['share_of_limit']:.1f} % of the limit, throttled {r['throttled']}, "
                      f"calls A/B {r['calls_a_b']}, load {r['load_average']}", flush=True)  # fmt: skip
            print(f"round {index + 1}: account / process = {result['ratio']}", flush=True)
    finally:
        stop(sandbox)
        import redis

        redis.Redis.from_url(f"redis://127.0.0.1:6379/{args.redis_db}").flushdb()
    if args.json:
        print(json.dumps(rounds, indent=2))


if __name__ == "__main__":
    main()
