"""Dashboard pages at 10,000 campaigns, through the real views (signed in, rendered, charts).

Builds N campaigns x 3 platforms x ~9 ad groups x D days of metrics in a scratch database
(`adflux_bench_metrics`, metrics_dataset's builders; rollups rebuilt as the sync keeps them), signs in
through the login form, then times whole page requests through the Flask test client: routing,
session, the views' queries, Jinja rendering, chart specs.

Same-run baseline for the overview: its top-ten table the old way (the performance report of every
campaign, every campaign's name looked up, sorted in Python), alternated every round with the new
way (ranked and limited in the database, only ten names). The other pages are timed as they are.
Checked: both ways list the same ten campaigns.

Usage:
    .venv/bin/python bench/bench_pages.py [--campaigns 10000] [--days 30] [--rounds 20]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from werkzeug.security import generate_password_hash

sys.path.insert(0, str(Path(__file__).resolve().parent))
import metrics_dataset
import metrics_scratch

from adflux.app import create_app
from adflux.extensions import db
from adflux.models import User
from adflux.services import local_dates
from adflux.services import reports as reports_service
from adflux.settings import Settings

PASSWORD = "una clave bastante larga"


def old_top(*, since: Any, until: Any, limit: int) -> list[dict[str, Any]]:
    """The overview's top table before 2026-12-06: every campaign's row, sorted in Python."""
    rows = reports_service.performance_report(group_by=("campaign",), since=since, until=until)["rows"]
    return sorted(rows, key=lambda r: r["spend"], reverse=True)[:limit]


def summary(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    return f"p50 {statistics.median(ordered) * 1000:7.1f} ms  p95 {p95 * 1000:7.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--campaigns", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--profile", help="after the rounds, cProfile one request of this path")
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()}")
    metrics_scratch.QUIET_MAX_WAIT = 0.0
    metrics_scratch.recreate_database()
    try:
        settings = Settings.from_env(
            {}, env="testing", database_url=metrics_scratch.DATABASE_URL, instance_path="/tmp",
            metrics_enabled=False,
        )  # fmt: skip
        app = create_app(settings)
        with app.app_context():
            db.create_all()
            today = local_dates.today()
            first_day = today - timedelta(days=args.days - 1)
            metrics_dataset.build_dimensions(args.campaigns, first_day)
            metrics_dataset.build_big_table(first_day, args.days)
            hashed = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
            db.session.add(User(email="bench@pages.local", name="Bench", role="viewer", password_hash=hashed))
            db.session.commit()
            campaign_id = db.session.scalar(db.text("SELECT max(id) FROM campaigns"))
            db.session.remove()
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', page).group(1)
        signed = client.post("/login", data={"email": "bench@pages.local", "password": PASSWORD,
                                             "csrf_token": token})  # fmt: skip
        assert signed.status_code == 302, signed.status_code

        def get(path: str) -> float:
            start = time.perf_counter()
            response = client.get(path)
            elapsed = time.perf_counter() - start
            assert response.status_code == 200, (path, response.status_code)
            return elapsed

        new_top = reports_service.top_campaigns
        timings: dict[str, list[float]] = {"/ (before)": [], "/ (after)": []}
        others = ["/campaigns", f"/campaigns/{campaign_id}", "/segments", "/tasks", "/alerts"]
        for path in others:
            timings[path] = []
        for _ in range(args.rounds):
            reports_service.top_campaigns = old_top  # type: ignore[assignment]
            timings["/ (before)"].append(get("/"))
            reports_service.top_campaigns = new_top
            timings["/ (after)"].append(get("/"))
            for path in others:
                timings[path].append(get(path))
        if args.profile:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            profiler.runcall(get, args.profile)
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
        with app.app_context():
            window = {"since": today - timedelta(days=29), "until": today}
            same = [r["campaign"] for r in old_top(**window, limit=10)] == [
                r["campaign"] for r in new_top(**window, limit=10)
            ]
            db.session.remove()
            db.engine.dispose()
        load = os.getloadavg()
        print(f"\n{args.campaigns:,} campaigns x {args.days} days; {args.rounds} rounds, alternated; "
              f"load average {load[0]:.2f}, {load[1]:.2f}")  # fmt: skip
        for path, samples in timings.items():
            print(f"  {path:<24} {summary(samples)}")
        ratio = statistics.median(timings["/ (before)"]) / statistics.median(timings["/ (after)"])
        print(f"  overview same-run ratio before/after: {ratio:.1f}x; same ten campaigns both ways: {same}")
    finally:
        metrics_scratch.drop_database()


if __name__ == "__main__":
    main()
