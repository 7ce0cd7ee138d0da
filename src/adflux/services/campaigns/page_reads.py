"""What the campaign page reads about its campaign, in two round trips: the campaign with its job,
segments, allocation switch, last publishing run, newest day with metrics and whether it has an
allocation log, then its platform campaigns with their ad groups and creatives (one, two, six,
three and one trips of their own before: the log's moves are read only when there is a log).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from adflux.catalogue import gettext as _
from adflux.extensions import db
from adflux.models import AllocationEntry, Campaign, CampaignAllocation, PlatformCampaign, TaskRun
from adflux.services import dashboard
from adflux.services.errors import NotFound


@dataclass(frozen=True)
class CampaignPageReads:
    campaign: Campaign  # with its job, segments, platform campaigns, ad groups and creatives loaded
    allocation_on: bool  # `allocation.settings.is_enabled`
    task: TaskRun | None  # `dashboard.latest_task_run` about the campaign
    last_metric_day: date | None  # `dashboard.latest_metric_day` of the campaign
    has_allocation_log: bool  # any allocation entry (else no moves to read)


def campaign_page_reads(*, campaign_id: int) -> CampaignPageReads:
    """The campaign and what its page shows about it, or NotFound.

    The last run, the newest day and the log are subqueries of the campaign's one row (index
    lookups: the run by its subject, the day among the campaign's rollup rows, the log's first
    entry by campaign and day); the platform campaigns' ad groups and creatives are joined to
    them (a creative or two each).
    """
    task_id = (
        select(TaskRun.id)
        .where(TaskRun.subject_type == "campaign", TaskRun.subject_id == str(campaign_id))
        .order_by(TaskRun.created_at.desc(), TaskRun.id)
        .limit(1)
        .scalar_subquery()
    )
    last_day = dashboard.campaign_last_day(campaign_id).scalar_subquery()
    logged = select(AllocationEntry.id).where(AllocationEntry.campaign_id == campaign_id).exists()
    stmt = (
        select(Campaign, CampaignAllocation.enabled, TaskRun, last_day, logged)
        .outerjoin(CampaignAllocation, CampaignAllocation.campaign_id == Campaign.id)
        .outerjoin(TaskRun, TaskRun.id == task_id)
        .where(Campaign.id == campaign_id)
        .options(
            joinedload(Campaign.job),
            joinedload(Campaign.segments),
            selectinload(Campaign.platform_campaigns).options(
                joinedload(PlatformCampaign.ad_groups), joinedload(PlatformCampaign.creatives)
            ),
        )
    )
    row = db.session.execute(stmt).unique().first()
    if row is None:
        raise NotFound(_("Campaign %(campaign_id)s does not exist", campaign_id=campaign_id))
    campaign, enabled, task, last, has_log = row
    return CampaignPageReads(
        campaign=campaign,
        allocation_on=bool(enabled),
        task=task,
        last_metric_day=last,
        has_allocation_log=bool(has_log),
    )
