"""Segments added to or removed from a campaign after it is live.

The desired state is written first, as for every change (``changes``): an added segment gets an
ad group on each platform campaign (or its removed one back), a removed segment's ad groups are
marked "removed" (kept, with their history and metrics); each platform campaign's daily budget is
shared again over its remaining ad groups by segment size. Platform campaigns already at their
platform are queued with the field "segments" (and "budget_daily"): the worker creates the new
ad groups and pauses the removed ones there (``platforms.group_changes``), and the state per
platform is pending, applied or failed as for any change. A draft or still-pending platform
campaign simply publishes the new set.
"""

from __future__ import annotations

from collections.abc import Sequence

from adflux.catalogue import gettext as _
from adflux.models import AdGroup, Campaign, PlatformCampaign, Segment
from adflux.services.budgets import split_budget
from adflux.services.campaigns.changes import (
    ChangeResult,
    Session,
    _campaign,
    _commit_and_queue,
    _locked,
)
from adflux.services.campaigns.creation import _check_segments, _compliance
from adflux.services.errors import ValidationFailed


def change_segments(
    session: Session,
    campaign_id: int,
    *,
    actor: str,
    add: Sequence[int] = (),
    remove: Sequence[int] = (),
) -> ChangeResult:
    """Add and/or remove segments of a campaign; queue the live platforms' ad-group changes."""
    campaign = _campaign(session, campaign_id)
    pcs = _locked(session, campaign)
    current = {segment.id for segment in campaign.segments}
    added, removed = _validated(session, campaign, current, add, remove)
    if not added and not removed:
        session.rollback()
        return ChangeResult(campaign_id=campaign.id)
    before = {"segments": sorted(current)}
    campaign.segments = [s for s in campaign.segments if s.id not in removed] + added
    touched: dict[int, set[str]] = {}
    for pc in pcs:
        _regroup(pc, campaign, added, removed)
        pc.targeting, pc.compliance_report = _compliance(pc, campaign)
        touched[pc.id] = {"segments", "budget_daily", "targeting"}
    after = sorted(s.id for s in campaign.segments)
    changed = {"segments": after, "added": sorted(s.id for s in added), "removed": sorted(removed)}
    result = ChangeResult(campaign_id=campaign.id, changed=changed)
    return _commit_and_queue(session, campaign, pcs, touched, result, actor=actor, before=before,
                             action="campaign.segments", reason=None)  # fmt: skip


def _validated(
    session: Session, campaign: Campaign, current: set[int], add: Sequence[int], remove: Sequence[int]
) -> tuple[list[Segment], set[int]]:
    errors: dict[str, list[str]] = {}
    both = sorted(set(add) & set(remove))
    if both:
        errors["segments"] = [f"both added and removed: {', '.join(map(str, both))}"]
    already = sorted(set(add) & current)
    if already:
        errors["add_segments"] = [f"already in the campaign: {', '.join(map(str, already))}"]
    absent = sorted(set(remove) - current)
    if absent:
        errors["remove_segments"] = [f"not in the campaign: {', '.join(map(str, absent))}"]
    elif current and set(remove) >= current and not [s for s in add if s not in current]:
        errors["remove_segments"] = [
            "a campaign keeps at least one segment (add one before removing the last)"
        ]
    if errors:
        session.rollback()
        raise ValidationFailed(_("The segment change is invalid"), errors=errors)
    fresh = [s for s in dict.fromkeys(add) if s not in current]
    try:
        added = _check_segments(fresh)
    except ValidationFailed:
        session.rollback()
        raise
    return added, set(remove)


def _regroup(pc: PlatformCampaign, campaign: Campaign, added: list[Segment], removed: set[int]) -> None:
    """Ad groups for the new segment set, and the same daily budget shared over them by size."""
    daily = sum(group.budget_daily or 0 for group in pc.live_groups)
    for group in pc.ad_groups:
        if group.segment_id in removed:
            group.status = "removed"
        if group.segment_id is None and added:
            group.status = "removed"  # broad targeting gives way to the segments chosen
    for segment in added:
        existing = next((g for g in pc.ad_groups if g.segment_id == segment.id), None)
        if existing is not None:
            existing.status = "active"
        else:
            pc.ad_groups.append(AdGroup(segment_id=segment.id, name=segment.name[:200], budget_daily=0))
    sizes = {segment.id: max(segment.size, 1) for segment in campaign.segments}
    groups = pc.live_groups
    if not groups:  # the last segment removed with nothing added is refused; broad comes back here
        broad = next((g for g in pc.ad_groups if g.segment_id is None), None)
        if broad is None:
            broad = AdGroup(segment_id=None, name="Audiencia amplia", budget_daily=0)
            pc.ad_groups.append(broad)
        broad.status = "active"
        groups = [broad]
    shares = split_budget(max(daily, len(groups)), [sizes.get(g.segment_id or 0, 1) for g in groups])
    for group, share in zip(groups, shares, strict=True):
        group.budget_daily = share
