"""The ad-platform layer: one transport, one adapter per platform, employment-ad compliance.

Nothing here knows about Flask or the database; services map their models onto the plain
dataclasses in :mod:`adflux.platforms.types` and store what comes back.
"""

from __future__ import annotations

from adflux.platforms.adapters import adapter_classes, get_adapter
from adflux.platforms.base import PlatformAdapter
from adflux.platforms.errors import (
    AmbiguousOutcomeError,
    AuthError,
    FatalError,
    PlatformError,
    PlatformValidationError,
    RetryableError,
    ThrottledError,
)
from adflux.platforms.types import (
    AccountConfig,
    AdGroupSpec,
    AudienceResult,
    CampaignSpec,
    CreativeSpec,
    HealthReport,
    InsightRow,
    JobContext,
    PublishResult,
    TargetingSpec,
)

__all__ = [
    "AccountConfig",
    "AdGroupSpec",
    "AmbiguousOutcomeError",
    "AudienceResult",
    "AuthError",
    "CampaignSpec",
    "CreativeSpec",
    "FatalError",
    "HealthReport",
    "InsightRow",
    "JobContext",
    "PlatformAdapter",
    "PlatformError",
    "PlatformValidationError",
    "PublishResult",
    "RetryableError",
    "TargetingSpec",
    "ThrottledError",
    "adapter_classes",
    "get_adapter",
]
