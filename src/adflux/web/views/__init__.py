"""Dashboard pages, one module per page area: thin views that call the services and render templates."""

from __future__ import annotations

from adflux.web.views import (
    admin,
    alerts,
    allocation,
    approvals,
    audit,
    campaign_builder,
    campaign_changes,
    campaigns,
    feedback,
    feeds,
    jobs,
    overview,
    platform_accounts,
    playbooks,
    rules,
    segments,
    system_health,
    tasks,
)
from adflux.web.views.blueprint import bp

__all__ = [
    "admin",
    "alerts",
    "allocation",
    "approvals",
    "audit",
    "bp",
    "campaign_builder",
    "campaign_changes",
    "campaigns",
    "feedback",
    "feeds",
    "jobs",
    "overview",
    "platform_accounts",
    "playbooks",
    "rules",
    "segments",
    "system_health",
    "tasks",
]
