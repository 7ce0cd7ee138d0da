"""bench_http --profile: each endpoint's per-request cost with the Flask test client, in a child process
(microseconds, SQL statements, a cProfile summary).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from http_server import server_environment

REPO = Path(__file__).resolve().parents[1]
BENCH_DIR = Path(__file__).resolve().parent


def profile_in_process(
    instance: Path, token: str, endpoints: dict[str, str], *, requests: int, cache: bool = True
) -> dict[str, Any]:
    """Per-request cost of each endpoint with the Flask test client, in a child process."""
    env = server_environment(instance, 0, workers=1, threads=1)
    if not cache:  # as the ratio stage serves them
        env["ADFLUX_RESPONSE_CACHE_ENTRIES"] = "0"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(BENCH_DIR), env.get("PYTHONPATH")]))
    Path(env["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import http_profile; http_profile._profile_child({token!r}, {requests}, {endpoints!r})",
        ],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if out.returncode != 0:
        raise RuntimeError(f"profile failed: {out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _profile_child(token: str, requests: int, endpoints: dict[str, str]) -> None:
    import cProfile
    import io
    import logging
    import pstats

    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from adflux.app import create_app

    app = create_app()
    # Production logging goes to stderr; write it to a file so the cost of writing lines counts.
    sink = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process
    for handler in logging.getLogger().handlers:
        if getattr(handler, "_adflux", False):
            handler.setStream(sink)  # type: ignore[attr-defined]
    statements: list[str] = []
    event.listen(Engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    results: dict[str, Any] = {}
    for name, path in endpoints.items():
        for _ in range(100):
            assert client.get(path, headers=headers).status_code == 200
        statements.clear()
        client.get(path, headers=headers)
        per_request_sql = [s.split()[0] for s in statements]
        rounds = []
        for _ in range(5):
            t0, c0 = time.perf_counter(), time.process_time()
            for _ in range(requests // 5):
                client.get(path, headers=headers)
            rounds.append(
                (
                    (time.perf_counter() - t0) / (requests // 5) * 1e6,
                    (time.process_time() - c0) / (requests // 5) * 1e6,
                )
            )
        best = min(rounds)
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(requests // 5):
            client.get(path, headers=headers)
        profiler.disable()
        text = io.StringIO()
        lines = int(os.environ.get("BENCH_PROFILE_LINES", "25"))
        sort = os.environ.get("BENCH_PROFILE_SORT", "tottime")
        pstats.Stats(profiler, stream=text).sort_stats(sort).print_stats(lines)
        results[name] = {
            "us_per_request": round(best[0], 1),
            "cpu_us_per_request": round(best[1], 1),
            "sql_per_request": per_request_sql,
            "top_tottime": text.getvalue().splitlines()[: 35 + lines],
        }
    print(json.dumps(results))
