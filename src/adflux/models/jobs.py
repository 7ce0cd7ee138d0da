"""Job openings: what the portal wants to advertise."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from adflux.extensions import Model
from adflux.models.base import BigId, TimestampMixin, UTCDateTime


class JobOpening(TimestampMixin, Model):
    __tablename__ = "job_openings"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # The portal's own id: imports are idempotent on it.
    external_ref: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    company: Mapped[str] = mapped_column(String(200))
    city: Mapped[str] = mapped_column(String(80))
    department: Mapped[str] = mapped_column(String(80))
    country: Mapped[str] = mapped_column(String(2), default="CO")
    category: Mapped[str] = mapped_column(String(40))
    modality: Mapped[str] = mapped_column(String(20))
    # Whole Colombian pesos; None = salary not published ("a convenir").
    salary_min: Mapped[int | None] = mapped_column(Integer)
    salary_max: Mapped[int | None] = mapped_column(Integer)
    salary_currency: Mapped[str] = mapped_column(String(3), default="COP")
    education_required: Mapped[str | None] = mapped_column(String(20))
    experience_years_min: Mapped[int] = mapped_column(Integer, default=0)
    apply_url: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(12), default="open")
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Why it closed: manual | feed_gone (no longer listed) | feed_closed (listed as closed or
    # filled) | expired (past its expiry date).
    close_reason: Mapped[str | None] = mapped_column(String(20))
    # The feed that lists it (None: created by hand or imported), what the feed said last time
    # (a hash, so an unchanged opening costs nothing) and when the feed says it expires.
    feed_id: Mapped[int | None] = mapped_column(ForeignKey("job_feeds.id", ondelete="SET NULL"))
    content_hash: Mapped[str | None] = mapped_column(String(40))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_job_openings_status_id", "status", "id"),
        Index("ix_job_openings_city", "city"),
        Index("ix_job_openings_category", "category"),
        Index("ix_job_openings_modality", "modality"),
        Index("ix_job_openings_feed_id", "feed_id"),
    )

    def __repr__(self) -> str:
        return f"<JobOpening {self.id} {self.external_ref!r} {self.title!r}>"
