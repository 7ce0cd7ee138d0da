"""Budget allocation: per-campaign settings, the daily allocation log, and forecast model versions."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from adflux.extensions import Model
from adflux.models.base import BigId, JSONType, TimestampMixin, UTCDateTime, utcnow


class CampaignAllocation(TimestampMixin, Model):
    """Whether the allocator moves a campaign's budget between its ad groups, and within what limits.

    No row, or ``enabled`` false: the budget stays split as it is (the manager switched it off).
    """

    __tablename__ = "campaign_allocation"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    min_share: Mapped[float] = mapped_column(Float, default=0.02)  # of the daily pool, per ad group
    max_move: Mapped[float] = mapped_column(Float, default=0.25)  # of the daily pool, per ad group per day
    explore: Mapped[float] = mapped_column(Float, default=0.03)  # chance of a random split within limits
    updated_by: Mapped[str | None] = mapped_column(String(200))


class AllocationEntry(Model):
    """One ad group's budget on one allocation day, with its propensity (the off-policy log).

    Every ad group of an allocated campaign gets a row each day, moved or not: off-policy
    evaluation needs the days the budget stayed as much as the days it moved.
    """

    __tablename__ = "allocation_entries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)  # the Bogotá day the budget was set for
    ad_group_id: Mapped[int] = mapped_column(ForeignKey("ad_groups.id", ondelete="CASCADE"))
    platform_campaign_id: Mapped[int] = mapped_column(Integer)
    platform: Mapped[str] = mapped_column(String(20))
    pool: Mapped[int] = mapped_column(BigInteger)  # the campaign's daily budget shared that day
    budget_before: Mapped[int] = mapped_column(BigInteger)
    budget_after: Mapped[int] = mapped_column(BigInteger)
    share_level: Mapped[int] = mapped_column(Integer)
    propensity: Mapped[float] = mapped_column(Float)
    explored: Mapped[bool] = mapped_column(Boolean, default=False)
    expected_cpa: Mapped[int | None] = mapped_column(BigInteger)
    compared_ad_group_id: Mapped[int | None] = mapped_column(Integer)
    compared_cpa: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(20))  # applied | failed | unchanged
    message: Mapped[str | None] = mapped_column(Text)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        UniqueConstraint(
            "campaign_id", "day", "ad_group_id", name="uq_allocation_entries_campaign_day_group"
        ),
        Index("ix_allocation_entries_campaign_day", "campaign_id", "day"),
    )


class ForecastModel(Model):
    """One trained version of the campaign forecast (versioned like segmentation models)."""

    __tablename__ = "forecast_models"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    status: Mapped[str] = mapped_column(String(12), default="candidate")  # candidate | active | retired
    # {"coverage": 0.8, "mape_cpa": ..., "baseline_mape_cpa": ..., "held_out": n, ...}
    metrics: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    training_size: Mapped[int] = mapped_column(Integer, default=0)  # campaigns
    library_versions: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    artifact_uri: Mapped[str] = mapped_column(String(500))
    artifact_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_forecast_models_status", "status"),)
