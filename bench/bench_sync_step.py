"""The metrics sync's per-campaign write step at 10,000 campaigns: day totals per upsert vs once.

The sync writes each platform campaign's lookback window (~9 ad groups x 8 days) with
`metrics_store.upsert_metrics` and commits. Until 2026-12-06 every such call also rebuilt the
day/platform totals of its days from *every* campaign's rollup rows of those days, so the step grew
with the number of campaigns (issue 25: 32 ms at 1k campaigns, 177 ms at 10k). Now the sync passes
`day_totals=False` and refreshes the totals once, for its whole window, at the end.

This bench builds N campaigns x 3 platforms x ~9 ad groups x D days in its own scratch database
(`adflux_bench_metrics`, via metrics_dataset's builders), then, alternating in the same run, times
the step the old way (`day_totals=True`) and the new way (`day_totals=False`) on random platform
campaigns whose 8-day window is restated (values changed, as platforms restate late conversions),
each with its commit, and the single end-of-sync `refresh_day_totals` of the window. It checks
the result by counting: the day totals equal the sums of the campaign rollups, row for row.

Usage:
    .venv/bin/python bench/bench_sync_step.py [--campaigns 10000] [--days 30] [--rounds 40]
        [--scale portal|national]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
import metrics_dataset
import metrics_scratch

from adflux.app import create_app
from adflux.extensions import db
from adflux.models import CampaignMetricDaily, DailyMetricTotal, PlatformCampaign
from adflux.services import local_dates
from adflux.services.metrics_store import refresh_day_totals, upsert_metrics
from adflux.settings import Settings

WINDOW_DAYS = 8  # a 7-day lookback plus today


def window_rows(groups: list[tuple[int, int, int, str]], days: list[Any], rng: random.Random) -> list[tuple]:
    rows = []
    for group_id, pc_id, campaign_id, name in groups:
        for day in days:
            impressions = rng.randint(200, 2000)
            clicks = impressions * rng.randint(5, 35) // 1000
            rows.append(
                (group_id, day, pc_id, campaign_id, name, None, impressions, impressions * 4 // 5, clicks,
                 None if name == "google" else clicks * 3, clicks * 850_000, clicks // 12)
            )  # fmt: skip
    return rows


def totals_match() -> tuple[int, bool]:
    sums = {
        (d, p): c
        for d, p, c in db.session.execute(
            select(
                CampaignMetricDaily.date, CampaignMetricDaily.platform, func.sum(CampaignMetricDaily.clicks)
            )
            .group_by(CampaignMetricDaily.date, CampaignMetricDaily.platform)
        )
    }  # fmt: skip
    totals = {(t.date, t.platform): t.clicks for t in db.session.scalars(select(DailyMetricTotal))}
    return len(totals), totals == sums


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--campaigns", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=30, help="days of history per ad group")
    parser.add_argument("--rounds", type=int, default=40, help="platform campaigns timed each way")
    parser.add_argument("--scale", choices=sorted(metrics_dataset.SCALES), help="a named data set")
    args = parser.parse_args()
    metrics_dataset.apply_scale(args)
    print(f"load average at start: {os.getloadavg()}")
    metrics_scratch.QUIET_MAX_WAIT = 0.0  # never wait for a quiet machine: same-run ratio instead
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
            started = time.perf_counter()
            groups = metrics_dataset.build_dimensions(args.campaigns, first_day)
            build = metrics_dataset.build_big_table(first_day, args.days)
            rows = db.session.scalar(text("SELECT count(*) FROM metrics_daily"))
            rollups = db.session.scalar(select(func.count()).select_from(CampaignMetricDaily))
            print(
                f"built {args.campaigns:,} campaigns, {len(groups):,} ad groups, {rows:,} metric rows, "
                f"{rollups:,} rollup rows in {time.perf_counter() - started:.0f} s ({build})"
            )
            by_pc: dict[int, list[tuple[int, int, int, str]]] = {}
            for group in groups:
                by_pc.setdefault(group[1], []).append(group)
            pcs = db.session.scalar(select(func.count()).select_from(PlatformCampaign))
            window = [today - timedelta(days=n) for n in range(WINDOW_DAYS - 1, -1, -1)]
            rng = random.Random(7)
            chosen = rng.sample(sorted(by_pc), args.rounds * 2)
            old: list[float] = []
            new: list[float] = []
            for index, pc_id in enumerate(chosen):
                step = window_rows(by_pc[pc_id], window, rng)
                with_totals = index % 2 == 0  # alternate the old and the new way every round
                start = time.perf_counter()
                upsert_metrics(step, day_totals=with_totals)
                db.session.commit()
                (old if with_totals else new).append(time.perf_counter() - start)
            start = time.perf_counter()
            refresh_day_totals(window)
            db.session.commit()
            final = time.perf_counter() - start
            count, match = totals_match()
            load = os.getloadavg()
            t_old, t_new = statistics.median(old), statistics.median(new)
            print(
                f"\nper platform campaign ({len(by_pc[chosen[0]])} ad groups x {WINDOW_DAYS} days, "
                f"values restated), median of {args.rounds} each, alternated:"
            )
            print(f"  old (day totals per upsert): {t_old * 1000:7.1f} ms  p95 "
                  f"{sorted(old)[int(0.95 * len(old)) - 1] * 1000:7.1f} ms")  # fmt: skip
            print(f"  new (day totals deferred):   {t_new * 1000:7.1f} ms  p95 "
                  f"{sorted(new)[int(0.95 * len(new)) - 1] * 1000:7.1f} ms")  # fmt: skip
            print(f"  ratio old/new: {t_old / t_new:.1f}x   (load average {load[0]:.2f}, {load[1]:.2f})")
            print(f"  once per sync: refresh_day_totals({WINDOW_DAYS} days) {final * 1000:.0f} ms")
            print(
                f"  a sync's write steps for all {pcs:,} platform campaigns: old {pcs * t_old / 60:.1f} min, "
                f"new {(pcs * t_new + final) / 60:.1f} min (writes only; fetching is bound by the platforms)"
            )
            print(f"  check: {count:,} day-total rows, equal to the rollups' sums: {match}")
            db.session.remove()
            db.engine.dispose()
    finally:
        metrics_scratch.drop_database()


if __name__ == "__main__":
    main()
