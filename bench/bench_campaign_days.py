"""One campaign's days: the campaign page's reads with and without the covering rollup index.

The sync writes `campaign_metrics_daily` day by day across every campaign, so one campaign's rows
are spread over the heap; through the primary key the campaign page read one heap page per row
(issue 25: 1,095 rows on 1,051 pages). Migration 0020 adds
`ix_campaign_metrics_daily_campaign_covering` (campaign_id, platform, date) INCLUDE (the sums), so
those reads are index-only.

This bench builds N campaigns x 3 platforms x ~9 ad groups x D days in its own scratch database
(`adflux_bench_metrics`, via metrics_dataset's builders), then, alternating every round on random
campaigns, runs what the campaign page runs (`reports.campaign_timeseries` and
`reports.platform_comparison` over the page's window) in a fresh session:
- baseline: inside a transaction that drops the covering index (rolled back after), so the
  planner has only the primary key, as before 0020;
- measured: as deployed.
Each round also records the pages each way read (EXPLAIN (ANALYZE, BUFFERS) of the chart's
query: shared hits + reads), which does not depend on the machine's load. Results are checked by
counting: both ways return the same rows.

Usage:
    .venv/bin/python bench/bench_campaign_days.py [--campaigns 1000] [--days 365] [--rounds 30]
        [--scale portal|national]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
import metrics_dataset
import metrics_reads
import metrics_scratch

from adflux.app import create_app
from adflux.extensions import db
from adflux.models import Campaign, CampaignMetricDaily
from adflux.services import local_dates, reports
from adflux.settings import Settings

INDEX = "ix_campaign_metrics_daily_campaign_covering"


def page_reads(campaign_id: int, since: Any, until: Any) -> tuple[int, int]:
    """The campaign page's two reads; returns (chart points, platforms compared)."""
    series = reports.campaign_timeseries(campaign_id=campaign_id, since=since, until=until)
    comparison = reports.platform_comparison(campaign_id=campaign_id, since=since, until=until)
    points = sum(len(days) for days in series["series"].values())
    return points, len(comparison["rows"])


def pages_read(campaign_id: int, since: Any, until: Any) -> int:
    stmt = metrics_reads.rollup_timeseries_statement(campaign_id, since, until)
    compiled = stmt.compile(dialect=db.engine.dialect, compile_kwargs={"literal_binds": True})
    plan = db.session.execute(text(f"EXPLAIN (ANALYZE, BUFFERS) {compiled}")).scalars().all()
    first = next((line for line in plan if "Buffers:" in line), "")
    return sum(int(n) for n in re.findall(r"(?:hit|read)=(\d+)", first))


def one_round(campaign_id: int, without_index: bool) -> dict[str, Any]:
    since, until = metrics_reads.page_window(campaign_id, local_dates.today())
    db.session.remove()
    if without_index:
        db.session.execute(text(f"DROP INDEX {INDEX}"))  # rolled back below: the index comes back
    start = time.perf_counter()
    points, platforms = page_reads(campaign_id, since, until)
    elapsed = (time.perf_counter() - start) * 1000
    pages = pages_read(campaign_id, since, until)
    plan_uses_index = not without_index
    db.session.rollback()
    db.session.remove()
    return {"ms": elapsed, "pages": pages, "points": points, "platforms": platforms, "index": plan_uses_index}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--campaigns", type=int, default=1_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--rounds", type=int, default=30)
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
            first_day = local_dates.today() - timedelta(days=args.days - 1)
            started = time.perf_counter()
            metrics_dataset.build_dimensions(args.campaigns, first_day)
            build = metrics_dataset.build_big_table(first_day, args.days)
            rollups = db.session.scalar(select(func.count()).select_from(CampaignMetricDaily))
            raw = db.session.scalar(text("SELECT count(*) FROM metrics_daily"))
            print(
                f"built {args.campaigns:,} campaigns, {raw:,} metric rows, {rollups:,} rollup rows in "
                f"{time.perf_counter() - started:.0f} s ({ {k: round(v, 1) for k, v in build.items()} })"
            )
            ids = db.session.scalars(select(Campaign.id)).all()
            report(measure(random.Random(11).sample(ids, args.rounds)))
            db.session.remove()
            db.engine.dispose()
    finally:
        metrics_scratch.drop_database()


def measure(campaign_ids: list[int]) -> dict[str, list[dict[str, Any]]]:
    runs: dict[str, list[dict[str, Any]]] = {"primary key only": [], "covering index": []}
    for campaign_id in campaign_ids:  # alternate: the same campaign each way, every round
        runs["primary key only"].append(one_round(campaign_id, without_index=True))
        runs["covering index"].append(one_round(campaign_id, without_index=False))
    return runs


def report(runs: dict[str, list[dict[str, Any]]]) -> None:
    load = os.getloadavg()
    base, mine = runs["primary key only"], runs["covering index"]
    same = all(
        (a["points"], a["platforms"]) == (b["points"], b["platforms"])
        for a, b in zip(base, mine, strict=True)
    )
    print(
        f"\nthe campaign page's reads, {len(base)} campaigns, each way in turn (load average {load[0]:.2f}):"
    )
    for name, values in runs.items():
        ms = sorted(v["ms"] for v in values)
        pages = statistics.median(v["pages"] for v in values)
        print(
            f"  {name:<17} p50 {statistics.median(ms):6.1f} ms  p95 {ms[int(0.95 * len(ms)) - 1]:6.1f} ms  "
            f"chart query pages read (median) {pages:,.0f}"
        )
    ratio = statistics.median(v["ms"] for v in base) / statistics.median(v["ms"] for v in mine)
    page_ratio = statistics.median(v["pages"] for v in base) / statistics.median(v["pages"] for v in mine)
    print(f"  ratio (primary key / covering): time {ratio:.1f}x, pages {page_ratio:.1f}x")
    print(
        f"  check: {sum(v['points'] for v in mine):,} chart points read each way; "
        f"identical rows both ways: {same}"
    )


if __name__ == "__main__":
    main()
