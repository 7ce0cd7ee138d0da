"""The one seam through which rules and pacing act on the platforms.

Budget changes go through ``services.campaigns.changes.set_daily_budget`` (the idempotent in-place
update path, which records the desired budget and propagates it). Campaign pause and resume go
through the campaigns' delivery path; an ad group's through the in-place update path
(``services.campaigns.ad_group_status``), sent to its platform by a retried background task.
Notifications (``notify``) are sent by ``services.rules.notices`` on the alert channels.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from adflux.services.campaigns import ad_group_status, delivery
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


def pause_or_resume(
    *,
    campaign_id: int,
    kind: str,
    level: str,
    ad_group_id: int | None = None,
    platform_campaign_id: int | None = None,
    reason: str = "rules",
) -> Outcome:
    """Pause or resume: a campaign through the delivery path; an ad group (or every ad group of a
    platform campaign) through the in-place update path, which sends it to the platform in the
    background (retried, audited; the platform campaign's update status says when it landed)."""
    try:
        if level == "campaign":
            (delivery.pause_campaign if kind == "pause" else delivery.resume_campaign)(
                campaign_id=campaign_id
            )
            return Outcome("applied")
        return _ad_groups(kind, ad_group_id, platform_campaign_id, reason)
    except DomainError as error:
        return Outcome("failed", error.message)


def _ad_groups(kind: str, ad_group_id: int | None, platform_campaign_id: int | None, reason: str) -> Outcome:
    from adflux.extensions import db
    from adflux.models import AdGroup

    status = "paused" if kind == "pause" else "active"
    if ad_group_id is not None:
        group = db.session.get(AdGroup, ad_group_id)
        if group is not None and group.status == status:
            return Outcome("applied", f"the ad group was already {status}")
        result = ad_group_status.set_ad_group_status(
            db.session, status=status, reason=reason, actor="rules", ad_group_ids=[ad_group_id]
        )
    else:
        result = ad_group_status.set_ad_group_status(
            db.session, status=status, reason=reason, actor="rules", platform_campaign_id=platform_campaign_id
        )
    if result.changed and not result.queued:
        return Outcome("recorded", "the platform campaign is not live: it takes the state when published")
    return Outcome("applied")
