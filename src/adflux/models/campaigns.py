"""Campaigns, their per-platform publications, ad groups and creatives."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from adflux.extensions import Model, db
from adflux.models.base import JSONType, TimestampMixin, UTCDateTime
from adflux.models.campaign_search import install as install_campaign_search
from adflux.models.jobs import JobOpening
from adflux.models.segmentation import Segment

campaign_segments = Table(
    "campaign_segments",
    db.metadata,
    Column("campaign_id", ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True),
    Column("segment_id", ForeignKey("segments.id", ondelete="CASCADE"), primary_key=True),
)


class Campaign(TimestampMixin, Model):
    """What a marketing manager launches: one job, several platforms, some segments."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("job_openings.id"))
    name: Mapped[str] = mapped_column(String(200))
    objective: Mapped[str] = mapped_column(String(20), default="traffic")
    # Whole Colombian pesos.
    budget_total: Mapped[int] = mapped_column(BigInteger)
    budget_daily: Mapped[int | None] = mapped_column(BigInteger)
    target_cpa: Mapped[int | None] = mapped_column(BigInteger)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    # An action (pause, resume, complete, archive) that reached only some platforms: what a
    # retry finishes. None when every platform is where the campaign's status says.
    pending_action: Mapped[str | None] = mapped_column(String(20))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Who answers for it and is told when it needs attention (None: whoever created it).
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Made by a playbook from the job feed (None: by hand).
    playbook_id: Mapped[int | None] = mapped_column(ForeignKey("playbooks.id", ondelete="SET NULL"))
    # pending | approved | rejected (None: no approval asked); the note says why it was rejected.
    approval_status: Mapped[str | None] = mapped_column(String(20))
    approval_note: Mapped[str | None] = mapped_column(String(500))
    # Set when automation paused it because its job closed (a reopened job resumes only these).
    automation_hold: Mapped[str | None] = mapped_column(String(20))
    # Its name and its job's title and company, folded, for the search (PostgreSQL: kept by
    # triggers, never written by the ORM; NULL on SQLite). See models/campaign_search.py.
    search_text: Mapped[str | None] = mapped_column(Text, deferred=True)

    @property
    def effective_owner_id(self) -> int | None:
        """The owner set, else whoever created the campaign."""
        return self.owner_id if self.owner_id is not None else self.created_by_id

    job: Mapped[JobOpening] = relationship()
    segments: Mapped[list[Segment]] = relationship(secondary=campaign_segments, order_by=Segment.id)
    platform_campaigns: Mapped[list[PlatformCampaign]] = relationship(
        back_populates="campaign", order_by="PlatformCampaign.id", cascade="all, delete-orphan"
    )

    __table_args__ = (
        Index("ix_campaigns_status_id", "status", "id"),
        Index("ix_campaigns_job_id", "job_id"),
        Index("ix_campaigns_approval_status", "approval_status"),
    )


install_campaign_search(Campaign.__table__)


class PlatformCampaign(TimestampMixin, Model):
    """A campaign as published on one platform, with every id the platform gave back."""

    __tablename__ = "platform_campaigns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(20))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("platform_accounts.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    # AdFlux's own reference, carried in every object name at the platform (no platform has
    # idempotency keys, so this is how a retry finds what an ambiguous failure created).
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    external_campaign_id: Mapped[str | None] = mapped_column(String(128))
    external_ids: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    budget_weight: Mapped[float] = mapped_column(Float, default=1.0)
    # This platform's share of the campaign budget, whole pesos.
    budget_total: Mapped[int] = mapped_column(BigInteger, default=0)
    budget_daily: Mapped[int | None] = mapped_column(BigInteger)
    targeting: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    compliance_report: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    error_class: Mapped[str | None] = mapped_column(String(20))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # In-place updates (services/campaigns/changes.py): the desired state is the row itself;
    # update_revision counts changes asked for, applied_revision the last one the platform took.
    # update_status: None (never changed), "pending", "applied" or "failed" (update_error says why).
    update_status: Mapped[str | None] = mapped_column(String(20))
    update_revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    applied_revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    update_fields: Mapped[list[str] | None] = mapped_column(JSONType)
    update_error: Mapped[str | None] = mapped_column(Text)
    update_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    updated_on_platform_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    campaign: Mapped[Campaign] = relationship(back_populates="platform_campaigns")
    ad_groups: Mapped[list[AdGroup]] = relationship(
        back_populates="platform_campaign", order_by="AdGroup.id", cascade="all, delete-orphan"
    )
    creatives: Mapped[list[AdCreative]] = relationship(
        back_populates="platform_campaign", order_by="AdCreative.id", cascade="all, delete-orphan"
    )

    @property
    def live_groups(self) -> list[AdGroup]:
        """The ad groups still aimed at the campaign's segments (not removed)."""
        return [group for group in self.ad_groups if group.active]

    __table_args__ = (
        UniqueConstraint("campaign_id", "platform"),
        Index("ix_platform_campaigns_status", "status"),
    )


class AdGroup(Model):
    """One ad set / ad group / line item / ad squad: the unit aimed at one segment.

    Metrics are kept per ad group so results can be read per segment.
    """

    __tablename__ = "ad_groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform_campaign_id: Mapped[int] = mapped_column(ForeignKey("platform_campaigns.id", ondelete="CASCADE"))
    # None = broad targeting (no segment chosen).
    segment_id: Mapped[int | None] = mapped_column(ForeignKey("segments.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(200))
    external_id: Mapped[str | None] = mapped_column(String(128))
    budget_daily: Mapped[int | None] = mapped_column(BigInteger)
    targeting: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # "active"; "paused": paused on its own (by a rule or by hand; sent through the in-place update
    # path, the platform campaign's update_status says whether the platform has it yet); or
    # "removed": its segment was taken off the campaign (paused at the platform, kept for its
    # history and metrics).
    status: Mapped[str] = mapped_column(String(20), default="active", server_default="active")

    platform_campaign: Mapped[PlatformCampaign] = relationship(back_populates="ad_groups")

    @property
    def active(self) -> bool:
        return self.status != "removed"

    __table_args__ = (Index("ix_ad_groups_platform_campaign_id", "platform_campaign_id"),)


class AdCreative(Model):
    """Generated ad copy for one platform, within that platform's limits."""

    __tablename__ = "ad_creatives"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform_campaign_id: Mapped[int] = mapped_column(ForeignKey("platform_campaigns.id", ondelete="CASCADE"))
    headline: Mapped[str] = mapped_column(String(255))
    primary_text: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(String(255))
    call_to_action: Mapped[str] = mapped_column(String(40))
    link_url: Mapped[str] = mapped_column(String(1000))
    # Platform-specific extras (e.g. Google's several headlines and descriptions).
    extra: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    external_id: Mapped[str | None] = mapped_column(String(128))

    platform_campaign: Mapped[PlatformCampaign] = relationship(back_populates="creatives")

    __table_args__ = (Index("ix_ad_creatives_platform_campaign_id", "platform_campaign_id"),)
