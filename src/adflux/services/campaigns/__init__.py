"""Campaigns: create from a job for platforms and segments, preview, publish and manage.

`listing` reads them, `creation` makes drafts, `preview` shows what will be published and
`lifecycle` publishes it and `delivery` pauses, resumes, completes or archives it; callers
use the names re-exported here.
"""

from adflux.services.campaigns.creation import create_campaign
from adflux.services.campaigns.delivery import (
    archive_campaign,
    complete_campaign,
    pause_campaign,
    resume_campaign,
    retry_action,
)
from adflux.services.campaigns.lifecycle import (
    publish_campaign,
    resend_stalled_publishes,
    retry_failed,
    settle_campaign,
    settle_campaign_of,
)
from adflux.services.campaigns.listing import CampaignSummary, get_campaign, list_campaigns
from adflux.services.campaigns.page_reads import CampaignPageReads, campaign_page_reads
from adflux.services.campaigns.preview import platform_budget_units, preview_campaign, preview_of

__all__ = [
    "CampaignPageReads",
    "CampaignSummary",
    "archive_campaign",
    "campaign_page_reads",
    "complete_campaign",
    "create_campaign",
    "get_campaign",
    "list_campaigns",
    "pause_campaign",
    "platform_budget_units",
    "preview_campaign",
    "preview_of",
    "publish_campaign",
    "resend_stalled_publishes",
    "resume_campaign",
    "retry_action",
    "retry_failed",
    "settle_campaign",
    "settle_campaign_of",
]
