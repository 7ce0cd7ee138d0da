"""The metrics benches' data set: the rows metrics refer to (a job, campaigns, platform campaigns,
ad groups, creatives), metric rows built in Python, and the big table built in PostgreSQL.
"""

from __future__ import annotations

import random
import time
from datetime import date, timedelta
from typing import Any

from bench_sets import job_and_campaigns
from metrics_scratch import maintenance, timed
from sqlalchemy import insert, select, text

from adflux.extensions import db
from adflux.models import AdCreative, AdGroup, MetricDaily, PlatformCampaign
from adflux.services import metric_partitions
from adflux.services.metrics_store import (
    rebuild_all_rollups,
)

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


def truncate_metrics() -> None:
    db.session.execute(text("TRUNCATE metrics_daily, campaign_metrics_daily, daily_metric_totals"))
    db.session.commit()


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
