"""Rules (automated actions), campaigns' pacing settings, and the audited decisions both take."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from adflux.extensions import Model
from adflux.models.base import BigId, JSONType, TimestampMixin, UTCDateTime, utcnow


class Rule(TimestampMixin, Model):
    """An automated action: conditions over metrics and what to do when they hold.

    ``spec`` is the engine's rule as JSON (conditions, combine, action, cooldown, cap, CPA mode,
    confidence), validated by ``services.rules.specs`` on the way in. A rule starts disabled: it
    is meant to be backtested before it is enabled.
    """

    __tablename__ = "rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    # None: every live campaign.
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    template: Mapped[str | None] = mapped_column(String(30))
    level: Mapped[str] = mapped_column(String(20), default="ad_group")
    spec: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str | None] = mapped_column(String(200))
    last_evaluated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CampaignPacing(TimestampMixin, Model):
    """How a campaign's spend is paced over its flight (no row: not paced)."""

    __tablename__ = "campaign_pacing"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    mode: Mapped[str] = mapped_column(String(20), default="even")  # even | front_loaded
    # For campaigns without an end date: the most spent in a calendar month (None: the total).
    monthly_cap: Mapped[int | None] = mapped_column(BigInteger)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)


class OptimizationDecision(Model):
    """One decision of a rule or of pacing, with the numbers behind it (the decision log)."""

    __tablename__ = "optimization_decisions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("rules.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(String(20))  # rule | pacing
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    platform_campaign_id: Mapped[int | None] = mapped_column(Integer)
    ad_group_id: Mapped[int | None] = mapped_column(Integer)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    day: Mapped[date] = mapped_column(Date)  # the local (Bogotá) day it was taken for: cooldowns count these
    action: Mapped[str] = mapped_column(String(20))  # pause | resume | budget | notify
    status: Mapped[str] = mapped_column(String(20))  # applied | failed | recorded
    budget_before: Mapped[int | None] = mapped_column(BigInteger)
    budget_after: Mapped[int | None] = mapped_column(BigInteger)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    message: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index("ix_optimization_decisions_campaign_decided", "campaign_id", "decided_at"),
        Index("ix_optimization_decisions_rule_decided", "rule_id", "decided_at"),
    )
