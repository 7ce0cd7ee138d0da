"""Campaigns that repeat another: finding a live twin before creating one, and copying a campaign
into a new draft on purpose."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from adflux.extensions import db
from adflux.models import Campaign
from adflux.services.campaigns.creation import create_campaign
from adflux.services.campaigns.listing import get_campaign
from adflux.services.local_dates import today

# A campaign in one of these states still spends, or is about to: a copy of it would compete.
LIVE_STATUSES = ("draft", "publishing", "active", "partially_active", "paused", "partially_paused")


def identical_live_campaign(
    *, job_id: int, platforms: Sequence[str], segment_ids: Sequence[int], budget_total: int
) -> Campaign | None:
    """A live campaign for the same job, platforms, segments and total budget, if there is one."""
    candidates = db.session.scalars(
        select(Campaign)
        .where(
            Campaign.job_id == job_id,
            Campaign.budget_total == budget_total,
            Campaign.status.in_(LIVE_STATUSES),
        )
        .options(selectinload(Campaign.platform_campaigns), selectinload(Campaign.segments))
        .order_by(Campaign.id.desc())
    )
    wanted_platforms, wanted_segments = set(platforms), set(segment_ids)
    for campaign in candidates:
        if {pc.platform for pc in campaign.platform_campaigns} == wanted_platforms and {
            s.id for s in campaign.segments
        } == wanted_segments:
            return campaign
    return None


def duplicate_campaign(*, campaign_id: int) -> Campaign:
    """A new draft with the campaign's job, platforms, weights, segments, budgets and target CPA.

    It starts today (or on the original's start date if that is still ahead) and keeps the
    original's length when it had an end date.
    """
    original = get_campaign(campaign_id=campaign_id)
    start = max(original.start_date, today())
    end = None
    if original.end_date is not None:
        end = start + (original.end_date - original.start_date)
    return create_campaign(
        job_id=original.job_id,
        platforms=[pc.platform for pc in original.platform_campaigns],
        weights={pc.platform: pc.budget_weight for pc in original.platform_campaigns},
        segment_ids=[s.id for s in original.segments],
        budget_total=original.budget_total,
        budget_daily=original.budget_daily,
        start_date=start,
        end_date=end,
        target_cpa=original.target_cpa,
        objective=original.objective,
        name=f"{original.name} (copia)"[:200],
    )
