"""Dashboard pages, one module per page area: thin views that call the services and render templates."""

from __future__ import annotations

from adflux.web.views import (
    alerts,
    approvals,
    audit,
    campaigns,
    feedback,
    feeds,
    overview,
    playbooks,
    segments,
    system_health,
    tasks,
)
from adflux.web.views.blueprint import bp

__all__ = [
    "alerts",
    "approvals",
    "audit",
    "bp",
    "campaigns",
    "feedback",
    "feeds",
    "overview",
    "playbooks",
    "segments",
    "system_health",
    "tasks",
]
