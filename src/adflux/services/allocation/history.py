"""What the allocator learns from: each ad group's days as reported, and priors pooled from the portal.

An ad group's history is its days since the campaign started (at most HISTORY_DAYS), young days
thinned by the lag every campaign's reports show. Priors pool every other campaign's ad groups of
the last PRIOR_DAYS by platform, segment, job category and city (the engine falls back to coarser
pools where a fine one has too few ad groups).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from sqlalchemy import func, select

from adflux.constants import PLATFORM_LABELS
from adflux.extensions import db
from adflux.models import AdGroup, Campaign, JobOpening, MetricDaily, PlatformCampaign, Segment
from adflux.optimization.allocation_model import GroupHistory, PoolKey, Prior, pool_priors
from adflux.services.rules.panels import portfolio_lag_cdf

HISTORY_DAYS = 60
PRIOR_DAYS = 120


@dataclass(frozen=True)
class GroupInfo:
    """One ad group of the campaign, as the allocator and its explanations see it."""

    ad_group_id: int
    platform_campaign_id: int
    platform: str
    label: str  # "TikTok · Operativos 18–24"
    budget: int
    key: PoolKey


def campaign_groups(campaign: Campaign) -> list[GroupInfo]:
    """The campaign's ad groups on live platform campaigns, in a stable order."""
    rows = db.session.execute(
        select(AdGroup, PlatformCampaign, Segment.name)
        .join(PlatformCampaign, AdGroup.platform_campaign_id == PlatformCampaign.id)
        .outerjoin(Segment, Segment.id == AdGroup.segment_id)
        .where(PlatformCampaign.campaign_id == campaign.id, PlatformCampaign.status.in_(("active", "paused")))
        .order_by(AdGroup.id)
    ).all()
    job = campaign.job
    out = []
    for group, pc, segment_name in rows:
        platform = PLATFORM_LABELS.get(pc.platform, pc.platform)
        out.append(
            GroupInfo(
                ad_group_id=group.id,
                platform_campaign_id=pc.id,
                platform=pc.platform,
                label=f"{platform} · {segment_name or group.name}",
                budget=int(group.budget_daily or 0),
                key=PoolKey(pc.platform, str(group.segment_id or "amplio"), job.category, job.city),
            )
        )
    return out


def group_histories(campaign: Campaign, groups: list[GroupInfo], today: date) -> list[GroupHistory]:
    """Each ad group's days before ``today``, reported applications thinned by the lag."""
    first = max(campaign.start_date, today - timedelta(days=HISTORY_DAYS))
    days = max((today - first).days, 0)
    if days == 0:
        return [GroupHistory.empty() for _ in groups]
    cdf = portfolio_lag_cdf(today=today)
    index = {g.ad_group_id: i for i, g in enumerate(groups)}
    spend, apps = np.zeros((len(groups), days)), np.zeros((len(groups), days))
    rows = db.session.execute(
        select(
            MetricDaily.ad_group_id, MetricDaily.date, MetricDaily.spend_micros, MetricDaily.applications
        ).where(MetricDaily.campaign_id == campaign.id, MetricDaily.date >= first, MetricDaily.date < today)
    ).all()
    for ad_group_id, day, spend_micros, applications in rows:
        i = index.get(ad_group_id)
        if i is not None:
            spend[i, (day - first).days] = spend_micros / 1_000_000
            apps[i, (day - first).days] = applications
    ages = np.arange(days, 0, -1)
    share = cdf[np.minimum(ages, len(cdf) - 1)]
    return [GroupHistory(spend[i], apps[i], share) for i in range(len(groups))]


def portal_priors(campaign: Campaign, today: date) -> dict[PoolKey, Prior]:
    """Priors pooled from every other campaign's ad groups of the last PRIOR_DAYS."""
    first = today - timedelta(days=PRIOR_DAYS)
    rows = db.session.execute(
        select(
            PlatformCampaign.platform,
            AdGroup.segment_id,
            JobOpening.category,
            JobOpening.city,
            func.sum(MetricDaily.spend_micros),
            func.sum(MetricDaily.applications),
            func.count(),
        )
        .join(AdGroup, AdGroup.id == MetricDaily.ad_group_id)
        .join(PlatformCampaign, PlatformCampaign.id == MetricDaily.platform_campaign_id)
        .join(Campaign, Campaign.id == MetricDaily.campaign_id)
        .join(JobOpening, JobOpening.id == Campaign.job_id)
        .where(MetricDaily.campaign_id != campaign.id, MetricDaily.date >= first, MetricDaily.date < today)
        .group_by(
            MetricDaily.ad_group_id,
            PlatformCampaign.platform,
            AdGroup.segment_id,
            JobOpening.category,
            JobOpening.city,
        )
    ).all()
    histories: dict[PoolKey, list[GroupHistory]] = {}
    for platform, segment_id, category, city, spend_micros, applications, days in rows:
        if not days or not spend_micros:
            continue
        daily = float(spend_micros) / 1_000_000 / days
        history = GroupHistory(np.full(days, daily), np.full(days, float(applications) / days), np.ones(days))
        key = PoolKey(platform, str(segment_id or "amplio"), category, city)
        histories.setdefault(key, []).append(history)
    return pool_priors(histories)
