"""Sending a platform campaign's desired state to its platform (the worker side of `changes`).

One worker at a time per platform campaign (the publish lock: an update never overlaps a
publish). The change sent is built from the database as it is now, in absolute values, so a
redelivered task or a retry after a lost response sets the same values again; a task for a
revision already applied does nothing.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta
from typing import Literal

from sqlalchemy import select

from adflux.constants import TASK_APPLY_PLATFORM_CHANGE
from adflux.extensions import db
from adflux.models import PlatformCampaign
from adflux.models.base import utcnow
from adflux.platforms.ad_group_states import set_ad_group_states
from adflux.platforms.base import PlatformAdapter
from adflux.platforms.errors import AuthError, PlatformError, RetryableError
from adflux.platforms.group_changes import add_groups, remove_groups
from adflux.platforms.types import CreativeSpec, PublishResult, TargetingSpec
from adflux.platforms.updates import CampaignChange, apply_change
from adflux.services import audit, task_queue
from adflux.services.campaigns.ad_group_status import FIELD, desired_states
from adflux.services.locks import try_lock
from adflux.services.platform_access import adapter_for
from adflux.services.publishing import LIVE, ad_group_ref, build_spec, existing_audience
from adflux.services.targeting import job_context, wishes_for_segment

logger = logging.getLogger(__name__)

Outcome = Literal["done", "failed", "retry", "busy", "skipped"]


def desired_change(pc: PlatformCampaign) -> CampaignChange:
    """The platform campaign's desired state for the fields waiting to be sent."""
    fields = set(pc.update_fields or [])
    creative = pc.creatives[0] if pc.creatives and "creative" in fields else None
    return CampaignChange(
        key=pc.idempotency_key,
        revision=pc.update_revision,
        budget_total=pc.budget_total if "budget_total" in fields else None,
        budget_daily=pc.budget_daily if "budget_daily" in fields else None,
        ad_group_budgets={ad_group_ref(g): g.budget_daily or 0 for g in pc.live_groups}
        if "budget_daily" in fields
        else {},
        end_date=pc.campaign.end_date if "end_date" in fields else None,
        creative=CreativeSpec(
            headline=creative.headline,
            primary_text=creative.primary_text,
            link_url=creative.link_url,
            call_to_action=creative.call_to_action,
            description=creative.description,
            extra=dict(creative.extra or {}),
        )
        if creative is not None
        else None,
        job=job_context(pc.campaign.job) if creative is not None or "targeting" in fields else None,
        targeting=_wishes(pc) if "targeting" in fields else {},
    )


def _wishes(pc: PlatformCampaign) -> dict[str, TargetingSpec]:
    """Each ad group's wishes, from its segment and the job as they are now (audiences added later)."""
    job = pc.campaign.job
    segments = {segment.id: segment for segment in pc.campaign.segments}
    return {
        ad_group_ref(group): wishes_for_segment(
            segments.get(group.segment_id) if group.segment_id else None, job
        )
        for group in pc.live_groups
    }


def _with_audiences(change: CampaignChange, adapter: PlatformAdapter) -> CampaignChange:
    """The segments' consented audiences that already exist at the platform, kept in the targeting
    (a targeting update replaces the whole object: an audience left out would be dropped)."""
    if not change.targeting:
        return change
    targeting = {
        ref: replace(wish, custom_audience_id=existing_audience(adapter, int(ref[1:])))
        if ref.startswith("s")
        else wish
        for ref, wish in change.targeting.items()
    }
    return replace(change, targeting=targeting)


def apply_platform_change(*, platform_campaign_id: int, final_attempt: bool = False) -> Outcome:
    """Send the pending change of one platform campaign through its platform's update API."""
    with try_lock("publish", platform_campaign_id) as acquired:
        if not acquired:
            logger.info("platform campaign %s is held by a publish or update; later", platform_campaign_id)
            return "busy"
        pc = db.session.get(PlatformCampaign, platform_campaign_id)
        if pc is None:
            return "skipped"
        db.session.refresh(pc)
        if pc.applied_revision >= pc.update_revision or pc.update_status == "applied":
            return "skipped"  # redelivered, a later task already sent it, or the publish carried it
        if pc.status not in LIVE:
            # Still publishing (its worker died holding nothing: the publish sweep retries it), or
            # not published yet: the publish sends the desired state and marks this revision.
            logger.info("platform campaign %s is %s: its publish carries the change", pc.id, pc.status)
            return "busy" if pc.status == "publishing" else "skipped"
        revision, change = pc.update_revision, desired_change(pc)
        states = desired_states(pc) if FIELD in (pc.update_fields or []) else {}
        regroup = "segments" in (pc.update_fields or [])
        pc.update_attempts += 1
        db.session.commit()
        adapter, _ = adapter_for(pc.platform)
        result = PublishResult.from_dict(pc.external_ids or {})
        try:
            with adapter:
                sent = _regroup(pc, adapter, result) if regroup else []
                sent += apply_change(adapter, result, _with_audiences(change, adapter))
                if states:
                    sent += set_ad_group_states(adapter, result, states)
        except RetryableError as exc:
            return _failed(pc, exc, final=final_attempt)
        except (AuthError, PlatformError) as exc:
            return _failed(pc, exc, final=True)
        _applied(pc, revision, result, sent)
        return "done"


def _regroup(pc: PlatformCampaign, adapter: PlatformAdapter, result: PublishResult) -> list[str]:
    """Ad groups for segments added since the last update created, and the removed ones paused."""
    live = {ad_group_ref(group) for group in pc.live_groups}
    gone = [ref for ref in result.ad_groups if ref not in live]
    sent = remove_groups(adapter, result, gone)
    if live - set(result.ad_groups):
        sent += add_groups(adapter, result, build_spec(pc, adapter), live=pc.status == "active")
    return sent


def _applied(pc: PlatformCampaign, revision: int, result: PublishResult, sent: list[str]) -> None:
    db.session.refresh(pc)
    pc.external_ids = result.to_dict()
    for group in pc.live_groups:
        group.external_id = result.ad_groups.get(ad_group_ref(group), group.external_id)
    for creative in pc.creatives:
        creative.external_id = result.creative_id
    pc.applied_revision = max(pc.applied_revision, revision)
    pc.updated_on_platform_at = utcnow()
    if pc.applied_revision >= pc.update_revision:  # nothing newer was asked meanwhile
        pc.update_status, pc.update_error, pc.update_fields = "applied", None, None
    audit.record(
        "platform_campaign.update_applied",
        entity_type="platform_campaign",
        entity_id=pc.id,
        after={"platform": pc.platform, "revision": revision, "operations": sent},
    )
    db.session.commit()
    logger.info("updated %s campaign %s in place (revision %s)", pc.platform, pc.campaign_id, revision)


def _failed(pc: PlatformCampaign, exc: Exception, *, final: bool) -> Outcome:
    db.session.rollback()
    pc = db.session.get(PlatformCampaign, pc.id)  # type: ignore[assignment]
    pc.update_error = str(exc)[:2000]
    pc.update_status = "failed" if final else "pending"
    if final:
        audit.record(
            "platform_campaign.update_failed",
            entity_type="platform_campaign",
            entity_id=pc.id,
            after={"platform": pc.platform, "revision": pc.update_revision, "error": pc.update_error},
        )
    db.session.commit()
    logger.warning("updating %s campaign %s: %s", pc.platform, pc.campaign_id, exc)
    return "failed" if final else "retry"


def resend_stalled_updates(*, idle_minutes: int = 10) -> int:
    """Re-enqueue updates left pending longer than `idle_minutes` (a lost message, a failed send,
    retries given up while another worker held the lock); applying is idempotent, so a duplicate
    message costs one lookup."""
    now = utcnow()
    stalled = db.session.scalars(
        select(PlatformCampaign)
        .where(
            PlatformCampaign.update_status == "pending",
            PlatformCampaign.status.in_(LIVE),  # the others' next publish carries the change
            PlatformCampaign.updated_at < now - timedelta(minutes=idle_minutes),
        )
        .order_by(PlatformCampaign.id)
    ).all()
    for pc in stalled:
        task_queue.send(TASK_APPLY_PLATFORM_CHANGE, pc.id, pc.update_revision, queue="publishing")
        pc.updated_at = now  # not again before another idle period
    db.session.commit()
    return len(stalled)
