"""All models, importable from one place (and registered on `db.metadata` for Alembic)."""

from adflux.models.allocation import AllocationEntry, CampaignAllocation, ForecastModel
from adflux.models.auth import ApiToken, User
from adflux.models.campaigns import AdCreative, AdGroup, Campaign, PlatformCampaign, campaign_segments
from adflux.models.candidates import Candidate, CandidatePersona
from adflux.models.feeds import FeedRun, JobFeed, Playbook
from adflux.models.jobs import JobOpening
from adflux.models.metrics import (
    CampaignMetricDaily,
    CampaignMetricTotal,
    CampaignRanking,
    CampaignSegmentMetricDaily,
    DailyMetricTotal,
    MetricDaily,
    SegmentMetricDaily,
)
from adflux.models.ops import Alert, AuditEvent, Feedback, RequestStat, TaskRun
from adflux.models.optimization import CampaignPacing, OptimizationDecision, Rule
from adflux.models.owner_notifications import OwnerNotification
from adflux.models.platforms import MediaUpload, PlatformAccount, PlatformObject
from adflux.models.segmentation import CandidateSegment, Segment, SegmentationModel
from adflux.models.text_folding import folded
from adflux.models.tracking import ApplicationEvent, Click, ConversionUpload, TrackingLink
from adflux.models.versions import DataVersion, install_triggers_on_create

install_triggers_on_create()

__all__ = [
    "AdCreative",
    "AdGroup",
    "Alert",
    "AllocationEntry",
    "ApiToken",
    "ApplicationEvent",
    "AuditEvent",
    "Campaign",
    "CampaignAllocation",
    "CampaignMetricDaily",
    "CampaignMetricTotal",
    "CampaignPacing",
    "CampaignRanking",
    "CampaignSegmentMetricDaily",
    "Candidate",
    "CandidatePersona",
    "CandidateSegment",
    "Click",
    "ConversionUpload",
    "DailyMetricTotal",
    "DataVersion",
    "FeedRun",
    "Feedback",
    "ForecastModel",
    "JobFeed",
    "JobOpening",
    "MediaUpload",
    "MetricDaily",
    "OptimizationDecision",
    "OwnerNotification",
    "PlatformAccount",
    "PlatformCampaign",
    "PlatformObject",
    "Playbook",
    "RequestStat",
    "Rule",
    "Segment",
    "SegmentMetricDaily",
    "SegmentationModel",
    "TaskRun",
    "TrackingLink",
    "User",
    "campaign_segments",
    "folded",
]
