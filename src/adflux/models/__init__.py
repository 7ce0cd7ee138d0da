"""All models, importable from one place (and registered on `db.metadata` for Alembic)."""

from adflux.models.auth import ApiToken, User
from adflux.models.campaigns import AdCreative, AdGroup, Campaign, PlatformCampaign, campaign_segments
from adflux.models.candidates import Candidate, CandidatePersona
from adflux.models.feeds import FeedRun, JobFeed, Playbook
from adflux.models.jobs import JobOpening
from adflux.models.metrics import CampaignMetricDaily, DailyMetricTotal, MetricDaily
from adflux.models.ops import Alert, AuditEvent, Feedback, RequestStat, TaskRun
from adflux.models.platforms import PlatformAccount, PlatformObject
from adflux.models.segmentation import CandidateSegment, Segment, SegmentationModel
from adflux.models.versions import DataVersion, install_triggers_on_create

install_triggers_on_create()

__all__ = [
    "AdCreative",
    "AdGroup",
    "Alert",
    "ApiToken",
    "AuditEvent",
    "Campaign",
    "CampaignMetricDaily",
    "Candidate",
    "CandidatePersona",
    "CandidateSegment",
    "DailyMetricTotal",
    "DataVersion",
    "FeedRun",
    "Feedback",
    "JobFeed",
    "JobOpening",
    "MetricDaily",
    "PlatformAccount",
    "PlatformCampaign",
    "PlatformObject",
    "Playbook",
    "RequestStat",
    "Segment",
    "SegmentationModel",
    "TaskRun",
    "User",
    "campaign_segments",
]
