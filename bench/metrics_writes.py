"""bench_metrics' writes: the sync's writes as it makes them against the ORM way (the headline), bulk
ingestion with `upsert_metrics`, and the plain ORM `add_all`.
"""

from __future__ import annotations

import os
import random
import statistics
import time
from datetime import date, timedelta
from typing import Any

from metrics_dataset import SEED, truncate_metrics
from metrics_scratch import maintenance, timed, wait_for_quiet
from sqlalchemy import func, select

from adflux.extensions import db
from adflux.models import MetricDaily
from adflux.services.metrics_store import (
    METRIC_COLUMNS,
    refresh_day_totals,
    refresh_rollups_for,
    upsert_metrics,
)


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
