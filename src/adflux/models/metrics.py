"""Daily performance: one row per ad group and day, plus a per-campaign rollup."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from adflux.extensions import Model
from adflux.models.base import UTCDateTime, utcnow
from adflux.models.metric_columns import AFTER_METRICS, METRIC_COLUMNS, MetricColumns


class MetricDaily(Model, MetricColumns):
    """What one ad group bought on one day. CTR, CPC and CPA are derived, never stored.

    The fact table has no foreign keys: PostgreSQL checks each one row by row, which was two
    thirds of the time of a bulk upsert (3 x ~4.4 s per million rows). `metrics_store.upsert_metrics`
    checks every batch's ad groups, platform campaigns and campaigns in one query instead, and
    whatever deletes campaigns deletes their metrics explicitly (as `adflux db prune` does).
    """

    __tablename__ = "metrics_daily"

    ad_group_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    date: Mapped[date] = mapped_column(Date, primary_key=True)
    # Denormalised so reports filter and group without joins.
    platform_campaign_id: Mapped[int] = mapped_column(Integer)
    campaign_id: Mapped[int] = mapped_column(Integer)
    platform: Mapped[str] = mapped_column(String(20))
    segment_id: Mapped[int | None] = mapped_column(Integer)
    synced_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, sort_order=AFTER_METRICS)

    __table_args__ = (
        Index("ix_metrics_daily_campaign_id_date", "campaign_id", "date"),
        Index("ix_metrics_daily_date", "date"),
        # PostgreSQL: one partition per month (services/metric_partitions.py makes them as rows
        # arrive; retention drops whole months). Other databases: one plain table.
        {"postgresql_partition_by": "RANGE (date)"},
    )


class CampaignMetricDaily(Model, MetricColumns):
    """Rollup per campaign, platform and day, refreshed by every sync for the days it touched.

    The dashboard's campaign and overview queries read this instead of aggregating raw rows.
    """

    __tablename__ = "campaign_metrics_daily"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    platform: Mapped[str] = mapped_column(String(20), primary_key=True)
    date: Mapped[date] = mapped_column(Date, primary_key=True)

    __table_args__ = (
        # Covering on PostgreSQL: date-range reads across campaigns (the overview's campaign
        # ranking, the day totals) scan only this index, whatever order the rollup was written in.
        Index(
            "ix_campaign_metrics_daily_date_covering",
            "date",
            postgresql_include=[
                "campaign_id",
                "platform",
                *METRIC_COLUMNS,
            ],
        ),
        # Covering on PostgreSQL: one campaign's days (the campaign page's chart and platform
        # comparison) read from a few index pages; the rollup is written day by day across
        # campaigns, so through the primary key a campaign's 1,095 rows sat on ~1,050 heap pages.
        Index(
            "ix_campaign_metrics_daily_campaign_covering",
            "campaign_id",
            "platform",
            "date",
            postgresql_include=[
                *METRIC_COLUMNS,
            ],
        ),
    )


class CampaignMetricTotal(Model, MetricColumns):
    """Each campaign's sums over every day it has: the campaign list's spend, applications and CPA,
    and its orders by them, read one row per campaign instead of summing its rollup rows. Refreshed
    with the campaign rollup, for the campaigns each sync touched."""

    __tablename__ = "campaign_metric_totals"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)

    __table_args__ = (Index("ix_campaign_metric_totals_spend_micros", "spend_micros"),)


class CampaignRanking(Model, MetricColumns):
    """The campaigns that spent most over the overview's preset windows (its last 7, 30 and 90
    days), ranked whenever the day totals are rebuilt (once per sync), the first
    `services.campaign_rankings.KEPT` of each: the overview reads ten rows instead of ranking
    every campaign's rollup rows of the window on the first view after each sync."""

    __tablename__ = "campaign_rankings"

    since: Mapped[date] = mapped_column(Date, primary_key=True)
    until: Mapped[date] = mapped_column(Date, primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))


class DailyMetricTotal(Model, MetricColumns):
    """Rollup per day and platform across all campaigns: the overview's KPIs and trend."""

    __tablename__ = "daily_metric_totals"

    date: Mapped[date] = mapped_column(Date, primary_key=True)
    platform: Mapped[str] = mapped_column(String(20), primary_key=True)
    campaigns: Mapped[int] = mapped_column(Integer, default=0, sort_order=AFTER_METRICS)


class SegmentMetricDaily(Model, MetricColumns):
    """Rollup per day, platform and segment across all campaigns: the segment reports.

    ``segment_key`` is the segment's id, or 0 for ad groups aimed at the broad audience (no
    segment): a primary key cannot hold NULL. Refreshed once per sync for the days it read, from
    the raw rows (the only table that knows ad groups' segments).
    """

    __tablename__ = "segment_metrics_daily"

    date: Mapped[date] = mapped_column(Date, primary_key=True)
    platform: Mapped[str] = mapped_column(String(20), primary_key=True)
    segment_key: Mapped[int] = mapped_column(Integer, primary_key=True)
