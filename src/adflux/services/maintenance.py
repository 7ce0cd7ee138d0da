"""Clean-up: rows past retention, and simulated data with everything that hangs off it.

Retention (ADFLUX_*_RETENTION_DAYS): finished task runs, resolved alerts, audit events and the
per-minute request statistics. Open alerts, and task runs still pending or running, are never
pruned — they are exactly what someone may be looking into. Simulated data is what
`adflux data seed` / the demo created (`external_ref` starting with "SIM-"): candidates with
their persona labels and segment assignments, and job openings with their campaigns,
publications, ad groups, creatives and daily metrics (the rollups are recomputed for the days
touched). Everything is deleted child-first in one transaction, so a failure deletes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Delete, Select, delete, func, select

from adflux.extensions import db
from adflux.models import (
    AdCreative,
    AdGroup,
    Alert,
    AuditEvent,
    Campaign,
    CampaignMetricDaily,
    CampaignSegmentMetricDaily,
    Candidate,
    CandidatePersona,
    CandidateSegment,
    DailyMetricTotal,
    JobOpening,
    MetricDaily,
    PlatformCampaign,
    RequestStat,
    SegmentMetricDaily,
    TaskRun,
    campaign_segments,
)
from adflux.services import audit, metric_partitions
from adflux.services.metrics_store import refresh_campaign_totals, refresh_rollups_for
from adflux.settings import current_settings

logger = logging.getLogger(__name__)

SIMULATED_PREFIX = "SIM-"
FINISHED_TASK_STATUSES = ("succeeded", "failed")


@dataclass
class PruneReport:
    """What was (or, in a dry run, would be) deleted, per table."""

    dry_run: bool
    retention: dict[str, int] = field(default_factory=dict)
    simulated: dict[str, int] = field(default_factory=dict)
    cutoffs: dict[str, datetime] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.retention.values()) + sum(self.simulated.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "retention": self.retention,
            "simulated": self.simulated,
            "cutoffs": {k: v.isoformat() for k, v in self.cutoffs.items()},
            "total": self.total,
        }


def _count(stmt: Select[Any]) -> int:
    return int(db.session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one())


def prune(*, dry_run: bool = False, simulated: bool = True, now: datetime | None = None) -> PruneReport:
    """Delete rows past retention and (unless `simulated=False`) simulated data; commit once."""
    settings = current_settings()
    now = now or datetime.now(UTC)
    report = PruneReport(dry_run=dry_run)
    cutoffs = {
        "task_runs": now - timedelta(days=settings.task_run_retention_days),
        "alerts": now - timedelta(days=settings.alert_retention_days),
        "audit_events": now - timedelta(days=settings.audit_retention_days),
        "request_stats": now - timedelta(days=settings.request_stats_retention_days),
    }
    report.cutoffs = cutoffs
    retention_targets: list[tuple[str, Any, Any]] = [
        (
            "task_runs",
            TaskRun,
            (TaskRun.status.in_(FINISHED_TASK_STATUSES), TaskRun.finished_at < cutoffs["task_runs"]),
        ),
        ("alerts", Alert, (Alert.status == "resolved", Alert.resolved_at < cutoffs["alerts"])),
        ("audit_events", AuditEvent, (AuditEvent.at < cutoffs["audit_events"],)),
        ("request_stats", RequestStat, (RequestStat.minute < cutoffs["request_stats"],)),
    ]
    try:
        for name, model, conditions in retention_targets:
            report.retention[name] = _prune_rows(model, conditions, dry_run=dry_run)
        if settings.metrics_retention_days:
            oldest_kept = (now - timedelta(days=settings.metrics_retention_days)).date()
            report.retention["metrics_daily"] = _prune_metrics(oldest_kept, dry_run=dry_run)
        if simulated:
            report.simulated = _prune_simulated(dry_run=dry_run)
        if dry_run:
            db.session.rollback()
            return report
        if report.total:
            audit.record("maintenance.prune", entity_type="database", after=report.as_dict())
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    logger.info("pruned %d rows: %s", report.total, {**report.retention, **report.simulated})
    return report


def _prune_metrics(oldest_kept: date, *, dry_run: bool) -> int:
    """Daily metrics (and their rollups) before `oldest_kept`: on PostgreSQL whole monthly
    partitions, dropped (a month is kept until all of it is past retention); elsewhere rows."""
    before = oldest_kept
    if db.engine.dialect.name == "postgresql":
        whole = [
            month for month, _ in metric_partitions.months() if metric_partitions.next_month(month) <= before
        ]
        before = metric_partitions.next_month(whole[-1]) if whole else date.min
    rows = _count(select(MetricDaily).where(MetricDaily.date < before)) if before > date.min else 0
    if dry_run or not rows:
        return rows
    if db.engine.dialect.name == "postgresql":
        metric_partitions.drop_months_before(before)
    else:
        _deleted(delete(MetricDaily).where(MetricDaily.date < before))
    for rollup in (CampaignMetricDaily, CampaignSegmentMetricDaily, DailyMetricTotal, SegmentMetricDaily):
        _deleted(delete(rollup).where(rollup.date < before))
    refresh_campaign_totals()  # the campaigns' sums over the days that are left
    return rows


def _prune_rows(model: Any, conditions: tuple[Any, ...], *, dry_run: bool) -> int:
    if dry_run:
        return _count(select(model).where(*conditions))
    return _deleted(delete(model).where(*conditions).execution_options(synchronize_session=False))


def _deleted(statement: Delete) -> int:
    """Run a DELETE (no RETURNING); the rows it removed."""
    # Session.execute() is typed as returning Result, but a DML statement without RETURNING gets a
    # CursorResult, which has rowcount (the cast SQLAlchemy's 2.0.44 changelog recommends).
    result = cast(CursorResult[Any], db.session.execute(statement))
    return int(result.rowcount or 0)


def _prune_simulated(*, dry_run: bool) -> dict[str, int]:
    like = f"{SIMULATED_PREFIX}%"
    candidates = select(Candidate.id).where(Candidate.external_ref.like(like)).scalar_subquery()
    jobs = select(JobOpening.id).where(JobOpening.external_ref.like(like)).scalar_subquery()
    campaigns = select(Campaign.id).where(Campaign.job_id.in_(jobs)).scalar_subquery()
    publications = (
        select(PlatformCampaign.id).where(PlatformCampaign.campaign_id.in_(campaigns)).scalar_subquery()
    )
    # Child first: SQLite may run without foreign-key enforcement, so cascades are not relied on.
    steps: list[tuple[str, Any, Any]] = [
        ("candidate_segments", CandidateSegment, CandidateSegment.candidate_id.in_(candidates)),
        ("candidate_personas", CandidatePersona, CandidatePersona.candidate_id.in_(candidates)),
        ("candidates", Candidate, Candidate.id.in_(candidates)),
        ("metrics_daily", MetricDaily, MetricDaily.campaign_id.in_(campaigns)),
        ("campaign_metrics_daily", CampaignMetricDaily, CampaignMetricDaily.campaign_id.in_(campaigns)),
        ("ad_creatives", AdCreative, AdCreative.platform_campaign_id.in_(publications)),
        ("ad_groups", AdGroup, AdGroup.platform_campaign_id.in_(publications)),
        ("platform_campaigns", PlatformCampaign, PlatformCampaign.id.in_(publications)),
        ("campaign_segments", campaign_segments, campaign_segments.c.campaign_id.in_(campaigns)),
        ("campaigns", Campaign, Campaign.id.in_(campaigns)),
        ("job_openings", JobOpening, JobOpening.id.in_(jobs)),
    ]
    counts: dict[str, int] = {}
    touched_days: list[tuple[int, Any]] = []
    if not dry_run:
        rows = db.session.execute(
            select(MetricDaily.campaign_id, MetricDaily.date)
            .where(MetricDaily.campaign_id.in_(campaigns))
            .distinct()
        )
        touched_days = [(campaign_id, day) for campaign_id, day in rows]
    for name, target, condition in steps:
        if dry_run:
            counts[name] = _count(select(target).where(condition))
            continue
        counts[name] = _deleted(delete(target).where(condition).execution_options(synchronize_session=False))
        if name == "campaign_metrics_daily" and touched_days:
            _refresh_rollups(touched_days)
    return counts


def _refresh_rollups(pairs: list[tuple[int, Any]]) -> None:
    # The per-day totals summed the rows just deleted; rebuild those days from what is left.
    refresh_rollups_for(pairs)
