"""The campaign fields the audit log records before and after a change."""

from __future__ import annotations

from typing import Any

from adflux.models import Campaign
from adflux.services import audit

AUDITED = ("name", "status", "budget_total", "budget_daily", "target_cpa", "start_date", "end_date")


def snapshot(campaign: Campaign) -> dict[str, Any]:
    """The audited fields of `campaign`, as the audit log stores them."""
    return audit.snapshot(campaign, AUDITED)
