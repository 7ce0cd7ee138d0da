"""What a campaign's owner has been told: one row per event, so nothing is sent twice."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from adflux.extensions import Model
from adflux.models.base import JSONType, UTCDateTime, utcnow


class OwnerNotification(Model):
    """An event worth telling a campaign's owner about, and how sending it went."""

    __tablename__ = "owner_notifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The event's identity ("audit:123", "budget_spent:7"): unique, so a sweep never repeats it.
    event_key: Mapped[str] = mapped_column(String(80), unique=True)
    # publish_failed | paused_by_rule | budget_spent | job_closed
    kind: Mapped[str] = mapped_column(String(30))
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    details: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    # pending | sent | failed (failed after MAX_ATTEMPTS) | skipped (no owner, no channel)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    channels: Mapped[list[str] | None] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_owner_notifications_status", "status"),)
