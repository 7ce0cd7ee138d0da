"""Sending a platform campaign's desired state to its platform (the worker side of `changes`).

One worker at a time per platform campaign (the publish lock: an update never overlaps a
publish). The change sent is built from the database as it is now, in absolute values, so a
redelivered task or a retry after a lost response sets the same values again; a task for a
revision already applied does nothing.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Literal

from sqlalchemy import select

from adflux.constants import TASK_APPLY_PLATFORM_CHANGE
from adflux.extensions import db
from adflux.models import PlatformCampaign
from adflux.models.base import utcnow
from adflux.platforms.ad_group_states import set_ad_group_states
from adflux.platforms.errors import AuthError, PlatformError, RetryableError
from adflux.platforms.types import CreativeSpec, PublishResult
from adflux.platforms.updates import CampaignChange, apply_change
from adflux.services import audit, task_queue
from adflux.services.campaigns.ad_group_status import FIELD, desired_states
from adflux.services.locks import try_lock
from adflux.services.platform_access import adapter_for
from adflux.services.publishing import ad_group_ref
from adflux.services.targeting import job_context

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
        ad_group_budgets={ad_group_ref(g): g.budget_daily or 0 for g in pc.ad_groups}
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
        job=job_context(pc.campaign.job) if creative is not None else None,
    )


def apply_platform_change(*, platform_campaign_id: int, final_attempt: bool = False) -> Outcome:
    """Send the pending change of one platform campaign through its platform's update API."""
    with try_lock("publish", platform_campaign_id) as acquired:
        if not acquired:
            return "busy"
        pc = db.session.get(PlatformCampaign, platform_campaign_id)
        if pc is None:
            return "skipped"
        db.session.refresh(pc)
        if pc.applied_revision >= pc.update_revision or pc.update_status == "applied":
            return "skipped"  # redelivered, or a later task already sent this revision
        revision, change = pc.update_revision, desired_change(pc)
        states = desired_states(pc) if FIELD in (pc.update_fields or []) else {}
        pc.update_attempts += 1
        db.session.commit()
        adapter, _ = adapter_for(pc.platform)
        result = PublishResult.from_dict(pc.external_ids or {})
        try:
            with adapter:
                sent = apply_change(adapter, result, change)
                if states:
                    sent += set_ad_group_states(adapter, result, states)
        except RetryableError as exc:
            return _failed(pc, exc, final=final_attempt)
        except (AuthError, PlatformError) as exc:
            return _failed(pc, exc, final=True)
        _applied(pc, revision, result, sent)
        return "done"


def _applied(pc: PlatformCampaign, revision: int, result: PublishResult, sent: list[str]) -> None:
    db.session.refresh(pc)
    pc.external_ids = result.to_dict()
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
            PlatformCampaign.updated_at < now - timedelta(minutes=idle_minutes),
        )
        .order_by(PlatformCampaign.id)
    ).all()
    for pc in stalled:
        task_queue.send(TASK_APPLY_PLATFORM_CHANGE, pc.id, pc.update_revision, queue="publishing")
        pc.updated_at = now  # not again before another idle period
    db.session.commit()
    return len(stalled)
