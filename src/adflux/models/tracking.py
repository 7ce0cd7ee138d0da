"""First-hand measurement: tracking links, their clicks, the portal's application events and the
conversions sent back to the platforms.

Clicks and events carry plain ids (no foreign keys) like the metric tables: they are written fast
and in bulk, and outlive the campaigns they name. Only hashes of a candidate's identifiers are kept.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from adflux.extensions import Model
from adflux.models.base import BigId, JSONType, UTCDateTime, utcnow


def _byte_order(length: int) -> Any:
    """A key inserted in bulk in random order: on PostgreSQL compared byte by byte (collation "C", the
    same equality, index comparisons without the locale; migration 0030)."""
    return String(length).with_variant(String(length, collation="C"), "postgresql")


class TrackingLink(Model):
    """Where one ad group's ads send people: a short code (`/r/<code>`) and the job's page."""

    __tablename__ = "tracking_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    campaign_id: Mapped[int] = mapped_column(Integer)
    platform: Mapped[str] = mapped_column(String(20))
    ad_group_id: Mapped[int | None] = mapped_column(Integer)
    segment_id: Mapped[int | None] = mapped_column(Integer)
    creative_id: Mapped[int | None] = mapped_column(Integer)
    job_reference: Mapped[str | None] = mapped_column(String(128))
    destination_url: Mapped[str] = mapped_column(Text)
    # "redirect": ads point at /r/<code>; "utm": ads point at the portal with UTM values and a click id.
    mode: Mapped[str] = mapped_column(String(10), default="redirect")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (Index("ix_tracking_links_ad_group", "campaign_id", "platform", "ad_group_id"),)


class Click(Model):
    """One hit on a tracking link, with the platform's click id when the ad platform added one."""

    __tablename__ = "clicks"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    click_id: Mapped[str] = mapped_column(_byte_order(32), unique=True)  # AdFlux's own (afcid)
    link_code: Mapped[str] = mapped_column(String(16))
    campaign_id: Mapped[int] = mapped_column(Integer)
    platform: Mapped[str] = mapped_column(String(20))
    ad_group_id: Mapped[int | None] = mapped_column(Integer)
    segment_id: Mapped[int | None] = mapped_column(Integer)
    creative_id: Mapped[int | None] = mapped_column(Integer)
    platform_click_param: Mapped[str | None] = mapped_column(String(10))  # fbclid, gclid, ...
    platform_click_id: Mapped[str | None] = mapped_column(String(255))
    visitor_hash: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_clicks_at", "at"),
        Index("ix_clicks_visitor_at", "visitor_hash", "at"),
    )


class ApplicationEvent(Model):
    """An application the portal reported, idempotent by its event id, and what it is owed to."""

    __tablename__ = "application_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_id: Mapped[str] = mapped_column(_byte_order(128), unique=True)
    job_reference: Mapped[str] = mapped_column(String(128))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    click_id: Mapped[str | None] = mapped_column(String(32))
    utm: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    email_hash: Mapped[str | None] = mapped_column(String(64))
    phone_hash: Mapped[str | None] = mapped_column(String(64))
    consent: Mapped[bool] = mapped_column(Boolean, default=False)
    # attributed (to a click), utm (to a campaign by its UTM values only) or unattributed.
    attribution: Mapped[str] = mapped_column(String(14))
    attributed_click_id: Mapped[str | None] = mapped_column(String(32))
    campaign_id: Mapped[int | None] = mapped_column(Integer)
    platform: Mapped[str | None] = mapped_column(String(20))
    ad_group_id: Mapped[int | None] = mapped_column(Integer)
    segment_id: Mapped[int | None] = mapped_column(Integer)
    day: Mapped[date | None] = mapped_column(Date)  # the day (Bogotá) the application counts on

    __table_args__ = (
        Index("ix_application_events_campaign_day", "campaign_id", "day"),
        Index("ix_application_events_received_at", "received_at"),
    )  # no index on email_hash: erasure matches e-mail OR phone hashes, a scan either way (0030)


class ConversionUpload(Model):
    """One attributed application sent (or to be sent) to one platform's conversions API."""

    __tablename__ = "conversion_uploads"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    application_event_id: Mapped[int] = mapped_column(ForeignKey("application_events.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("application_event_id", "platform", name="uq_conversion_uploads_event_platform"),
        Index("ix_conversion_uploads_status", "status"),
    )
