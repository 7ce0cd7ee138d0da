"""Every dashboard page and every API list, through the real views, over the national data set.

Reads the database `bench/national_set.py` built (10,000 campaigns x 3 platforms, ~100M metric
rows, 10M candidates; kept between runs) and times whole requests through the Flask test client:
the dashboard signed in through the login form (session, views, Jinja, charts), the API with a
bearer token (auth, validation, services, serialisation). The paths are every GET rule of the app's
URL map that needs no argument, or only a campaign id (filled with a campaign that has a year of
metrics), plus the deep and sorted list pages people use; static files, docs, sign-in/out and
exports that stream are left out. Each round requests every path once, in the same order.

Same-run baseline where one exists: the overview's top-ten table the old way (bench_pages.old_top,
the report of every campaign sorted in Python), alternated every round with the page as it is.
Checked: every response is 200 (or listed apart), every API list's `items` is non-empty, and the
row counts of the set are printed before the timings.

Usage:
    PYTHONPATH=src .venv/bin/python bench/bench_national_pages.py [--database adflux_national]
        [--rounds 20] [--only REGEX] [--profile PATH] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.security import generate_password_hash

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_pages

from adflux.app import create_app
from adflux.extensions import db
from adflux.models import ApiToken, User
from adflux.services import reports as reports_service
from adflux.services.auth import hash_token
from adflux.settings import Settings

EMAIL = "bench@national.local"
SKIP = re.compile(r"^/(static|login|logout|favicon|api/v1/docs|api/v1/openapi|r/|t/|healthz|readyz|metrics)")
SKIP_ENDPOINTS = re.compile(r"(export|\.csv|creative|swagger|redoc|openapi|progress)")
EXTRA = [
    "/?days=7",
    "/?days=90",
    "/campaigns?sort=spend&dir=desc",
    "/campaigns?page=400",
    "/campaigns?sort=cpa&dir=asc",
    "/campaigns?q=campa%C3%B1a+77",
    "/jobs?page=400",
    "/audit?page=2000",
    "/api/v1/candidates?city=medellin",
    "/api/v1/candidates?page=500",  # the deepest page number a cursor list answers (page 5,000: 400)
    "/api/v1/campaigns?page=400",
    "/api/v1/jobs?page=400",
    "/api/v1/audit-events?page=500",
    "/api/v1/reports/performance?group_by=campaign",
    "/api/v1/reports/performance?group_by=segment,campaign",
]


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, round(share * len(ordered)) - 1)]


def signed_in_user() -> str:
    """The bench's admin (made once) and a fresh API token for it; returns the token."""
    user = db.session.query(User).filter_by(email=EMAIL).one_or_none()
    if user is None:
        hashed = generate_password_hash(bench_pages.PASSWORD, method="pbkdf2:sha256:1000")
        user = User(email=EMAIL, name="Bench", role="admin", password_hash=hashed)
        db.session.add(user)
        db.session.flush()
    db.session.query(ApiToken).filter_by(user_id=user.id).delete()
    prefix = secrets.token_hex(4)
    value = f"adf_{prefix}_{secrets.token_urlsafe(24)}"
    db.session.add(ApiToken(user_id=user.id, name="bench", prefix=prefix, token_hash=hash_token(value)))
    db.session.commit()
    return value


def paths(app: Flask, campaign_id: int) -> list[str]:
    found = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or SKIP.match(rule.rule) or SKIP_ENDPOINTS.search(rule.endpoint):
            continue
        if rule.arguments <= {"campaign_id"} and not SKIP_ENDPOINTS.search(rule.rule):
            found.append(rule.rule.replace("<int:campaign_id>", str(campaign_id)))
    return sorted(set(found)) + EXTRA


def row_counts() -> dict[str, int]:
    tables = ("campaigns", "platform_campaigns", "ad_groups", "metrics_daily", "campaign_metrics_daily",
              "candidates", "job_openings", "audit_events", "task_runs", "alerts")  # fmt: skip
    return {t: db.session.scalar(db.text(f"SELECT count(*) FROM {t}")) for t in tables}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="adflux_national")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--only", help="time only the paths matching this regular expression")
    parser.add_argument("--profile", help="after the rounds, cProfile one request of this path")
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()}", flush=True)
    settings = Settings.from_env(
        {}, env="testing", instance_path="/tmp", metrics_enabled=False,
        database_url=f"postgresql+psycopg://postgres@127.0.0.1:5432/{args.database}",
    )  # fmt: skip
    app = create_app(settings)
    with app.app_context():
        counts = row_counts()
        print(f"rows: {counts}", flush=True)
        token = signed_in_user()
        campaign_id = db.session.scalar(db.text("SELECT max(campaign_id) FROM campaign_metric_totals"))
        db.session.remove()
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    form = {"email": EMAIL, "password": bench_pages.PASSWORD, "csrf_token": csrf}
    signed = client.post("/login", data=form)
    assert signed.status_code == 302, signed.status_code
    bearer = {"Authorization": f"Bearer {token}"}
    targets = [p for p in paths(app, campaign_id) if not args.only or re.search(args.only, p)]

    def get(path: str) -> tuple[float, int, Any]:
        start = time.perf_counter()
        response = client.get(path, headers=bearer if path.startswith("/api/") else None)
        elapsed = time.perf_counter() - start
        body = response.get_json(silent=True) if path.startswith("/api/") else None
        return elapsed, response.status_code, body

    statuses: dict[str, int] = {}
    for path in targets:  # one untimed request each: templates compiled, connections open
        _, statuses[path], body = get(path)
        if statuses[path] == 200 and isinstance(body, dict) and "items" in body and not body["items"]:
            statuses[path] = -1  # an empty list proves nothing about the cost of a full one
    timed = [p for p in targets if statuses[p] == 200]
    samples: dict[str, list[float]] = {p: [] for p in timed}
    loads: dict[str, list[float]] = {p: [] for p in timed}
    baseline: dict[str, list[float]] = {"/ (old top ten)": [], "/ (as deployed)": []}
    new_top = reports_service.top_campaigns
    for _ in range(args.rounds):
        if "/" in samples:
            reports_service.top_campaigns = bench_pages.old_top  # type: ignore[assignment]
            baseline["/ (old top ten)"].append(get("/")[0])
            reports_service.top_campaigns = new_top
            baseline["/ (as deployed)"].append(get("/")[0])
        for path in timed:
            elapsed, status, _ = get(path)
            assert status == 200, (path, status)
            samples[path].append(elapsed)
            loads[path].append(os.getloadavg()[0])
    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.runcall(get, args.profile)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
    report(args, counts, samples, loads, baseline, statuses)


def report(
    args: argparse.Namespace, counts: dict[str, int], samples: dict[str, list[float]],
    loads: dict[str, list[float]], baseline: dict[str, list[float]], statuses: dict[str, int],
) -> None:  # fmt: skip
    load = os.getloadavg()
    print(f"\n{args.rounds} rounds; load average at the end {load[0]:.2f} / {load[1]:.2f} (1 / 5 min)")
    figures = {}
    for path, values in sorted(samples.items(), key=lambda item: -percentile(item[1], 0.95)):
        p50, p95 = statistics.median(values) * 1000, percentile(values, 0.95) * 1000
        figures[path] = {"p50_ms": round(p50, 1), "p95_ms": round(p95, 1),
                         "load": round(statistics.median(loads[path]), 2)}  # fmt: skip
        flag = "  OVER 100 ms" if p95 > 100 else ""
        print(f"  {path:<58} p50 {p50:7.1f}  p95 {p95:7.1f} ms  load {figures[path]['load']:5.2f}{flag}")
    if baseline["/ (old top ten)"]:
        old, new = (statistics.median(baseline[k]) for k in baseline)
        print(f"  overview same-run: old top ten p50 {old * 1000:.1f} ms, as deployed {new * 1000:.1f} ms: "
              f"{old / new:.1f}x")  # fmt: skip
    others = {p: s for p, s in statuses.items() if s != 200}
    if others:
        print(f"  not timed (status; -1 = empty list): {others}")
    over = [p for p, f in figures.items() if f["p95_ms"] > 100]
    print(f"  {len(figures)} paths timed, {len(over)} over 100 ms p95")
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": counts, "rounds": args.rounds, "load_end": load,
                                               "paths": figures, "not_timed": others}, indent=1))  # fmt: skip


if __name__ == "__main__":
    main()
