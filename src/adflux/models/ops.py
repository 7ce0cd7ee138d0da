"""Operational records: background task runs, audit trail and alerts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from adflux.extensions import Model
from adflux.models.base import BigId, JSONType, UTCDateTime, utcnow


class TaskRun(Model):
    """Background work made visible: kind, status, progress, result or error."""

    __tablename__ = "task_runs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # uuid4, also the Celery task id
    kind: Mapped[str] = mapped_column(String(50))
    status: Mapped[str] = mapped_column(String(12), default="pending")
    stage: Mapped[str | None] = mapped_column(String(100))
    progress: Mapped[float] = mapped_column(Float, default=0.0)  # 0..100
    params: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    error: Mapped[str | None] = mapped_column(Text)
    subject_type: Mapped[str | None] = mapped_column(String(40))
    subject_id: Mapped[str | None] = mapped_column(String(64))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_task_runs_created_at", "created_at"),
        Index("ix_task_runs_subject", "subject_type", "subject_id"),
        # The health checks' last metrics syncs (newest finished first): a scan of every task run
        # without it, ~90 ms of each /api/v1/status at 100,000 runs.
        Index("ix_task_runs_kind_finished_at", "kind", "finished_at"),
    )


class AuditEvent(Model):
    """Who changed what, when, with the state before and after."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(120), default="system")
    action: Mapped[str] = mapped_column(String(60))
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    request_id: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        # (at, id): the list's order, so a deep page finds its first row by the index alone.
        Index("ix_audit_events_at_id", "at", "id"),
        Index("ix_audit_events_entity", "entity_type", "entity_id"),
    )


class Alert(Model):
    """An alert rule that fired: open until the condition clears, then kept as history."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule: Mapped[str] = mapped_column(String(60))
    # What the alert is about (e.g. "platform:meta", "campaign:12"); one open alert per rule+key.
    key: Mapped[str] = mapped_column(String(120), default="")
    severity: Mapped[str] = mapped_column(String(12), default="warning")
    status: Mapped[str] = mapped_column(String(12), default="open")
    message: Mapped[str] = mapped_column(Text)
    value: Mapped[float | None] = mapped_column(Float)
    threshold: Mapped[float | None] = mapped_column(Float)
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    notifications: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        Index("ix_alerts_status_rule_key", "status", "rule", "key"),
        # At most one open alert per rule and key, even if two evaluators race (partial index).
        Index(
            "uq_alerts_open_rule_key",
            "rule",
            "key",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
        Index("ix_alerts_opened_at", "opened_at"),
    )


class RequestStat(Model):
    """Requests per minute and route, summed over every web process and machine.

    The alert window (error rate, average latency) is read from here: in-process counters are
    per process, and this table is shared by every gunicorn worker on every machine.
    """

    __tablename__ = "request_stats"

    minute: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    route: Mapped[str] = mapped_column(String(200), primary_key=True)  # "GET /api/v1/jobs/<int:job_id>"
    requests: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)  # 5xx answers
    duration_seconds: Mapped[float] = mapped_column(Float, default=0.0)  # sum over the requests


class Feedback(Model):
    """A suggestion sent from the dashboard's "Sugerencias" form, read by admins."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # idea | problem | other
    message: Mapped[str] = mapped_column(Text)
    page: Mapped[str | None] = mapped_column(String(200))  # where the person was when writing
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(12), default="new")  # new | read
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (Index("ix_feedback_created_at", "created_at"),)
