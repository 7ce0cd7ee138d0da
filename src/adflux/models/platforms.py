"""Ad-platform accounts and their (encrypted) credentials."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from adflux.extensions import Model
from adflux.models.base import TimestampMixin, UTCDateTime


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

    __table_args__ = (UniqueConstraint("platform", "external_account_id"),)
