"""Job feeds (where the portal's openings come from), their runs, and playbooks (campaign policies)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from adflux.extensions import Model
from adflux.models.base import BigId, JSONType, TimestampMixin, UTCDateTime


class JobFeed(TimestampMixin, Model):
    """A source of job openings: an http(s) URL or a file, read on a schedule."""

    __tablename__ = "job_feeds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    location: Mapped[str] = mapped_column(String(1000))  # http(s):// URL or a file path
    format: Mapped[str] = mapped_column(String(10))  # xml | json | jsonl | csv
    # The feed's field name for each AdFlux field it names differently ({"title": "puesto"}).
    mapping: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    interval_minutes: Mapped[int] = mapped_column(Integer, default=15)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # A run listing fewer than (1 - max_shrink) x the last good run's openings closes nothing.
    max_shrink: Mapped[float] = mapped_column(Float, default=0.5)
    # What the last successful fetch said, for a conditional request next time.
    etag: Mapped[str | None] = mapped_column(String(300))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    content_sha256: Mapped[str | None] = mapped_column(String(64))
    last_count: Mapped[int | None] = mapped_column(Integer)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_status: Mapped[str | None] = mapped_column(String(20))


class FeedRun(Model):
    """One read of a feed and what it found."""

    __tablename__ = "feed_runs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("job_feeds.id", ondelete="CASCADE"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # running | succeeded | unchanged | failed
    status: Mapped[str] = mapped_column(String(20), default="running")
    trigger: Mapped[str] = mapped_column(String(20), default="schedule")  # schedule | manual
    listed: Mapped[int] = mapped_column(Integer, default=0)
    new: Mapped[int] = mapped_column(Integer, default=0)
    changed: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    closed: Mapped[int] = mapped_column(Integer, default=0)
    reopened: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    bytes_read: Mapped[int] = mapped_column(BigInteger, default=0)
    # [{"line"|"record": n, "external_ref": ..., "reason": ...}], capped.
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_feed_runs_feed_id_id", "feed_id", "id"),)


class Playbook(TimestampMixin, Model):
    """A campaign policy: which openings, where, aimed at whom, with what money, and who approves."""

    __tablename__ = "playbooks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    position: Mapped[int] = mapped_column(Integer, default=100)  # lower goes first
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # {"categories": [...], "cities": [...], "departments": [...], "companies": [...],
    #  "salary_min": n, "salary_max": n, "experience_min": n, "experience_max": n, "keywords": [...]}
    conditions: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    platforms: Mapped[list[str]] = mapped_column(JSONType, default=list)
    segment_ids: Mapped[list[int]] = mapped_column(JSONType, default=list)
    best_segments: Mapped[int | None] = mapped_column(Integer)  # "the best k for the category"
    budget_total: Mapped[int | None] = mapped_column(BigInteger)
    budget_formula: Mapped[str | None] = mapped_column(String(300))
    budget_daily: Mapped[int | None] = mapped_column(BigInteger)
    flight_days: Mapped[int | None] = mapped_column(Integer)  # None: until the job closes
    target_cpa: Mapped[int | None] = mapped_column(BigInteger)
    objective: Mapped[str] = mapped_column(String(20), default="traffic")
    requires_approval: Mapped[bool] = mapped_column(Boolean, default=False)
