"""Metrics at scale: bulk upsert of 1M daily rows, and the dashboard's queries over 10M rows.

Creates its own scratch database (`adflux_bench_metrics`) on 127.0.0.1 as user postgres, builds
the schema with `db.create_all()` and the rows the metrics refer to (a job, campaigns, three
platform campaigns each, ~9 ad groups per platform campaign, one creative each), then in one run:

(headline) The sync's writes as it makes them: one platform campaign's lookback window (~72 rows)
    per `upsert_metrics(rows, day_totals=False)` call with the rollup refresh and a commit, then
    the day totals once, alternated round by round with the ORM way (`session.merge` per row,
    the same rollup refresh and commit); rows counted after.
(a) Bulk ingestion (a backfill, not the sync). 1,000,000 daily rows (ad group x day), built as
    Python tuples before the clock starts, written by
    `metrics_store.upsert_metrics(rows, refresh_rollups=False)` (COPY into a staging table + one
    INSERT ... ON CONFLICT DO UPDATE) into an empty table, then again with the same keys (every
    row conflicts). The rollup refresh for the (campaign, day) pairs touched
    (`refresh_rollups_for`) is timed separately. Beside it, the ORM way:
    `session.add_all(MetricDaily(...))` + commit, on the first --orm-rows rows (default 100,000),
    extrapolated linearly to 1,000,000.
(b) Reads at scale. ~10,000,000 rows (1,000 campaigns x 3 platforms x ~9.1 ad groups x 365 days,
    INSERT ... SELECT generate_series), `rebuild_all_rollups()`, VACUUM ANALYZE, then p50/p95
    of what the dashboard runs, each call in a fresh session like a request:
      - overview: `reports.overview` over the last 30 days;
      - campaign page: `reports.campaign_timeseries` (the page's window: up to 365 days) +
        `campaigns.get_campaign`, for a random campaign each time;
    and, in the same run, the naive way: the same aggregates computed from raw `metrics_daily`
    without the rollups. EXPLAIN ANALYZE of each statement is printed.

Usage:
    .venv/bin/python bench/bench_metrics.py [--quick] [--rows 1000000] [--orm-rows 100000]
        [--repeat 3] [--sync-campaigns 300] [--campaigns 1000] [--days 365] [--scale portal|national]
        [--samples 50] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import timedelta
from typing import Any

import metrics_scratch
from metrics_dataset import (
    SCALES,
    SEED,
    apply_scale,
    build_big_table,
    build_dimensions,
    metric_rows,
    truncate_metrics,
)
from metrics_reads import reads
from metrics_scratch import busy_before, drop_database, machine, recreate_database
from metrics_writes import ingest, orm_add_all, sync_path
from sqlalchemy import func, select, text

from adflux.app import create_app
from adflux.extensions import db
from adflux.models import Campaign, MetricDaily
from adflux.services import local_dates
from adflux.settings import Settings

# -- main ---------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows upserted in (a)")
    parser.add_argument("--orm-rows", type=int, default=100_000, help="rows for ORM add_all (extrapolated)")
    parser.add_argument(
        "--sync-campaigns", type=int, default=300, help="platform campaigns written each way, alternated"
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs of each upsert (median reported)")
    parser.add_argument("--campaigns", type=int, default=1000, help="campaigns in (b)")
    parser.add_argument("--days", type=int, default=365, help="days of metrics per ad group in (b)")
    parser.add_argument("--samples", type=int, default=50, help="timed calls per dashboard query")
    parser.add_argument("--scale", choices=sorted(SCALES), help="campaigns and days of a named data set")
    parser.add_argument("--skip-ingest", action="store_true")
    parser.add_argument("--skip-reads", action="store_true", help="skip (b), the 10M-row table")
    parser.add_argument("--quick", action="store_true", help="a sanity run in well under a minute")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    apply_scale(args)
    if args.quick:
        args.rows, args.orm_rows, args.repeat, args.sync_campaigns = 100_000, 5_000, 1, 20
        args.campaigns, args.days, args.samples = 100, 120, 15

    started = time.monotonic()
    report: dict[str, Any] = {"machine": machine()}
    recreate_database()
    try:
        settings = Settings.from_env(
            {},
            env="testing",
            database_url=metrics_scratch.DATABASE_URL,
            instance_path="/tmp",
            metrics_enabled=False,
        )
        app = create_app(settings)
        with app.app_context():
            db.create_all()
            today = local_dates.today()
            first_day = today - timedelta(days=args.days - 1)
            groups = build_dimensions(args.campaigns, first_day)
            report["dimensions"] = {"campaigns": args.campaigns, "ad_groups": len(groups)}
            if not args.skip_ingest:
                report["sync_path"] = sync_path(groups, today, args.sync_campaigns)
                truncate_metrics()
                rows = metric_rows(groups, first_day, args.rows, SEED)
                restated = metric_rows(groups, first_day, args.rows, SEED + 1)
                report["ingest"] = ingest(rows, restated, args.repeat)
                orm = orm_add_all(rows[: args.orm_rows])
                orm["extrapolated_s_for_all"] = orm["elapsed_s"] * len(rows) / orm["rows"]
                report["orm_add_all"] = orm
                del rows, restated
            if not args.skip_reads:
                report["build"] = build_big_table(first_day, args.days)
                report["build"]["rows"] = db.session.scalar(select(func.count()).select_from(MetricDaily))
                report["build"]["table_size"] = db.session.scalar(
                    text("SELECT pg_size_pretty(pg_total_relation_size('metrics_daily'))")
                )
                campaign_ids = list(db.session.scalars(select(Campaign.id)).all())
                report["reads"] = reads(today, campaign_ids, args.samples)
            db.session.remove()
            db.engine.dispose()
    finally:
        drop_database()
    report["machine"]["load_average_at_end"] = os.getloadavg()
    report["machine"]["cpu_busy_before_each_step"] = busy_before
    report["total_s"] = time.monotonic() - started
    if args.json:
        print(json.dumps(report, indent=2, default=str))
    else:
        print_report(report)


def print_report(report: dict[str, Any]) -> None:
    m = report["machine"]
    pg = m["postgresql"]
    print(
        f"machine: {m['cpu']}, {m['cpus']} CPUs, {m['ram_gib']} GiB, {m['system']}, Python {m['python']}; "
        f"PostgreSQL {pg['server_version']} (shared_buffers {pg['shared_buffers']}, "
        f"work_mem {pg['work_mem']}, jit {pg['jit']}); "
        f"load average {m['load_average_at_start'][0]:.1f} at start, "
        f"{m['load_average_at_end'][0]:.1f} at end; CPU busy (others) before each timed step: "
        f"{m.get('cpu_busy_before_each_step')}"
    )
    if "sync_path" in report:
        sp = report["sync_path"]
        ms = sp["median_ms_per_platform_campaign"]
        print(
            f"\n(headline) the sync's writes, {sp['platform_campaigns_each_way']} platform campaigns "
            f"each way, alternated (load average {sp['load_average'][0]:.1f}):"
        )
        print(
            f"  sync path (upsert_metrics + rollup refresh + commit): {ms['sync']:.1f} ms per platform "
            f"campaign, {sp['rows_per_s']['sync']:,.0f} rows/s"
        )
        print(
            f"  ORM merge per row + the same refresh + commit:        {ms['orm']:.1f} ms per platform "
            f"campaign, {sp['rows_per_s']['orm']:,.0f} rows/s"
        )
        print(
            f"  ratio ORM / sync path: {sp['ratio']:.1f}x; day totals once for the window "
            f"{1000 * sp['day_totals_once_s']:.0f} ms; rows counted {sp['rows_counted']:,} = "
            f"written {sum(sp['rows_each_way'].values()):,}"
        )
    if "ingest" in report:
        ing = report["ingest"]
        print(f"\n(a) upsert_metrics of {ing['rows']:,} rows (median of {len(ing['runs_s']['empty'])}):")
        labels = {
            "empty": "into an empty table (refresh_rollups=False)",
            "conflicts": "same keys again, every row an UPDATE",
            "refresh": f"rollup refresh for {ing['pairs_refreshed']:,} (campaign, day) pairs",
            "with_refresh": "upsert + refresh in one call, every row changed back",
            "unchanged": "upsert + refresh, the same values again (a lookback re-read)",
        }
        for key, label in labels.items():
            runs = ", ".join(f"{v:.2f}" for v in ing["runs_s"][key])
            rate = ing["rows_per_s"][key]
            print(f"  {label:<66} {ing['median_s'][key]:6.2f} s  {rate:>9,.0f} rows/s  ({runs})")
        orm = report["orm_add_all"]
        print(
            f"  ORM add_all + commit of {orm['rows']:,} rows: {orm['elapsed_s']:.2f} s = "
            f"{orm['rows_per_s']:,.0f} rows/s; "
            f"extrapolated to {ing['rows']:,}: {orm['extrapolated_s_for_all']:.0f} s"
        )
    if "build" not in report:
        print(f"\ntotal run {report['total_s']:.0f} s")
        return
    build = report["build"]
    print(
        f"\n(b) {build['rows']:,} rows ({report['dimensions']['campaigns']:,} campaigns, "
        f"{report['dimensions']['ad_groups']:,} ad groups), {build['table_size']} with indexes: insert "
        f"{build['insert_s']:.1f} s, primary key {build['primary_key_s']:.1f} s, "
        f"indexes {build['indexes_s']:.1f} s, rebuild_all_rollups {build['rollups_s']:.1f} s, "
        f"VACUUM ANALYZE {build['vacuum_analyze_s']:.1f} s"
    )
    for label, figures in report["reads"]["latency"].items():
        print(
            f"  {label:<48} p50 {figures['p50_ms']:8.1f} ms  p95 {figures['p95_ms']:8.1f} ms  "
            f"max {figures['max_ms']:8.1f} ms  (n={figures['samples']})"
        )
    for label, plan in report["reads"]["plans"].items():
        print(f"\nEXPLAIN ANALYZE {label}:")
        for line in plan:
            print(f"  {line}")
    print(f"\ntotal run {report['total_s']:.0f} s")


if __name__ == "__main__":
    sys.exit(main())
