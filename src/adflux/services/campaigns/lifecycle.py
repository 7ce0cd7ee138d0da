"""A campaign's publishing: publish (and retry), settle its status from its platforms, and resend
publishes a broker failure left pending. Pausing and the rest are in `delivery`."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select

from adflux.catalogue import gettext as _
from adflux.constants import TASK_PUBLISH_PLATFORM_CAMPAIGN
from adflux.extensions import db
from adflux.models import Campaign, PlatformCampaign, TaskRun
from adflux.models.base import utcnow
from adflux.monitoring.broker import queue_lengths
from adflux.services import audit, task_queue, task_runs
from adflux.services.campaign_states import check_action, settled_status
from adflux.services.errors import InvalidTransition, NotFound, ServiceUnavailable
from adflux.services.locks import try_lock
from adflux.settings import current_settings

logger = logging.getLogger(__name__)


# -- publishing ---------------------------------------------------------------------------------


def publish_campaign(*, campaign_id: int) -> TaskRun:
    """Start publishing a draft: one background task per platform; returns the tracking TaskRun."""
    campaign = locked_for("publish", campaign_id)
    return _start_publishing(campaign, [pc for pc in campaign.platform_campaigns], action="publish")


def retry_failed(*, campaign_id: int) -> TaskRun:
    """Republish only the platform campaigns that failed."""
    campaign = locked_for("retry_failed", campaign_id)
    failed = [pc for pc in campaign.platform_campaigns if pc.status == "failed"]
    if not failed:
        db.session.rollback()
        raise InvalidTransition(
            _("Campaign %(campaign_id)s has no failed platform to retry", campaign_id=campaign_id)
        )
    return _start_publishing(campaign, failed, action="retry_failed")


def locked_for(action: str, campaign_id: int) -> Campaign:
    """The campaign, row-locked, if `action` is allowed in its state; else 409 (lock released)."""
    campaign = _locked(campaign_id)
    try:
        check_action(action, campaign.status, campaign_id=campaign.id)
    except InvalidTransition:
        db.session.rollback()  # never keep the row locked while the caller handles the error
        raise
    return campaign


def _locked(campaign_id: int) -> Campaign:
    # Row lock (PostgreSQL): two clicks on "publish" cannot both pass the state check.
    campaign = db.session.get(Campaign, campaign_id, with_for_update=True)
    if campaign is None:
        db.session.rollback()
        raise NotFound(_("Campaign %(campaign_id)s does not exist", campaign_id=campaign_id))
    return campaign


def _start_publishing(campaign: Campaign, targets: list[PlatformCampaign], *, action: str) -> TaskRun:
    before = campaign.status
    campaign.status = "publishing"
    for pc in targets:
        pc.status, pc.last_error, pc.error_class = "pending", None, None
    audit.record(
        f"campaign.{action}",
        entity_type="campaign",
        entity_id=campaign.id,
        before={"status": before},
        after={"status": "publishing", "platforms": [pc.platform for pc in targets]},
    )
    db.session.commit()
    run = task_runs.create_task_run(
        kind="campaign.publish",
        params={"campaign_id": campaign.id, "platforms": [pc.platform for pc in targets]},
        subject=("campaign", campaign.id),
    )
    run_id, campaign_id = run.id, campaign.id
    target_ids = [pc.id for pc in targets]
    sent = 0
    try:
        for pc_id in target_ids:
            task_queue.send(TASK_PUBLISH_PLATFORM_CAMPAIGN, pc_id, run_id, queue="publishing")
            sent += 1
    except task_queue.QueueUnavailable as exc:
        db.session.rollback()
        if sent == 0:
            # Nothing reached the queue: put everything back as it was and say so.
            restored = db.session.get(Campaign, campaign_id)
            restored.status = before  # type: ignore[union-attr]
            for pc_id in target_ids:
                unsent = db.session.get(PlatformCampaign, pc_id)
                unsent.status = "failed" if action == "retry_failed" else "pending"  # type: ignore[union-attr]
            db.session.commit()
            task_runs.fail_task_run(
                task_id=run_id, error="The task queue is unavailable; nothing was started."
            )
            raise ServiceUnavailable(
                _("The task queue is unavailable; the campaign was not published")
            ) from exc
        # Some tasks were sent: the rest stay pending and the stalled-publish sweeper resends them.
        logger.error(
            "broker failed after %d of %d publish tasks for campaign %s", sent, len(target_ids), campaign_id
        )
    db.session.expire_all()
    return task_runs.get_task_run(task_id=run_id)


def settle_campaign_of(*, platform_campaign_id: int, run_id: str | None = None) -> None:
    """Settle the campaign a platform campaign belongs to (after one of its publishes ended)."""
    pc = db.session.get(PlatformCampaign, platform_campaign_id)
    if pc is not None:
        settle_campaign(campaign_id=pc.campaign_id, run_id=run_id)


def settle_campaign(*, campaign_id: int, run_id: str | None = None) -> Campaign:
    """Recompute a publishing campaign's status from its platforms, and the run's progress."""
    run_id = run_id or _open_publish_run(campaign_id)
    campaign = _locked(campaign_id)
    statuses = [pc.status for pc in campaign.platform_campaigns]
    if campaign.status in ("publishing", "partially_active", "failed"):
        new = settled_status(statuses)
        if new != campaign.status:
            before = campaign.status
            campaign.status = new
            audit.record(
                "campaign.status",
                entity_type="campaign",
                entity_id=campaign.id,
                before={"status": before},
                after={"status": new},
            )
    if run_id:
        # In the same transaction, under the campaign's row lock: the run's progress is computed
        # from the statuses just read (no second load), and two settles cannot interleave.
        _update_publish_run(run_id, campaign)
    db.session.commit()
    return campaign


def _open_publish_run(campaign_id: int) -> str | None:
    """The campaign's publish run still open (a resent publish carries no run id)."""
    return db.session.scalar(
        select(TaskRun.id)
        .where(
            TaskRun.subject_type == "campaign",
            TaskRun.subject_id == str(campaign_id),
            TaskRun.kind == "campaign.publish",
            TaskRun.status.in_(("pending", "running")),
        )
        .order_by(TaskRun.created_at.desc())
        .limit(1)
    )


def _update_publish_run(run_id: str, campaign: Campaign) -> None:
    """The run's progress from the campaign's platform statuses (the caller commits)."""
    run = db.session.get(TaskRun, run_id)
    if run is None or run.status in ("succeeded", "failed"):
        return
    names = set(run.params.get("platforms", []))
    targets = [pc for pc in campaign.platform_campaigns if pc.platform in names]
    finished = [pc for pc in targets if pc.status not in ("pending", "publishing")]
    if run.status == "pending":
        run.status, run.started_at = "running", utcnow()
    run.progress = 100.0 * len(finished) / max(1, len(targets))
    run.stage = f"{len(finished)} of {len(targets)} platforms done"
    if len(finished) == len(targets):
        run.status = "succeeded"
        run.finished_at = utcnow()
        run.result = {
            "campaign_status": campaign.status,
            "platforms": {pc.platform: {"status": pc.status, "error": pc.last_error} for pc in targets},
        }


def resend_stalled_publishes(*, idle_seconds: int | None = None, queued_minutes: int = 10) -> int:
    """Re-enqueue publishes that nobody is doing; safe to run every few seconds (publishing is
    idempotent and a platform campaign is published under its own lock).

    - `publishing` for `idle_seconds` and its lock is free: the worker that took it died (its
      database session, and with it the advisory lock, ended with it);
    - `pending` for `idle_seconds` while the publishing queue is empty: its message was lost
      (a broker restart, a failed send); with messages still queued, it may be among them, so
      it is resent only after `queued_minutes`.
    """
    settings = current_settings()
    idle = settings.publish_sweep_idle_seconds if idle_seconds is None else idle_seconds
    now = utcnow()
    _settle_finished(before=now - timedelta(seconds=idle))
    stalled = db.session.scalars(
        select(PlatformCampaign)
        .join(Campaign)
        .where(
            Campaign.status == "publishing",
            PlatformCampaign.status.in_(("pending", "publishing")),
            PlatformCampaign.updated_at < now - timedelta(seconds=idle),
        )
        .order_by(PlatformCampaign.id)
    ).all()
    if not stalled:
        return 0
    queued = queue_lengths(settings, ("publishing",)).get("publishing", 0)
    lost = [pc for pc in stalled if _nobody_publishes(pc, queued=queued, now=now, minutes=queued_minutes)]
    for pc in lost:
        task_queue.send(TASK_PUBLISH_PLATFORM_CAMPAIGN, pc.id, None, queue="publishing")
        pc.updated_at = now  # not again before another idle period
    db.session.commit()
    if lost:
        logger.warning("resent %d stalled publishes (%d waited in the queue)", len(lost), queued)
    return len(lost)


def _settle_finished(*, before: datetime) -> None:
    """Settle campaigns still publishing whose platforms all finished (a worker died between
    recording its platform's result and settling the campaign)."""
    unfinished = (
        select(PlatformCampaign.id)
        .where(
            PlatformCampaign.campaign_id == Campaign.id,
            PlatformCampaign.status.in_(("pending", "publishing")),
        )
        .exists()
    )
    finished = db.session.scalars(
        select(Campaign.id).where(Campaign.status == "publishing", Campaign.updated_at < before, ~unfinished)
    ).all()
    for campaign_id in finished:
        settle_campaign(campaign_id=campaign_id)
    if finished:
        logger.warning("settled %d campaigns whose platforms had all finished", len(finished))


def _nobody_publishes(pc: PlatformCampaign, *, queued: int, now: datetime, minutes: int) -> bool:
    if pc.status == "publishing":
        with try_lock("publish", pc.id) as free:
            return free
    return queued == 0 or pc.updated_at < now - timedelta(minutes=minutes)
