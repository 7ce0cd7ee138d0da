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
import platform as platform_module
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench_sets import job_and_campaigns
from sqlalchemy import BigInteger, Select, cast, create_engine, func, insert, select, text

from adflux.app import create_app
from adflux.extensions import db
from adflux.models import AdCreative, AdGroup, Campaign, MetricDaily, PlatformCampaign
from adflux.services import campaigns as campaigns_service
from adflux.services import local_dates, metric_partitions, reports
from adflux.services.metrics_store import (
    METRIC_COLUMNS,
    rebuild_all_rollups,
    refresh_day_totals,
    refresh_rollups_for,
    upsert_metrics,
)
from adflux.settings import Settings

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
BENCH_DATABASE = "adflux_bench_metrics"
DATABASE_URL = f"postgresql+psycopg://postgres@127.0.0.1:5432/{BENCH_DATABASE}"
PLATFORMS = ("meta", "google", "tiktok")
AD_GROUPS_PER_CAMPAIGN = 27.4 / 3  # 27,400 ad groups for 1,000 campaigns: 10,001,000 rows a year
SEED = 42
# --scale: the data sets of issue 25. "national" is 10,000 campaigns x 3 platforms x ~9 ad groups
# x 365 days = ~100M metric rows (about 15 GB with indexes, and most of an hour to build here).
SCALES = {"portal": (1_000, 365), "national": (10_000, 365)}


def apply_scale(args: Any) -> None:
    """Set args.campaigns and args.days from args.scale, when given."""
    if getattr(args, "scale", None):
        args.campaigns, args.days = SCALES[args.scale]


# -- a shared machine ------------------------------------------------------------------------------

# Before each timed step, wait (up to QUIET_MAX_WAIT s) until at most this share of the CPUs is
# busy: the machine is shared, and someone else's burst would be measured as our time.
QUIET_BUSY = 0.25
QUIET_MAX_WAIT = 0.0  # never waits any more (issue 25): the load average is printed instead
busy_before: list[float] = []  # the busy share seen before each timed step, for the report


def _cpu_times() -> tuple[int, int]:
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return sum(fields) - fields[3] - fields[4], sum(fields)  # busy, total (idle + iowait excluded)


def cpu_busy(seconds: float) -> float:
    """Share of all CPUs busy over `seconds` (other people's work, while we wait)."""
    busy0, total0 = _cpu_times()
    time.sleep(seconds)
    busy1, total1 = _cpu_times()
    return (busy1 - busy0) / max(1, total1 - total0)


def wait_for_quiet() -> None:
    deadline = time.monotonic() + QUIET_MAX_WAIT
    busy = cpu_busy(0.5)
    while busy > QUIET_BUSY and time.monotonic() < deadline:
        busy = cpu_busy(1.0)
    busy_before.append(round(busy, 2))


# -- scratch database -----------------------------------------------------------------------------


def recreate_database() -> None:
    engine = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{BENCH_DATABASE}"'))
    engine.dispose()


def drop_database() -> None:
    engine = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)'))
    engine.dispose()


def maintenance(sql: str) -> float:
    """Run VACUUM/CHECKPOINT-style statements outside a transaction; returns seconds."""
    engine = create_engine(DATABASE_URL, isolation_level="AUTOCOMMIT")
    start = time.perf_counter()
    with engine.connect() as conn:
        conn.execute(text(sql))
    engine.dispose()
    return time.perf_counter() - start


def machine() -> dict[str, Any]:
    model = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    engine = create_engine(ADMIN_URL)
    with engine.connect() as conn:
        config = {
            name: conn.execute(text(f"SHOW {name}")).scalar()
            for name in (
                "server_version",
                "shared_buffers",
                "work_mem",
                "synchronous_commit",
                "jit",
                "autovacuum",
            )
        }
    engine.dispose()
    return {
        "cpu": model,
        "cpus": os.cpu_count(),
        "ram_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "system": f"{platform_module.system()} {platform_module.release()}",
        "python": platform_module.python_version(),
        "postgresql": config,
        "load_average_at_start": os.getloadavg(),
    }


# -- the rows metrics refer to --------------------------------------------------------------------


def build_dimensions(campaigns: int, first_day: date) -> list[tuple[int, int, int, str]]:
    """Job, campaigns, platform campaigns, ad groups and creatives; (ad group, pc, campaign, platform)."""
    campaign_ids = job_and_campaigns("BENCH-METRICS-1", campaigns, first_day)
    db.session.execute(
        insert(PlatformCampaign),
        [
            {
                "campaign_id": cid,
                "platform": name,
                "status": "active",
                "idempotency_key": f"{cid}-{name}",
                "external_campaign_id": f"{name}-{cid}",
                "budget_total": 10_000_000,
            }
            for cid in campaign_ids
            for name in PLATFORMS
        ],
    )
    pcs = db.session.execute(
        select(PlatformCampaign.id, PlatformCampaign.campaign_id, PlatformCampaign.platform).order_by(
            PlatformCampaign.id
        )
    ).all()
    total_groups = round(AD_GROUPS_PER_CAMPAIGN * 3 * campaigns / len(PLATFORMS)) * len(PLATFORMS)
    base, extra = divmod(total_groups, len(pcs))
    db.session.execute(
        insert(AdGroup),
        [
            {"platform_campaign_id": pc.id, "name": f"Grupo {n}", "budget_daily": 50_000}
            for index, pc in enumerate(pcs)
            for n in range(base + (1 if index < extra else 0))
        ],
    )
    db.session.execute(
        insert(AdCreative),
        [
            {
                "platform_campaign_id": pc.id,
                "headline": "Analista de datos en Medellín",
                "primary_text": "Trabajo remoto. Postúlate hoy.",
                "call_to_action": "APPLY_NOW",
                "link_url": "https://empleos.example.co/ofertas/2?utm_source=adflux",
            }
            for pc in pcs
        ],
    )
    db.session.commit()
    by_pc = {pc.id: pc for pc in pcs}
    groups = db.session.execute(select(AdGroup.id, AdGroup.platform_campaign_id).order_by(AdGroup.id)).all()
    return [(g.id, g.platform_campaign_id, by_pc[g.platform_campaign_id].campaign_id,
             by_pc[g.platform_campaign_id].platform) for g in groups]  # fmt: skip


def metric_rows(
    groups: list[tuple[int, int, int, str]], first_day: date, count: int, seed: int
) -> list[tuple[Any, ...]]:
    """`count` rows in ROW_COLUMNS order, ad group by ad group (a backfill), deterministic."""
    rng = random.Random(seed)
    days = -(-count // len(groups))
    rows: list[tuple[Any, ...]] = []
    for group_id, pc_id, campaign_id, name in groups:
        for offset in range(days):
            impressions = rng.randint(200, 2000)
            clicks = impressions * rng.randint(5, 35) // 1000
            rows.append(
                (group_id, first_day + timedelta(days=offset), pc_id, campaign_id, name, None,
                 impressions, impressions * 4 // 5, clicks, None if name == "google" else clicks * 3,
                 clicks * 850_000, clicks // 12)
            )  # fmt: skip
            if len(rows) == count:
                return rows
    return rows


# -- (a) ingestion ------------------------------------------------------------------------------


def truncate_metrics() -> None:
    db.session.execute(text("TRUNCATE metrics_daily, campaign_metrics_daily, daily_metric_totals"))
    db.session.commit()


def timed(action: Callable[[], object]) -> float:
    wait_for_quiet()
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def ingest(rows: list[tuple[Any, ...]], restated: list[tuple[Any, ...]], repeat: int) -> dict[str, Any]:
    """upsert_metrics into an empty table and over the same keys, with the rollup refresh apart."""
    pairs = {(row[3], row[1]) for row in rows}
    runs: dict[str, list[float]] = {
        "empty": [], "conflicts": [], "refresh": [], "with_refresh": [], "unchanged": []
    }  # fmt: skip
    # Between steps: VACUUM (what autovacuum would have done; it is off on this shared server)
    # and CHECKPOINT, so each step starts from the same state whatever ran before it.
    settle = "VACUUM metrics_daily, campaign_metrics_daily, daily_metric_totals"
    for _ in range(repeat):
        truncate_metrics()
        maintenance("CHECKPOINT")
        runs["empty"].append(
            timed(lambda: (upsert_metrics(rows, refresh_rollups=False), db.session.commit()))
        )
        runs["refresh"].append(timed(lambda: (refresh_rollups_for(pairs), db.session.commit())))
        maintenance(settle)
        maintenance("CHECKPOINT")
        runs["conflicts"].append(
            timed(lambda: (upsert_metrics(restated, refresh_rollups=False), db.session.commit()))
        )
        maintenance(settle)
        maintenance("CHECKPOINT")
        # Every row restated back (all changed), upsert and rollup refresh in one call.
        runs["with_refresh"].append(timed(lambda: (upsert_metrics(rows), db.session.commit())))
        maintenance(settle)
        maintenance("CHECKPOINT")
        # What a sync's lookback re-read mostly is: the same values again, nothing changed.
        runs["unchanged"].append(timed(lambda: (upsert_metrics(rows), db.session.commit())))
    stored = db.session.scalar(select(func.count()).select_from(MetricDaily))
    if stored != len(rows):
        raise AssertionError(f"{stored} rows stored, {len(rows)} written")
    return {
        "rows": len(rows),
        "pairs_refreshed": len(pairs),
        "runs_s": runs,
        "median_s": {key: statistics.median(values) for key, values in runs.items()},
        "rows_per_s": {key: len(rows) / statistics.median(values) for key, values in runs.items()},
    }


SYNC_WINDOW_DAYS = 8  # the sync's 7-day lookback plus today


def sync_path(groups: list[tuple[int, int, int, str]], today: date, count: int) -> dict[str, Any]:
    """The headline: the writes as the metrics sync makes them, against the ORM way, alternated.

    The sync writes one platform campaign at a time: its ad groups x the lookback window (~72 rows)
    through `upsert_metrics(rows, day_totals=False)` (COPY, upsert, the campaign rollup refreshed)
    and a commit, then the day totals once for the window. The ORM way writes the same kind of
    batch with `session.merge` per row (a SELECT by key, then INSERT or UPDATE), the same rollup
    refresh and a commit. Each round takes the next two platform campaigns, one each way.
    """
    by_pc: dict[int, list[tuple[int, int, int, str]]] = {}
    for group in groups:
        by_pc.setdefault(group[1], []).append(group)
    chosen = random.Random(SEED).sample(sorted(by_pc), min(len(by_pc), 2 * count))
    window = [today - timedelta(days=n) for n in range(SYNC_WINDOW_DAYS - 1, -1, -1)]
    rng = random.Random(SEED + 2)
    columns = ("ad_group_id", "date", "platform_campaign_id", "campaign_id", "platform", "segment_id",
               *METRIC_COLUMNS)  # fmt: skip
    times: dict[str, list[float]] = {"sync": [], "orm": []}
    written = {"sync": 0, "orm": 0}
    for index, pc_id in enumerate(chosen):
        rows = _window_rows(by_pc[pc_id], window, rng)
        way = "sync" if index % 2 == 0 else "orm"
        start = time.perf_counter()
        if way == "sync":
            upsert_metrics(rows, day_totals=False)
        else:
            for row in rows:
                db.session.merge(MetricDaily(**dict(zip(columns, row, strict=True))))
            db.session.flush()
            refresh_rollups_for({(row[3], row[1]) for row in rows}, day_totals=False)
        db.session.commit()
        db.session.expunge_all()
        times[way].append(time.perf_counter() - start)
        written[way] += len(rows)
    start = time.perf_counter()
    refresh_day_totals(window)
    db.session.commit()
    totals_s = time.perf_counter() - start
    stored = db.session.scalar(
        select(func.count()).select_from(MetricDaily).where(MetricDaily.platform_campaign_id.in_(chosen))
    )
    if stored != written["sync"] + written["orm"]:
        raise AssertionError(f"{stored} rows stored, {written} written")
    per_pc = {way: statistics.median(values) for way, values in times.items()}
    return {
        "platform_campaigns_each_way": len(times["sync"]),
        "rows_each_way": written,
        "rows_counted": stored,
        "median_ms_per_platform_campaign": {way: 1000 * v for way, v in per_pc.items()},
        "rows_per_s": {way: written[way] / sum(times[way]) for way in times},
        "ratio": per_pc["orm"] / per_pc["sync"],
        "day_totals_once_s": totals_s,
        "load_average": os.getloadavg(),
    }


def _window_rows(
    groups: list[tuple[int, int, int, str]], window: list[date], rng: random.Random
) -> list[tuple[Any, ...]]:
    rows = []
    for group_id, pc_id, campaign_id, name in groups:
        for day in window:
            impressions = rng.randint(200, 2000)
            clicks = impressions * rng.randint(5, 35) // 1000
            rows.append(
                (group_id, day, pc_id, campaign_id, name, None, impressions, impressions * 4 // 5, clicks,
                 None if name == "google" else clicks * 3, clicks * 850_000, clicks // 12)
            )  # fmt: skip
    return rows


def orm_add_all(rows: list[tuple[Any, ...]]) -> dict[str, Any]:
    """The plain ORM way: build MetricDaily objects, add_all, commit (object building is timed)."""
    truncate_metrics()
    maintenance("CHECKPOINT")
    columns = ("ad_group_id", "date", "platform_campaign_id", "campaign_id", "platform", "segment_id",
               *METRIC_COLUMNS)  # fmt: skip
    wait_for_quiet()
    start = time.perf_counter()
    db.session.add_all([MetricDaily(**dict(zip(columns, row, strict=True))) for row in rows])
    db.session.commit()
    elapsed = time.perf_counter() - start
    db.session.expunge_all()
    truncate_metrics()
    return {"rows": len(rows), "elapsed_s": elapsed, "rows_per_s": len(rows) / elapsed}


# -- (b) ten million rows -----------------------------------------------------------------------


def build_big_table(first_day: date, days: int) -> dict[str, float]:
    """Every ad group x `days` days, loaded without indexes, then indexed (the usual bulk load)."""
    truncate_metrics()
    timings: dict[str, float] = {}
    table = MetricDaily.__table__
    secondary = list(table.indexes)
    conn = db.session.connection()
    for index in secondary:
        conn.execute(text(f"DROP INDEX {index.name}"))
    pk = table.primary_key.name
    conn.execute(text(f"ALTER TABLE metrics_daily DROP CONSTRAINT {pk}"))
    # The rows are consistent by construction; skip the per-row FK triggers for the load only.
    conn.execute(text("SET LOCAL session_replication_role = replica"))
    conn.execute(text("SELECT setseed(0.42)"))
    # One partition per month on PostgreSQL: made before the rows, as the sync's upsert does.
    metric_partitions.ensure_months(first_day + timedelta(days=n) for n in range(days))
    start = time.perf_counter()
    conn.execute(
        text(
            """
            INSERT INTO metrics_daily (ad_group_id, date, platform_campaign_id, campaign_id, platform,
                segment_id, impressions, reach, clicks, engagements, spend_micros, applications, synced_at)
            SELECT id, day, pc_id, campaign_id, platform, NULL, imp, imp * 4 / 5, clk,
                   CASE WHEN platform = 'google' THEN NULL ELSE clk * 3 END, clk * 850000, clk / 12, now()
            FROM (
                SELECT g.id, d.day, pc.id AS pc_id, pc.campaign_id, pc.platform, s.imp,
                       (s.imp * (0.005 + s.r * 0.03))::bigint AS clk
                FROM ad_groups g
                JOIN platform_campaigns pc ON pc.id = g.platform_campaign_id
                CROSS JOIN LATERAL (
                    SELECT (CAST(:first AS date) + n) AS day FROM generate_series(0, :days - 1) AS n
                ) d
                CROSS JOIN LATERAL (SELECT (200 + random() * 1800)::bigint AS imp, random() AS r) s
            ) rows
            """
        ),
        {"first": first_day, "days": days},
    )
    timings["insert_s"] = time.perf_counter() - start
    start = time.perf_counter()
    conn.execute(
        text("ALTER TABLE metrics_daily ADD CONSTRAINT metrics_daily_pkey PRIMARY KEY (ad_group_id, date)")
    )
    timings["primary_key_s"] = time.perf_counter() - start
    start = time.perf_counter()
    for index in secondary:
        index.create(conn)
    timings["indexes_s"] = time.perf_counter() - start
    db.session.commit()
    timings["rollups_s"] = timed(lambda: (rebuild_all_rollups(), db.session.commit()))
    timings["vacuum_analyze_s"] = maintenance("VACUUM ANALYZE")
    return timings


def _sums(source: Any) -> list[Any]:
    # The same expressions as reports._sums: SUM(bigint) is NUMERIC, cast back to integers.
    sums = []
    for column in reports.COUNTS:
        total = cast(func.sum(getattr(source, column)), BigInteger)
        sums.append((total if column == "engagements" else func.coalesce(total, 0)).label(column))
    return sums


def naive_overview_statements(since: date, until: date) -> list[Select[Any]]:
    window = MetricDaily.date.between(since, until)
    return [
        select(MetricDaily.date, *_sums(MetricDaily))
        .where(window)
        .group_by(MetricDaily.date)
        .order_by(MetricDaily.date),
        select(MetricDaily.platform, *_sums(MetricDaily))
        .where(window)
        .group_by(MetricDaily.platform)
        .order_by(MetricDaily.platform),
    ]


def naive_overview(since: date, until: date) -> dict[str, Any]:
    """reports.overview computed from the raw rows instead of the day/platform rollup."""
    trend_stmt, platform_stmt = naive_overview_statements(since, until)
    trend = [reports.derive(dict(r._mapping)) for r in db.session.execute(trend_stmt)]
    platforms = [reports.derive(dict(r._mapping)) for r in db.session.execute(platform_stmt)]
    totals = reports.derive({c: sum((p.get(c) or 0) for p in platforms) for c in reports.COUNTS})
    return {"since": since, "until": until, "totals": totals, "trend": trend, "platforms": platforms}


def naive_timeseries_statement(campaign_id: int, since: date, until: date) -> Select[Any]:
    return (
        select(MetricDaily.platform, MetricDaily.date, *_sums(MetricDaily))
        .where(MetricDaily.campaign_id == campaign_id, MetricDaily.date.between(since, until))
        .group_by(MetricDaily.platform, MetricDaily.date)
        .order_by(MetricDaily.platform, MetricDaily.date)
    )


def naive_timeseries(campaign_id: int, since: date, until: date) -> dict[str, Any]:
    """reports.campaign_timeseries computed from the raw rows instead of the campaign rollup."""
    series: dict[str, list[dict[str, Any]]] = {}
    for row in db.session.execute(naive_timeseries_statement(campaign_id, since, until)):
        data = dict(row._mapping)
        series.setdefault(data.pop("platform"), []).append(reports.derive(data))
    return {"campaign_id": campaign_id, "series": series}


def page_window(campaign_id: int, today: date) -> tuple[date, date]:
    """The campaign page's chart window (web.views: up to 365 days ending today)."""
    start = db.session.scalar(select(Campaign.start_date).where(Campaign.id == campaign_id))
    return max(start, today - timedelta(days=364)), today


def measure(call: Callable[[], object], samples: int, warmup: int = 3) -> dict[str, float]:
    """Latency in ms of `call`, each in a fresh session (as a request would be)."""
    wait_for_quiet()
    values = []
    for index in range(warmup + samples):
        start = time.perf_counter()
        call()
        elapsed = (time.perf_counter() - start) * 1000
        db.session.remove()
        if index >= warmup:
            values.append(elapsed)
    values.sort()
    return {
        "samples": samples,
        "p50_ms": statistics.median(values),
        "p95_ms": statistics.quantiles(values, n=20, method="inclusive")[18],
        "max_ms": values[-1],
    }


def explain(stmt: Select[Any]) -> list[str]:
    compiled = stmt.compile(dialect=db.engine.dialect, compile_kwargs={"literal_binds": True})
    rows = db.session.execute(text(f"EXPLAIN (ANALYZE, BUFFERS) {compiled}")).scalars().all()
    db.session.rollback()
    return list(rows)


def rollup_overview_statements(since: date, until: date) -> list[Select[Any]]:
    from adflux.models import DailyMetricTotal

    window = DailyMetricTotal.date.between(since, until)
    return [
        select(DailyMetricTotal.date, *_sums(DailyMetricTotal))
        .where(window)
        .group_by(DailyMetricTotal.date)
        .order_by(DailyMetricTotal.date),
    ]


def rollup_timeseries_statement(campaign_id: int, since: date, until: date) -> Select[Any]:
    from adflux.models import CampaignMetricDaily

    return (
        select(CampaignMetricDaily.platform, CampaignMetricDaily.date,
               *[getattr(CampaignMetricDaily, c) for c in reports.COUNTS])
        .where(CampaignMetricDaily.campaign_id == campaign_id, CampaignMetricDaily.date.between(since, until))
        .order_by(CampaignMetricDaily.platform, CampaignMetricDaily.date)
    )  # fmt: skip


def campaign_ranking_statement(since: date, until: date) -> Select[Any]:
    """What reports.performance_report(group_by=("campaign",)) runs for the overview page."""
    from adflux.models import CampaignMetricDaily

    return (
        select(CampaignMetricDaily.campaign_id.label("campaign"), *_sums(CampaignMetricDaily))
        .where(CampaignMetricDaily.date.between(since, until))
        .group_by(CampaignMetricDaily.campaign_id)
        .order_by(CampaignMetricDaily.campaign_id)
    )


def reads(today: date, campaign_ids: list[int], samples: int) -> dict[str, Any]:
    """p50/p95 of the dashboard's queries from the rollups and from the raw rows."""
    rng = random.Random(SEED)
    since30 = today - timedelta(days=29)
    pick: Callable[[], int] = lambda: rng.choice(campaign_ids)  # noqa: E731

    def campaign_page() -> None:
        campaign_id = pick()
        campaigns_service.get_campaign(campaign_id=campaign_id)
        since, until = page_window(campaign_id, today)
        reports.campaign_timeseries(campaign_id=campaign_id, since=since, until=until)

    def naive_campaign_page() -> None:
        campaign_id = pick()
        campaigns_service.get_campaign(campaign_id=campaign_id)
        since, until = page_window(campaign_id, today)
        naive_timeseries(campaign_id, since, until)

    # The two ways must agree before their speed means anything.
    check_id = campaign_ids[len(campaign_ids) // 2]
    since, until = page_window(check_id, today)
    fast_series = reports.campaign_timeseries(campaign_id=check_id, since=since, until=until)["series"]
    slow_series = naive_timeseries(check_id, since, until)["series"]
    if fast_series != slow_series:
        raise AssertionError("campaign_timeseries from the rollup and from the raw rows differ")
    fast = reports.overview(since=since30, until=today)
    slow = naive_overview(since30, today)
    if (fast["trend"], fast["platforms"], fast["totals"]) != (
        slow["trend"],
        slow["platforms"],
        slow["totals"],
    ):
        raise AssertionError("overview from the rollup and from the raw rows differ")
    db.session.remove()

    naive_samples = max(5, samples // 5)
    results = {
        "overview (rollup)": measure(lambda: reports.overview(since=since30, until=today), samples),
        "campaign page (rollup)": measure(campaign_page, samples),
        "overview (raw rows)": measure(lambda: naive_overview(since30, today), naive_samples),
        "campaign page (raw rows)": measure(naive_campaign_page, samples),
    }
    # The dashboard's overview page also ranks campaigns by spend over the same 30 days.
    results["overview page: + top campaigns report (rollup)"] = measure(
        lambda: (
            reports.overview(since=since30, until=today),
            reports.performance_report(group_by=("campaign",), since=since30, until=today),
        ),
        samples,
    )
    plans = {
        "overview (rollup), trend": explain(rollup_overview_statements(since30, today)[0]),
        "overview (raw rows), trend": explain(naive_overview_statements(since30, today)[0]),
        "overview (raw rows), platforms": explain(naive_overview_statements(since30, today)[1]),
        "top campaigns report (rollup)": explain(campaign_ranking_statement(since30, today)),
        "campaign timeseries (rollup)": explain(rollup_timeseries_statement(check_id, since, until)),
        "campaign timeseries (raw rows)": explain(naive_timeseries_statement(check_id, since, until)),
    }
    return {"latency": results, "plans": plans}


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
            {}, env="testing", database_url=DATABASE_URL, instance_path="/tmp", metrics_enabled=False
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
