"""What the sandbox's store costs: the same Meta calls with the state in memory and in a SQLite store.

1. HTTP: N campaign creates through a memory-only server and through a server on a fresh store,
   one client each, calls alternating between the two (which goes first alternates too), so
   machine noise hits both alike. Servers run in threads of this process, as AdFlux runs them.
2. Handler only: the same creates straight into ``SandboxApp.handle`` (no HTTP, no client), the
   server-side cost per request.
3. Two servers on one store, alternating: each request first reloads the row the other wrote.
4. Campaign trees (campaign, ad set, creative, ad) through the handler: an ad create lists every
   ad of the account (the emulation's own O(ads) scan), so with a store it compares every ad with
   its snapshot too; the last tenth of the trees shows how that grows.

Run: .venv/bin/python bench/bench_sandbox_store.py [--creates 2000] [--trees 500] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from urllib.parse import urlencode

import httpx

from adflux.constants import SANDBOX_ACCOUNTS
from adflux.sandbox import SandboxState, start_sandbox_in_thread
from adflux.sandbox.http import Request
from adflux.sandbox.server import SandboxApp

START = date(2025, 3, 3)
TOKEN = {"access_token": SANDBOX_ACCOUNTS["meta"]["credentials"]["access_token"]}  # registered
CAMPAIGN = {
    "objective": "OUTCOME_TRAFFIC",
    "status": "PAUSED",
    "special_ad_categories": '["EMPLOYMENT"]',
    "special_ad_category_country": '["CO"]',
}


def _summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median_us": round(statistics.median(ordered) * 1e6, 1),
        "mean_us": round(statistics.fmean(ordered) * 1e6, 1),
        "p95_us": round(ordered[int(len(ordered) * 0.95)] * 1e6, 1),
        "total_s": round(sum(ordered), 3),
    }


def _alternate(calls: int, variants: dict[str, Callable[[int], object]]) -> dict[str, dict[str, float]]:
    """Time each variant's call ``calls`` times, interleaved; the leading variant alternates."""
    labels = list(variants)
    samples: dict[str, list[float]] = {label: [] for label in labels}
    for index in range(calls):
        for label in labels if index % 2 == 0 else reversed(labels):
            start = time.perf_counter()
            variants[label](index)
            samples[label].append(time.perf_counter() - start)
    return {label: _summary(values) for label, values in samples.items()}


def _form_request(path: str, form: dict[str, str]) -> Request:
    return Request(
        method="POST",
        path=path,
        query={key: [value] for key, value in TOKEN.items()},
        headers={"content-type": "application/x-www-form-urlencoded"},
        body=urlencode(form).encode(),
        host_url="http://bench",
    )


def _create(app: SandboxApp, name: str) -> str:
    response = app.handle(_form_request("/v26.0/act_42/campaigns", {**CAMPAIGN, "name": name}))
    assert response.status == 200, response.body
    return str(json.loads(response.body)["id"])


def bench_http(creates: int, store: str) -> dict[str, dict[str, float]]:
    memory, stored = start_sandbox_in_thread(start_date=START), start_sandbox_in_thread(store_path=store)
    clients = {
        "memory": httpx.Client(base_url=memory.base_url),
        "store": httpx.Client(base_url=stored.base_url),
    }

    def create(label: str) -> Callable[[int], object]:
        def call(index: int) -> object:
            form = {**CAMPAIGN, "name": f"c{index}"}
            response = clients[label].post("/v26.0/act_42/campaigns", params=TOKEN, data=form)
            assert response.status_code == 200, response.text
            return response

        return call

    try:
        for index in range(50):  # warm both up (connections, first store load)
            create("memory")(index)
            create("store")(index)
        return _alternate(creates, {"memory": create("memory"), "store": create("store")})
    finally:
        for client in clients.values():
            client.close()
        memory.stop()
        stored.stop()


def bench_handler(creates: int, store: str) -> dict[str, dict[str, float]]:
    memory = SandboxApp(SandboxState(start_date=START))
    stored = SandboxApp(SandboxState(start_date=START, store_path=store))
    first = SandboxApp(SandboxState(start_date=START, store_path=store.replace(".db", "-shared.db")))
    second = SandboxApp(SandboxState(start_date=START, store_path=store.replace(".db", "-shared.db")))
    result = _alternate(
        creates,
        {
            "memory": lambda index: _create(memory, f"c{index}"),
            "store": lambda index: _create(stored, f"c{index}"),
            "two servers, one store": lambda index: _create(first if index % 2 else second, f"c{index}"),
        },
    )
    for app in (stored, first, second):
        app.state.close()
    return result


def _tree(app: SandboxApp, index: int) -> float:
    """Create one campaign tree; return the seconds the ad create took."""
    campaign = _create(app, f"Auxiliar de bodega {index}")
    targeting = json.dumps({"geo_locations": {"countries": ["CO"]}})
    adset_form = {
        "name": f"s{index}",
        "campaign_id": campaign,
        "daily_budget": "20000",
        "billing_event": "IMPRESSIONS",
        "optimization_goal": "LINK_CLICKS",
        "targeting": targeting,
    }
    adset = json.loads(app.handle(_form_request("/v26.0/act_42/adsets", adset_form)).body)["id"]
    spec = json.dumps({"page_id": "1", "link_data": {"link": "https://empleos.example.co/1", "message": "m"}})
    creative_request = _form_request(
        "/v26.0/act_42/adcreatives", {"name": f"k{index}", "object_story_spec": spec}
    )
    creative = json.loads(app.handle(creative_request).body)["id"]
    ad_form = {"name": f"a{index}", "adset_id": adset, "creative": json.dumps({"creative_id": creative})}
    start = time.perf_counter()
    response = app.handle(_form_request("/v26.0/act_42/ads", ad_form))
    elapsed = time.perf_counter() - start
    assert response.status == 200, response.body
    return elapsed


def bench_trees(trees: int, store: str) -> dict[str, dict[str, float]]:
    apps = {
        "memory": SandboxApp(SandboxState(start_date=START)),
        "store": SandboxApp(SandboxState(start_date=START, store_path=store)),
    }
    whole: dict[str, list[float]] = {label: [] for label in apps}
    ad_creates: dict[str, list[float]] = {label: [] for label in apps}
    for index in range(trees):
        for label in apps if index % 2 == 0 else reversed(list(apps)):
            start = time.perf_counter()
            ad_creates[label].append(_tree(apps[label], index))
            whole[label].append(time.perf_counter() - start)
    apps["store"].state.close()
    tail = max(1, trees // 10)
    return {
        f"{label} {what}": _summary(values)
        for label in apps
        for what, values in (
            ("tree (4 creates)", whole[label]),
            ("ad create, first tenth", ad_creates[label][:tail]),
            ("ad create, last tenth", ad_creates[label][-tail:]),
        )
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--creates", type=int, default=2000)
    parser.add_argument("--trees", type=int, default=500)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    report: dict[str, object] = {
        "machine": {
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        }
    }
    with tempfile.TemporaryDirectory() as folder:
        base = str(Path(folder) / "sandbox")
        report[f"{args.creates} Meta creates over HTTP"] = bench_http(args.creates, base + "-http.db")
        report[f"{args.creates} Meta creates, handler only"] = bench_handler(
            args.creates, base + "-handler.db"
        )
        report[f"{args.trees} Meta trees, handler only"] = bench_trees(args.trees, base + "-trees.db")
        report["store file sizes (KiB)"] = {
            path.name: round(path.stat().st_size / 1024) for path in sorted(Path(folder).glob("*.db*"))
        }
    report["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]  # type: ignore[index]
    if args.json:
        print(json.dumps(report, indent=2))
        return
    for section, rows in report.items():
        print(f"\n{section}")
        for label, values in rows.items():  # type: ignore[attr-defined]
            print(f"  {label:34} {values}")


if __name__ == "__main__":
    main()
