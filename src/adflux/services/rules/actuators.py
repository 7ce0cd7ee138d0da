"""The one seam through which rules and pacing act on the platforms.

Budget changes go through ``services.campaigns.changes.set_daily_budget`` (the idempotent in-place
update path, which records the desired budget and propagates it); it is imported lazily so this
module works, and says so, where that path is not installed. Campaign pause and resume go through
the campaigns' delivery path. Notifications are an audit record plus the alerting machinery's
notification channels.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from adflux.services.campaigns import delivery
from adflux.services.errors import DomainError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """Whether an action landed, and a one-line reason when it did not."""

    status: str  # applied | failed | recorded
    message: str | None = None


def set_daily_budget(
    *, platform_campaign_id: int, ad_group_id: int | None, daily_budget: int, reason: str, actor: str
) -> Outcome:
    """Change a daily budget at the platform through the idempotent update path."""
    from adflux.extensions import db
    from adflux.services.campaigns import changes  # imported here: it imports the rules' neighbours

    try:
        changes.set_daily_budget(
            db.session,
            platform_campaign_id=platform_campaign_id,
            ad_group_id=ad_group_id,
            daily_budget=daily_budget,
            reason=reason,
            actor=actor,
        )
    except DomainError as error:
        return Outcome("failed", error.message)
    return Outcome("applied")


def pause_or_resume(*, campaign_id: int, kind: str, level: str) -> Outcome:
    """Pause or resume; at campaign level through the delivery path, below it recorded only."""
    if level != "campaign":
        # No platform path pauses a single ad group yet: the decision is logged and notified.
        message = f"{kind} below campaign level is recorded and notified, not sent to the platform"
        return Outcome("recorded", message)
    try:
        (delivery.pause_campaign if kind == "pause" else delivery.resume_campaign)(campaign_id=campaign_id)
    except DomainError as error:
        return Outcome("failed", error.message)
    return Outcome("applied")
