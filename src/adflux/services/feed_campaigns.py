"""The campaign loop: what happens to campaigns when the feed says an opening moved.

- new: the first playbook that takes it makes a campaign, previewed for compliance at creation,
  then published or left for a manager's approval;
- changed (title, salary, city, ...): every live campaign of the opening gets its creatives and
  targeting regenerated and updated in place on every platform (`campaigns.changes`): the same
  campaigns, ads, budget and history, only the copy and targeting change;
- closed, filled or expired: its live campaigns are paused on every platform at once, and
  completed once the opening has stayed closed for the grace period; drafts awaiting approval
  are archived;
- reopened: what automation paused is resumed.

Every step goes through the campaign services (the idempotent publishing path and its queues),
runs under a per-opening lock so a redelivered task never acts twice, and writes its decision and
reason to the audit trail.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from adflux.constants import TASK_FOLLOW_JOB
from adflux.extensions import db
from adflux.models import Campaign, JobOpening
from adflux.models.base import utcnow
from adflux.services import audit, task_queue
from adflux.services.campaigns import (
    archive_campaign,
    complete_campaign,
    create_campaign,
    pause_campaign,
    publish_campaign,
    resume_campaign,
)
from adflux.services.campaigns.changes import refresh_creatives
from adflux.services.errors import DomainError
from adflux.services.local_dates import local_stamp
from adflux.services.locks import hold_lock
from adflux.services.playbooks.planning import CampaignPlan, plan_for
from adflux.settings import current_settings

logger = logging.getLogger(__name__)

LIVE = ("active", "partially_active", "partially_paused", "paused")
DELIVERING = ("active", "partially_active", "partially_paused")
HOLD_JOB_CLOSED = "job_closed"
_CLOSE_REASONS = {
    "feed_gone": "cerrada en el feed (ya no aparece)",
    "feed_closed": "cerrada en el feed (cubierta o cerrada)",
    "expired": "cerrada en el feed (vencida)",
    "manual": "oferta cerrada a mano",
}


def follow_job(*, job_id: int, kind: str, run_id: int | None = None) -> dict[str, Any]:
    """Act on one opening's event; safe to run twice (the second run finds the work done)."""
    with hold_lock("job", job_id):
        db.session.expire_all()
        job = db.session.get(JobOpening, job_id)
        if job is None:
            return {"job_id": job_id, "outcome": "gone"}
        handler = {"new": _new, "changed": _changed, "closed": _closed, "reopened": _reopened}[kind]
        outcome = handler(job, run_id)
        logger.info("job %s (%s): %s", job_id, kind, outcome)
        return {"job_id": job_id, "kind": kind, **outcome}


def _campaigns(job_id: int, statuses: tuple[str, ...]) -> list[Campaign]:
    return list(
        db.session.scalars(
            select(Campaign)
            .where(Campaign.job_id == job_id, Campaign.status.in_(statuses))
            .order_by(Campaign.id)
        )
    )


def _decide(action: str, job: JobOpening, campaign_id: int | None, reason: str, **details: Any) -> None:
    audit.record(
        f"automation.{action}",
        entity_type="campaign" if campaign_id else "job",
        entity_id=campaign_id or job.id,
        after={"job_id": job.id, "reason": reason, **details},
    )
    db.session.commit()


def _when() -> str:
    return local_stamp(utcnow())


# -- new ----------------------------------------------------------------------------------------


def _new(job: JobOpening, run_id: int | None) -> dict[str, Any]:
    if job.status != "open":
        return {"outcome": "skipped", "reason": "the opening is not open"}
    existing = db.session.scalar(
        select(Campaign.id).where(
            Campaign.job_id == job.id,
            Campaign.playbook_id.is_not(None),
            Campaign.status.not_in(("completed", "archived", "partially_archived")),
        )
    )
    if existing is not None:
        return {"outcome": "skipped", "reason": f"campaign {existing} already follows it"}
    plan = plan_for(job)
    if plan.playbook_id is None:
        return {"outcome": "skipped", "reason": plan.skip}
    if plan.skip:
        _decide("skipped", job, None, plan.skip, playbook=plan.playbook_name)
        return {"outcome": "skipped", "reason": plan.skip}
    reason = f"nueva en el feed {_when()}"
    return _launch(job, plan, reason)


def _launch(job: JobOpening, plan: CampaignPlan, reason: str, *, approved: bool = False) -> dict[str, Any]:
    try:
        campaign = create_campaign(
            job_id=job.id,
            platforms=plan.platforms,
            budget_total=plan.budget_total,
            segment_ids=plan.segment_ids,
            budget_daily=plan.budget_daily,
            end_date=plan.end_date,
            target_cpa=plan.target_cpa,
            objective=plan.objective,
        )
    except DomainError as exc:
        db.session.rollback()
        _decide("failed", job, None, f"{reason}: {exc.message}", playbook=plan.playbook_name)
        return {"outcome": "failed", "reason": exc.message}
    campaign.playbook_id = plan.playbook_id
    waits = plan.requires_approval and not approved
    campaign.approval_status = "pending" if waits else ("approved" if plan.requires_approval else None)
    _decide(
        "campaign_created",
        job,
        campaign.id,
        reason,
        playbook=plan.playbook_name,
        budget_total=plan.budget_total,
        platforms=plan.platforms,
        waits_for_approval=waits,
    )
    if waits:
        return {"outcome": "awaiting_approval", "campaign_id": campaign.id}
    publish_campaign(campaign_id=campaign.id)
    return {"outcome": "published", "campaign_id": campaign.id}


# -- changed ------------------------------------------------------------------------------------


def _changed(job: JobOpening, run_id: int | None) -> dict[str, Any]:
    if job.status != "open":
        return {"outcome": "skipped", "reason": "the opening is closed"}
    updated: list[int] = []
    reason = f"la oferta cambió en el feed {_when()}"
    for campaign in _campaigns(job.id, (*LIVE, "draft")):
        # The same campaign (its ids, history and budget) gets the new copy and targeting in place.
        result = refresh_creatives(db.session, campaign.id, actor="automation")
        if result.unchanged:
            continue
        updated.append(campaign.id)
        _decide(
            "updated",
            job,
            campaign.id,
            f"{reason}; anuncios actualizados en cada plataforma",
            changed=result.changed,
            platforms=sorted(result.queued),
        )
    return {"outcome": "updated", "campaign_ids": updated}


# -- closed and reopened ------------------------------------------------------------------------


def _closed(job: JobOpening, run_id: int | None) -> dict[str, Any]:
    if job.status != "closed":
        return {"outcome": "skipped", "reason": "the opening is open again"}
    reason = _CLOSE_REASONS.get(job.close_reason or "", "oferta cerrada") + f" {_when()}"
    paused, archived, failed = [], [], []
    for campaign in _campaigns(job.id, (*DELIVERING, "draft")):
        try:
            if campaign.status == "draft":
                archive_campaign(campaign_id=campaign.id)
                archived.append(campaign.id)
                _decide("archived", job, campaign.id, reason)
                continue
            pause_campaign(campaign_id=campaign.id)
        except DomainError as exc:
            db.session.rollback()
            failed.append(campaign.id)
            _decide("pause_failed", job, campaign.id, f"{reason}: {exc.message}")
            continue
        fresh = db.session.get(Campaign, campaign.id)
        if fresh is not None:
            fresh.automation_hold = HOLD_JOB_CLOSED
        paused.append(campaign.id)
        _decide("paused", job, campaign.id, reason)
    return {"outcome": "paused", "paused": paused, "archived": archived, "failed": failed}


def _reopened(job: JobOpening, run_id: int | None) -> dict[str, Any]:
    if job.status != "open":
        return {"outcome": "skipped", "reason": "the opening is closed"}
    held = [
        c for c in _campaigns(job.id, ("paused", "partially_paused")) if c.automation_hold == HOLD_JOB_CLOSED
    ]
    if not held:
        return _new(job, run_id)
    resumed = []
    for campaign in held:
        try:
            resume_campaign(campaign_id=campaign.id)
        except DomainError as exc:
            db.session.rollback()
            _decide("resume_failed", job, campaign.id, exc.message)
            continue
        fresh = db.session.get(Campaign, campaign.id)
        if fresh is not None:
            fresh.automation_hold = None
        resumed.append(campaign.id)
        _decide("resumed", job, campaign.id, f"reabierta en el feed {_when()}")
    return {"outcome": "resumed", "resumed": resumed}


# -- the sweep ----------------------------------------------------------------------------------


def sweep() -> dict[str, int]:
    """Catch what an event missed: closed openings whose campaigns still deliver get a follow-up,
    and campaigns paused for a closed opening past the grace period are completed."""
    stray = list(
        db.session.scalars(
            select(JobOpening.id)
            .join(Campaign, Campaign.job_id == JobOpening.id)
            .where(JobOpening.status == "closed", Campaign.status.in_(DELIVERING))
            .distinct()
        )
    )
    sent = 0
    for job_id in stray:
        try:
            task_queue.send(TASK_FOLLOW_JOB, job_id, "closed", None, queue="automation")
            sent += 1
        except task_queue.QueueUnavailable:
            break
    grace = timedelta(hours=current_settings().feed_close_grace_hours)
    held = db.session.execute(
        select(Campaign.id, JobOpening.id)
        .join(JobOpening, JobOpening.id == Campaign.job_id)
        .where(
            Campaign.automation_hold == HOLD_JOB_CLOSED,
            Campaign.status == "paused",
            JobOpening.status == "closed",
            JobOpening.closed_at <= utcnow() - grace,
        )
    ).all()
    completed = 0
    for campaign_id, job_id in held:
        with hold_lock("job", job_id):
            try:
                campaign = complete_campaign(campaign_id=campaign_id)
            except DomainError:
                db.session.rollback()
                continue
            campaign.automation_hold = None
            job = db.session.get(JobOpening, job_id)
            if job is not None:
                _decide(
                    "completed",
                    job,
                    campaign_id,
                    f"la oferta lleva cerrada más de {grace.total_seconds() / 3600:.0f} h",
                )
            completed += 1
    return {"closed_followups": sent, "completed": completed}
