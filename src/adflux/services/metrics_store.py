"""Writing daily metrics in bulk and keeping the rollups in step.

PostgreSQL: COPY into a temporary staging table, then one INSERT ... ON CONFLICT DO UPDATE
(≈100–150k rows/s here, against ~7k rows/s for ORM add_all). SQLite: one executemany upsert.
After the upsert the rollups are rebuilt for exactly the (campaign, day) pairs that changed.
metrics_daily has no foreign keys (checked row by row they were most of the upsert's time), so
each batch's references are checked here, in one query per 5,000 ad groups, before anything is written.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import delete, func, insert, or_, select, text, tuple_
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from adflux.catalogue import gettext as _
from adflux.constants import PLATFORM_LABELS
from adflux.extensions import db
from adflux.models import (
    AdGroup,
    CampaignMetricDaily,
    CampaignMetricTotal,
    CampaignRanking,
    CampaignSegmentMetricDaily,
    DailyMetricTotal,
    MetricDaily,
    PlatformCampaign,
    SegmentMetricDaily,
)
from adflux.models.base import utcnow
from adflux.services import campaign_rankings, metric_partitions
from adflux.services.errors import ServiceUnavailable, ValidationFailed

logger = logging.getLogger(__name__)

METRIC_COLUMNS = ("impressions", "reach", "clicks", "engagements", "spend_micros", "applications")
ROW_COLUMNS = (
    "ad_group_id",
    "date",
    "platform_campaign_id",
    "campaign_id",
    "platform",
    "segment_id",
    *METRIC_COLUMNS,
)

# PostgreSQL types of ROW_COLUMNS, for the binary COPY into the staging table.
COPY_TYPES = ("int4", "date", "int4", "int4", "text", "int4", *(["int8"] * len(METRIC_COLUMNS)))


def upsert_metrics(
    rows: Sequence[dict[str, Any]] | Sequence[tuple[Any, ...]],
    *,
    refresh_rollups: bool = True,
    day_totals: bool = True,
) -> int:
    """Insert or replace daily rows keyed by (ad_group_id, date); returns how many were received.

    Rows are dicts with ROW_COLUMNS keys, or tuples in ROW_COLUMNS order. The caller commits.
    A row whose figures did not change is left alone (no new row version, same synced_at), and
    the rollups are refreshed only for the (campaign, day) pairs that did change: a sync re-reads
    a lookback window that is mostly unchanged. ``day_totals=False`` leaves the day/platform
    totals to the caller (the metrics sync refreshes them once, for its whole window, at the end:
    per upsert they cost a scan of every campaign's rollup rows of those days).
    """
    if not rows:
        return 0
    tuples = [tuple(r[c] for c in ROW_COLUMNS) if isinstance(r, dict) else tuple(r) for r in rows]
    check_references(tuples)
    if db.engine.dialect.name == "postgresql":
        metric_partitions.ensure_months({t[1] for t in tuples})
        changed = _copy_upsert(tuples)
    else:
        _sqlite_upsert(tuples)
        changed = {(t[3], t[1]) for t in tuples}
    if refresh_rollups:
        refresh_rollups_for(changed, day_totals=day_totals)
    return len(tuples)


def check_references(rows: Sequence[tuple[Any, ...]]) -> None:
    """ValidationFailed unless each row's ad group exists under its platform campaign, campaign, platform."""
    claimed = {(row[0], row[2], row[3], row[4]) for row in rows}
    ad_group_ids = sorted({ref[0] for ref in claimed})
    known: set[tuple[Any, ...]] = set()
    for start in range(0, len(ad_group_ids), 5000):
        stmt = (
            select(
                AdGroup.id,
                AdGroup.platform_campaign_id,
                PlatformCampaign.campaign_id,
                PlatformCampaign.platform,
            )
            .join(PlatformCampaign, PlatformCampaign.id == AdGroup.platform_campaign_id)
            .where(AdGroup.id.in_(ad_group_ids[start : start + 5000]))
        )
        known.update(tuple(row) for row in db.session.execute(stmt))
    wrong = sorted(claimed - known)
    if wrong:
        shown = ", ".join(
            _(
                "ad group %(ad_group)s / platform campaign %(platform_campaign)s / campaign %(campaign)s"
                " / %(platform)s",
                ad_group=a,
                platform_campaign=p,
                campaign=c,
                platform=PLATFORM_LABELS.get(name, name),
            )
            for a, p, c, name in wrong[:5]
        )
        raise ValidationFailed(
            _(
                "%(wrong)s metric row reference(s) match no ad group of that platform campaign: %(shown)s",
                wrong=len(wrong),
                shown=shown,
            ),
            errors={
                "rows": ["unknown or mismatched ad_group_id, platform_campaign_id, campaign_id or platform"]
            },
        )


def _copy_upsert(rows: list[tuple[Any, ...]]) -> set[tuple[int, date]]:
    """COPY into staging, then one upsert; the (campaign, day) pairs of rows inserted or changed."""
    connection = db.session.connection()
    raw = connection.connection.driver_connection
    if raw is None:  # only an invalidated (e.g. lost) connection has no driver connection
        raise ServiceUnavailable(_("The database connection was lost; no metrics were written"))
    columns = ", ".join(ROW_COLUMNS)
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in (*METRIC_COLUMNS, "synced_at"))
    changed = " OR ".join(f"metrics_daily.{c} IS DISTINCT FROM EXCLUDED.{c}" for c in METRIC_COLUMNS)
    with raw.cursor() as cur:
        # Same columns, no constraints (synced_at is filled by the INSERT below).
        cur.execute(
            "CREATE TEMP TABLE IF NOT EXISTS metrics_staging ON COMMIT DELETE ROWS "
            "AS SELECT * FROM metrics_daily WITH NO DATA"
        )
        cur.execute("TRUNCATE metrics_staging")
        # Binary COPY: psycopg's C dumpers skip the per-value text formatting (~2x faster here).
        with cur.copy(f"COPY metrics_staging ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(COPY_TYPES)
            for row in rows:
                copy.write_row(row)
        cur.execute(
            f"WITH written AS (INSERT INTO metrics_daily ({columns}, synced_at) "
            f"SELECT {columns}, now() FROM metrics_staging "
            f"ON CONFLICT (ad_group_id, date) DO UPDATE SET {updates} WHERE {changed} "
            "RETURNING campaign_id, date) SELECT DISTINCT campaign_id, date FROM written"
        )
        return {(campaign_id, day) for campaign_id, day in cur.fetchall()}


def _sqlite_upsert(rows: list[tuple[Any, ...]]) -> None:
    now = utcnow()
    stmt = sqlite_insert(MetricDaily)
    stmt = stmt.on_conflict_do_update(
        index_elements=["ad_group_id", "date"],
        set_={c: stmt.excluded[c] for c in (*METRIC_COLUMNS, "synced_at")},
        where=or_(*(getattr(MetricDaily, c).is_distinct_from(stmt.excluded[c]) for c in METRIC_COLUMNS)),
    )
    db.session.execute(stmt, [{**dict(zip(ROW_COLUMNS, r, strict=True)), "synced_at": now} for r in rows])


def refresh_rollups_for(pairs: Iterable[tuple[int, date]], *, day_totals: bool = True) -> None:
    """Rebuild the rollup rows of the given (campaign_id, day) pairs from the raw rows (and the
    day totals of those days, unless the caller does that once for many calls)."""
    pairs = sorted(set(pairs))
    if not pairs:
        return
    days = sorted({d for _, d in pairs}) if day_totals else []
    if db.engine.dialect.name == "postgresql":
        _refresh_campaign_rollups_pg(pairs)
        refresh_campaign_totals({c for c, _ in pairs})
        refresh_day_totals(days)
        return
    for start in range(0, len(pairs), 500):
        chunk = pairs[start : start + 500]
        key = tuple_(CampaignMetricDaily.campaign_id, CampaignMetricDaily.date)
        db.session.execute(delete(CampaignMetricDaily).where(key.in_(chunk)))
        sums = [func.sum(getattr(MetricDaily, c)) for c in METRIC_COLUMNS]
        source = (
            select(MetricDaily.campaign_id, MetricDaily.platform, MetricDaily.date, *sums)
            .where(tuple_(MetricDaily.campaign_id, MetricDaily.date).in_(chunk))
            .group_by(MetricDaily.campaign_id, MetricDaily.platform, MetricDaily.date)
        )
        db.session.execute(
            insert(CampaignMetricDaily).from_select(
                ["campaign_id", "platform", "date", *METRIC_COLUMNS], source
            )
        )
        _refresh_campaign_segments(chunk)
    refresh_campaign_totals({c for c, _ in pairs})
    refresh_day_totals(days)


def _refresh_campaign_segments(chunk: list[tuple[int, date]] | None) -> None:
    """Rebuild the campaign x segment x day rollup for these (campaign, day) pairs (None: all),
    from the raw rows (portable; PostgreSQL does it in `_refresh_campaign_rollups_pg`)."""
    target = CampaignSegmentMetricDaily
    key = func.coalesce(MetricDaily.segment_id, 0)
    sums = [func.sum(getattr(MetricDaily, c)) for c in METRIC_COLUMNS]
    source = select(MetricDaily.campaign_id, MetricDaily.date, key, *sums)
    if chunk is None:
        db.session.execute(delete(target))
    else:
        db.session.execute(delete(target).where(tuple_(target.campaign_id, target.date).in_(chunk)))
        source = source.where(tuple_(MetricDaily.campaign_id, MetricDaily.date).in_(chunk))
    db.session.execute(
        insert(target).from_select(
            ["campaign_id", "date", "segment_key", *METRIC_COLUMNS],
            source.group_by(MetricDaily.campaign_id, MetricDaily.date, key),
        )
    )


def refresh_campaign_totals(campaign_ids: Iterable[int] | None = None) -> None:
    """Rebuild each campaign's sums over all its days from its rollup rows (every campaign when
    `campaign_ids` is None): one index range per campaign, ~1,100 rows for a year on 3 platforms."""
    ids = None if campaign_ids is None else sorted(set(campaign_ids))
    chunks = [None] if ids is None else [ids[i : i + 1000] for i in range(0, len(ids), 1000)]
    sums = [func.sum(getattr(CampaignMetricDaily, c)) for c in METRIC_COLUMNS]
    for chunk in chunks:
        if chunk is None:
            db.session.execute(delete(CampaignMetricTotal))
            source = select(CampaignMetricDaily.campaign_id, *sums)
        else:
            db.session.execute(delete(CampaignMetricTotal).where(CampaignMetricTotal.campaign_id.in_(chunk)))
            source = select(CampaignMetricDaily.campaign_id, *sums).where(
                CampaignMetricDaily.campaign_id.in_(chunk)
            )
        db.session.execute(
            insert(CampaignMetricTotal).from_select(
                ["campaign_id", *METRIC_COLUMNS], source.group_by(CampaignMetricDaily.campaign_id)
            )
        )


def _refresh_campaign_rollups_pg(pairs: list[tuple[int, date]]) -> None:
    # All pairs as two arrays joined to the tables: one statement each way, index lookups per pair.
    # (A row-value IN list of 500 pairs became a 500-way OR filter evaluated on every raw row.)
    keys = "unnest(CAST(:campaign_ids AS integer[]), CAST(:days AS date[])) AS k(campaign_id, date)"
    params = {"campaign_ids": [c for c, _ in pairs], "days": [d for _, d in pairs]}
    db.session.execute(
        text(
            f"DELETE FROM campaign_metrics_daily r USING {keys} "
            "WHERE r.campaign_id = k.campaign_id AND r.date = k.date"
        ),
        params,
    )
    columns = ", ".join(METRIC_COLUMNS)
    sums = ", ".join(f"SUM(m.{c})" for c in METRIC_COLUMNS)
    db.session.execute(
        text(
            f"INSERT INTO campaign_metrics_daily (campaign_id, platform, date, {columns}) "
            f"SELECT m.campaign_id, m.platform, m.date, {sums} FROM {keys} "
            "JOIN metrics_daily m ON m.campaign_id = k.campaign_id AND m.date = k.date "
            "GROUP BY m.campaign_id, m.platform, m.date"
        ),
        params,
    )
    db.session.execute(
        text(
            f"DELETE FROM campaign_segment_metrics_daily r USING {keys} "
            "WHERE r.campaign_id = k.campaign_id AND r.date = k.date"
        ),
        params,
    )
    db.session.execute(
        text(
            f"INSERT INTO campaign_segment_metrics_daily (campaign_id, date, segment_key, {columns}) "
            f"SELECT m.campaign_id, m.date, COALESCE(m.segment_id, 0), {sums} FROM {keys} "
            "JOIN metrics_daily m ON m.campaign_id = k.campaign_id AND m.date = k.date "
            "GROUP BY m.campaign_id, m.date, COALESCE(m.segment_id, 0)"
        ),
        params,
    )


def refresh_day_totals(days: Sequence[date]) -> None:
    """Rebuild the rollups across campaigns of these days: the day/platform totals (from the
    campaign rollups), the segment totals (from the raw rows) and the overview's stored campaign
    rankings (services/campaign_rankings.py)."""
    days = sorted(set(days))
    if not days:
        return
    _refresh_platform_totals(days)
    _refresh_segment_totals(days)
    campaign_rankings.refresh()


def _refresh_segment_totals(days: list[date]) -> None:
    key = func.coalesce(MetricDaily.segment_id, 0)
    for start in range(0, len(days), 100):
        chunk = days[start : start + 100]
        db.session.execute(delete(SegmentMetricDaily).where(SegmentMetricDaily.date.in_(chunk)))
        sums = [func.sum(getattr(MetricDaily, c)) for c in METRIC_COLUMNS]
        source = (
            select(MetricDaily.date, MetricDaily.platform, key, *sums)
            .where(MetricDaily.date.in_(chunk))
            .group_by(MetricDaily.date, MetricDaily.platform, key)
        )
        db.session.execute(
            insert(SegmentMetricDaily).from_select(
                ["date", "platform", "segment_key", *METRIC_COLUMNS], source
            )
        )


def _refresh_platform_totals(days: list[date]) -> None:
    for start in range(0, len(days), 500):
        chunk = days[start : start + 500]
        db.session.execute(delete(DailyMetricTotal).where(DailyMetricTotal.date.in_(chunk)))
        sums = [func.sum(getattr(CampaignMetricDaily, c)) for c in METRIC_COLUMNS]
        source = (
            select(
                CampaignMetricDaily.date,
                CampaignMetricDaily.platform,
                *sums,
                func.count(CampaignMetricDaily.campaign_id.distinct()),
            )
            .where(CampaignMetricDaily.date.in_(chunk))
            .group_by(CampaignMetricDaily.date, CampaignMetricDaily.platform)
        )
        db.session.execute(
            insert(DailyMetricTotal).from_select(["date", "platform", *METRIC_COLUMNS, "campaigns"], source)
        )


def rebuild_all_rollups() -> None:
    """Recompute every rollup from scratch (after a restore or a manual fix)."""
    db.session.execute(delete(DailyMetricTotal))
    db.session.execute(delete(SegmentMetricDaily))
    db.session.execute(delete(CampaignMetricDaily))
    db.session.execute(delete(CampaignRanking))
    sums = [func.sum(getattr(MetricDaily, c)) for c in METRIC_COLUMNS]
    db.session.execute(
        insert(CampaignMetricDaily).from_select(
            ["campaign_id", "platform", "date", *METRIC_COLUMNS],
            select(MetricDaily.campaign_id, MetricDaily.platform, MetricDaily.date, *sums).group_by(
                MetricDaily.campaign_id, MetricDaily.platform, MetricDaily.date
            ),
        )
    )
    _refresh_campaign_segments(None)
    days = [d for (d,) in db.session.execute(select(CampaignMetricDaily.date).distinct())]
    refresh_campaign_totals()
    refresh_day_totals(days)
