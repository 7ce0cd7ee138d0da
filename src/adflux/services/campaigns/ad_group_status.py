"""Pausing and resuming single ad groups of a live campaign, through the in-place update path.

The desired state is written first (``AdGroup.status``), then the platform campaign gets a new
update revision with the field ``ad_group_status`` and one background task sends it through the
platform's own status calls (``change_apply`` → ``platforms.ad_group_states``): retried with
backoff, idempotent (absolute states), audited. Asking for the state an ad group already has
changes nothing and queues nothing.
"""

from __future__ import annotations

from sqlalchemy import select

from adflux.catalogue import gettext as _
from adflux.models import AdGroup, PlatformCampaign
from adflux.services.campaigns.changes import ChangeResult, Session, _check_open, _commit_and_queue
from adflux.services.errors import NotFound, ValidationFailed
from adflux.services.publishing import ad_group_ref

STATES = ("active", "paused")
FIELD = "ad_group_status"


def set_ad_group_status(
    session: Session,
    *,
    status: str,
    reason: str,
    actor: str,
    ad_group_ids: list[int] | None = None,
    platform_campaign_id: int | None = None,
) -> ChangeResult:
    """Pause or resume the named ad groups (or every ad group of one platform campaign)."""
    if status not in STATES:
        raise ValidationFailed(
            _("An ad group is active or paused, not %(status)r", status=status),
            errors={"status": list(STATES)},
        )
    if (ad_group_ids is None) == (platform_campaign_id is None):
        raise ValidationFailed(_("Name the ad groups or one platform campaign, one of them"))
    query = select(AdGroup).join(PlatformCampaign, AdGroup.platform_campaign_id == PlatformCampaign.id)
    if ad_group_ids is not None:
        query = query.where(AdGroup.id.in_(ad_group_ids))
    else:
        query = query.where(AdGroup.platform_campaign_id == platform_campaign_id)
    groups = list(session.scalars(query.order_by(AdGroup.id).with_for_update(of=AdGroup)))
    if ad_group_ids is not None and any(g.status == "removed" for g in groups):
        session.rollback()
        raise ValidationFailed(_("The ad group's segment was removed from the campaign; it stays paused"))
    groups = [g for g in groups if g.status != "removed"]
    missing = sorted(set(ad_group_ids or []) - {g.id for g in groups})
    if missing or not groups:
        session.rollback()
        what = (
            f"Ad group {missing[0]}" if missing else f"Platform campaign {platform_campaign_id}'s ad groups"
        )
        raise NotFound(_("%(what)s does not exist", what=what))
    campaigns = {g.platform_campaign.campaign_id for g in groups}
    if len(campaigns) > 1:
        session.rollback()
        raise ValidationFailed(_("The ad groups belong to more than one campaign"))
    campaign = groups[0].platform_campaign.campaign
    _check_open(session, campaign)
    before = {"ad_groups": {g.id: g.status for g in groups}}
    changed = [g for g in groups if g.status != status]
    result = ChangeResult(campaign_id=campaign.id)
    if not changed:
        session.rollback()
        return result
    for group in changed:
        group.status = status
    pcs = list(dict.fromkeys(g.platform_campaign for g in changed))
    result.changed = {"ad_groups": {str(g.id): status for g in changed}}
    touched = {pc.id: {FIELD} for pc in pcs}
    action = "ad_group.pause" if status == "paused" else "ad_group.resume"
    return _commit_and_queue(session, campaign, pcs, touched, result, actor=actor, before=before,
                             action=action, reason=reason)  # fmt: skip


def paused_refs(pc: PlatformCampaign) -> set[str]:
    """Our refs of the platform campaign's ad groups a campaign-level activation must not switch on:
    those paused on their own and those whose segment was removed."""
    return {ad_group_ref(g) for g in pc.ad_groups if g.status in ("paused", "removed")}


def desired_states(pc: PlatformCampaign) -> dict[str, str]:
    """Every ad group's desired state by our ref (what an ``ad_group_status`` update sends; a
    removed group is kept paused by the segment changes' own path)."""
    return {ad_group_ref(g): g.status for g in pc.ad_groups if g.status in STATES}
