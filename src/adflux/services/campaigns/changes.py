"""Changing a campaign after it is live: budgets, end date, CPA target, platform weights and copy.

Every change is written first as the desired state in the database (the campaign, its platform
campaigns' budget shares, their ad groups' daily budgets and creatives), then each platform
campaign already at its platform gets ``update_revision`` bumped, ``update_status="pending"``
and one background task (``change_apply.apply_platform_change``) that sends the desired state
through the platform's own update API. The same change asked twice changes nothing the second
time (no new revision, no task); a retried task sends absolute values, so a lost response never
applies twice. Each platform campaign's ``update_status`` says only what its platform confirmed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import scoped_session

from adflux.constants import TASK_APPLY_PLATFORM_CHANGE
from adflux.models import AdGroup, Campaign, MetricDaily, PlatformCampaign
from adflux.services import audit, task_queue
from adflux.services.budgets import split_budget
from adflux.services.campaigns.creation import MIN_PLATFORM_BUDGET, _compliance
from adflux.services.creatives import generate_creative
from adflux.services.errors import InvalidTransition, NotFound, ValidationFailed
from adflux.services.local_dates import today

logger = logging.getLogger(__name__)

# A plain Session, or Flask-SQLAlchemy's scoped `db.session`.
Session = OrmSession | scoped_session[Any]

# Platform campaigns whose objects exist at the platform (the rest publish the desired state).
LIVE = ("active", "paused")
# Being published right now: the publish may have read the desired state before this change, so
# the change is queued too; it waits for the publish lock and is sent only if the publish did not
# already carry its revision (``change_apply`` / ``publishing.publish_platform_campaign``).
FOLLOWS_PUBLISH = ("publishing",)
CLOSED = ("completed", "archived", "partially_archived", "partially_completed")
CHANGE_QUEUE = "publishing"


@dataclass
class ChangeResult:
    """What a change did: the fields that changed and the platform campaigns queued for update."""

    campaign_id: int
    changed: dict[str, Any] = field(default_factory=dict)
    queued: dict[str, int] = field(default_factory=dict)  # platform -> revision queued

    @property
    def unchanged(self) -> bool:
        return not self.changed


def change_campaign(
    session: Session,
    campaign_id: int,
    *,
    actor: str,
    budget_total: int | None = None,
    budget_daily: int | None = None,
    end_date: date | None = None,
    target_cpa: int | None = None,
    platform_weights: dict[str, float] | None = None,
) -> ChangeResult:
    """Validate and record a campaign's new budget/end date/CPA/weights; queue the platform updates."""
    campaign = _campaign(session, campaign_id)
    pcs = _locked(session, campaign)
    total = campaign.budget_total if budget_total is None else budget_total
    daily = campaign.budget_daily if budget_daily is None else budget_daily
    _validate(session, campaign, pcs, total, daily, end_date, target_cpa, platform_weights)
    before = {"budget_total": campaign.budget_total, "budget_daily": campaign.budget_daily,
              "end_date": campaign.end_date, "target_cpa": campaign.target_cpa,
              "weights": {pc.platform: pc.budget_weight for pc in pcs}}  # fmt: skip
    weights = [float((platform_weights or {}).get(pc.platform, pc.budget_weight)) for pc in pcs]
    totals = split_budget(total, weights)
    dailies = split_budget(daily, weights) if daily else [None] * len(pcs)
    touched: dict[int, set[str]] = {}
    for pc, weight, pc_total, pc_daily in zip(pcs, weights, totals, dailies, strict=True):
        fields: set[str] = set()
        pc.budget_weight = weight
        if pc.budget_total != pc_total:
            pc.budget_total = pc_total
            fields.add("budget_total")
        if pc_daily is not None and _set_group_dailies(pc, pc_daily):
            fields.add("budget_daily")
        pc.budget_daily = pc_daily
        if end_date is not None and end_date != campaign.end_date:
            fields.add("end_date")
        touched[pc.id] = fields
    campaign.budget_total, campaign.budget_daily = total, daily
    if end_date is not None:
        campaign.end_date = end_date
    if target_cpa is not None:
        campaign.target_cpa = target_cpa
    after = {"budget_total": total, "budget_daily": daily, "end_date": campaign.end_date,
             "target_cpa": campaign.target_cpa,
             "weights": {pc.platform: pc.budget_weight for pc in pcs}}  # fmt: skip
    changed = {key: after[key] for key in after if after[key] != before[key]}
    result = ChangeResult(campaign_id=campaign.id, changed=_plain(changed))
    if not changed:
        session.rollback()
        return result
    return _commit_and_queue(session, campaign, pcs, touched, result, actor=actor, before=before,
                             action="campaign.change", reason=None)  # fmt: skip


def set_daily_budget(
    session: Session,
    *,
    platform_campaign_id: int,
    ad_group_id: int | None,
    daily_budget: int,
    reason: str,
    actor: str,
) -> ChangeResult:
    """Set one ad group's (or a whole platform campaign's) daily budget, e.g. from a pacing rule."""
    pc = session.get(PlatformCampaign, platform_campaign_id, with_for_update=True, populate_existing=True)
    if pc is None:
        session.rollback()
        raise NotFound(f"Platform campaign {platform_campaign_id} does not exist")
    campaign = pc.campaign
    _check_open(session, campaign)
    if not 0 < daily_budget <= pc.budget_total:
        session.rollback()
        raise ValidationFailed(
            "The daily budget must be positive and not above the platform's total budget",
            errors={"daily_budget": [f"between 1 and {pc.budget_total}"]},
        )
    before = {"ad_groups": {g.id: g.budget_daily for g in pc.live_groups}}
    if ad_group_id is None:
        changed = _set_group_dailies(pc, daily_budget)
        pc.budget_daily = daily_budget
    else:
        group = next((g for g in pc.live_groups if g.id == ad_group_id), None)
        if group is None:
            session.rollback()
            raise NotFound(f"Ad group {ad_group_id} is not part of platform campaign {platform_campaign_id}")
        changed = group.budget_daily != daily_budget
        group.budget_daily = daily_budget
        pc.budget_daily = sum(g.budget_daily or 0 for g in pc.live_groups)
    result = ChangeResult(campaign_id=campaign.id)
    if not changed:
        session.rollback()
        return result
    result.changed = {"ad_groups": {str(g.id): g.budget_daily for g in pc.live_groups}}
    return _commit_and_queue(session, campaign, [pc], {pc.id: {"budget_daily"}}, result, actor=actor,
                             before=before, action="platform_campaign.daily_budget",
                             reason=reason)  # fmt: skip


def refresh_creatives(session: Session, campaign_id: int, *, actor: str) -> ChangeResult:
    """Regenerate copy and targeting from the job as it is now; push both in place.

    Targeting is compliance-checked here (what is stored and shown) and again by the worker that
    sends it, from the same wishes, so what reaches the platform is what the report says.
    """
    campaign = _campaign(session, campaign_id)
    touched: dict[int, set[str]] = {}
    before: dict[str, Any] = {}
    for pc in _locked(session, campaign):
        fields: set[str] = set()
        creative = pc.creatives[0] if pc.creatives else None
        fresh = generate_creative(campaign.job, platform=pc.platform, campaign_id=campaign.id)
        if creative is not None:
            old = {k: getattr(creative, k) for k in ("headline", "primary_text", "description", "link_url")}
            new = {k: getattr(fresh, k) for k in old}
            if old != new or (creative.extra or {}) != fresh.extra:
                before[pc.platform] = old
                for key, value in new.items():
                    setattr(creative, key, value)
                creative.extra = dict(fresh.extra)
                fields.add("creative")
        targeting, report = _compliance(pc, campaign)
        if targeting != pc.targeting:
            before.setdefault(f"{pc.platform}_targeting", pc.targeting)
            pc.targeting, pc.compliance_report = targeting, report
            fields.add("targeting")
        touched[pc.id] = fields
    changed: dict[str, Any] = {
        pc.platform: sorted(touched[pc.id]) for pc in campaign.platform_campaigns if touched[pc.id]
    }
    result = ChangeResult(campaign_id=campaign.id, changed=changed)
    if result.unchanged:
        session.rollback()
        return result
    return _commit_and_queue(session, campaign, list(campaign.platform_campaigns), touched, result,
                             actor=actor, before=before, action="campaign.refresh_creatives",
                             reason=None)  # fmt: skip


def update_summary(campaign: Campaign) -> dict[str, list[str]]:
    """Platforms by update state ("pending", "applied", "failed"); empty if never changed."""
    summary: dict[str, list[str]] = {}
    for pc in campaign.platform_campaigns:
        if pc.update_status:
            summary.setdefault(pc.update_status, []).append(pc.platform)
    return summary


# -- helpers -----------------------------------------------------------------------------------


def _campaign(session: Session, campaign_id: int) -> Campaign:
    campaign = session.get(Campaign, campaign_id, with_for_update=True)
    if campaign is None:
        session.rollback()
        raise NotFound(f"Campaign {campaign_id} does not exist")
    _check_open(session, campaign)
    return campaign


def _locked(session: Session, campaign: Campaign) -> list[PlatformCampaign]:
    """The campaign's platform campaigns, row-locked and read fresh.

    A publish marks its row "publishing" (an UPDATE, so the same row lock) before it reads the
    desired state: a change either sees "publishing" (and queues itself behind the publish) or
    commits before the publish reads anything (and the publish carries it). Never neither.
    """
    return list(
        session.scalars(
            select(PlatformCampaign)
            .where(PlatformCampaign.campaign_id == campaign.id)
            .order_by(PlatformCampaign.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )


def _check_open(session: Session, campaign: Campaign) -> None:
    if campaign.status in CLOSED:
        session.rollback()
        raise InvalidTransition(f"Campaign {campaign.id} is {campaign.status}; it can no longer change")


def spent_pesos(session: Session, campaign_id: int) -> int:
    """What the platforms have reported spending on the campaign so far, whole pesos (rounded up)."""
    micros = session.scalar(
        select(func.coalesce(func.sum(MetricDaily.spend_micros), 0)).where(
            MetricDaily.campaign_id == campaign_id
        )
    )
    return -(-int(micros or 0) // 1_000_000)


def _validate(
    session: Session,
    campaign: Campaign,
    pcs: list[PlatformCampaign],
    total: int,
    daily: int | None,
    end_date: date | None,
    target_cpa: int | None,
    weights: dict[str, float] | None,
) -> None:
    errors: dict[str, list[str]] = {}
    spent = spent_pesos(session, campaign.id)
    if total < spent:
        errors["budget_total"] = [f"cannot be below what was already spent ({spent} COP)"]
    elif total < MIN_PLATFORM_BUDGET * len(pcs):
        errors["budget_total"] = [f"at least {MIN_PLATFORM_BUDGET * len(pcs)} COP for {len(pcs)} platforms"]
    if daily is not None and not 0 < daily <= total:
        errors["budget_daily"] = ["must be positive and not above the total budget"]
    if end_date is not None and (end_date < today() or end_date < campaign.start_date):
        errors["end_date"] = ["must not be in the past nor before the start date"]
    if target_cpa is not None and target_cpa <= 0:
        errors["target_cpa"] = ["must be positive"]
    if weights is not None:
        platforms = {pc.platform for pc in pcs}
        extra = sorted(set(weights) - platforms)
        merged = [weights.get(pc.platform, pc.budget_weight) for pc in pcs]
        if extra or any(w <= 0 for w in merged):
            errors["platform_weights"] = [
                f"not in this campaign: {', '.join(extra)}" if extra else "every weight must be positive"
            ]
    if errors:
        session.rollback()
        raise ValidationFailed("The campaign change is invalid", errors=errors)


def _set_group_dailies(pc: PlatformCampaign, daily: int) -> bool:
    """Share ``daily`` over the ad groups in their current proportions; True if any changed."""
    groups: list[AdGroup] = list(pc.live_groups)
    if not groups:
        return False
    shares = split_budget(daily, [max(g.budget_daily or 0, 1) for g in groups])
    changed = any(g.budget_daily != share for g, share in zip(groups, shares, strict=True))
    for group, share in zip(groups, shares, strict=True):
        group.budget_daily = share
    return changed


def _commit_and_queue(
    session: Session,
    campaign: Campaign,
    pcs: list[PlatformCampaign],
    touched: dict[int, set[str]],
    result: ChangeResult,
    *,
    actor: str,
    before: dict[str, Any],
    action: str,
    reason: str | None,
) -> ChangeResult:
    to_send: list[tuple[int, int]] = []
    for pc in pcs:
        fields = touched.get(pc.id) or set()
        if not fields or pc.status not in LIVE + FOLLOWS_PUBLISH:
            continue  # not at the platform yet: the coming publish reads the desired state as it is
        pc.update_revision += 1
        pc.update_status, pc.update_error = "pending", None
        pc.update_fields = sorted(set(pc.update_fields or []) | fields)
        result.queued[pc.platform] = pc.update_revision
        to_send.append((pc.id, pc.update_revision))
    event = audit.record(
        action,
        entity_type="campaign",
        entity_id=campaign.id,
        before=_plain(before),
        after={**result.changed, "queued": result.queued, **({"reason": reason} if reason else {})},
    )
    if event.actor == "system":
        event.actor = actor
    session.commit()
    for pc_id, revision in to_send:
        try:
            task_queue.send(TASK_APPLY_PLATFORM_CHANGE, pc_id, revision, queue=CHANGE_QUEUE)
        except task_queue.QueueUnavailable:
            # The row stays "pending": the truth is that nothing reached the platform yet.
            logger.warning("could not queue the update of platform campaign %s", pc_id)
    return result


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, date):
        return value.isoformat()
    return value
