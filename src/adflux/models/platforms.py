"""Ad-platform accounts and their (encrypted) credentials."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from adflux.extensions import Model
from adflux.models.base import JSONType, TimestampMixin, UTCDateTime, utcnow


class PlatformAccount(TimestampMixin, Model):
    __tablename__ = "platform_accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(120))
    # The platform's own account id (act_123, customer id, advertiser id, ...).
    external_account_id: Mapped[str] = mapped_column(String(64))
    base_url: Mapped[str | None] = mapped_column(String(300))
    api_version: Mapped[str | None] = mapped_column(String(20))
    # Fernet-encrypted JSON; the key comes from ADFLUX_ENCRYPTION_KEY, never from the database.
    credentials_encrypted: Mapped[str | None] = mapped_column(Text)
    token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rate_limit_per_second: Mapped[float | None] = mapped_column(Float)
    is_sandbox: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    # The platform's other identifiers (not secrets): Meta page_id, Google login_customer_id, ...
    identifiers: Mapped[dict[str, str] | None] = mapped_column(JSONType)

    __table_args__ = (UniqueConstraint("platform", "external_account_id"),)


class PlatformObject(Model):
    """One object a platform created for AdFlux (campaign, ad group, creative, ad), linked once.

    A platform object belongs to one platform campaign: the unique key on (platform, account,
    id) makes AdFlux refuse to link an id a platform hands out twice (a sandbox that forgot its
    objects, or a platform bug) instead of crediting one object's spend to two campaigns.
    """

    __tablename__ = "platform_objects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    # The platform's own account id (act_123, customer id, ...): ids are unique per account.
    account_ref: Mapped[str] = mapped_column(String(64))
    external_id: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(20))  # campaign, ad_group, creative, ad
    platform_campaign_id: Mapped[int] = mapped_column(ForeignKey("platform_campaigns.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        UniqueConstraint("platform", "account_ref", "external_id"),
        Index("ix_platform_objects_platform_campaign_id", "platform_campaign_id"),
    )


class MediaUpload(Model):
    """An image already uploaded to one platform account, by its content: never uploaded twice."""

    __tablename__ = "media_uploads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    account_ref: Mapped[str] = mapped_column(String(64))
    content_hash: Mapped[str] = mapped_column(String(64))  # sha256 of the image bytes
    # What the ad reads: {"image_hash": ...}, {"image_ids": [...]}, {"snap_media_id": ...}
    media: Mapped[dict[str, object]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (UniqueConstraint("platform", "account_ref", "content_hash"),)
