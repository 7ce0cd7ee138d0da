"""Campaigns a playbook made that wait for a manager: list, approve (publish) or reject (archive,
with the reason). Approvers hear of them through the "campaign awaiting approval" alert, which
goes wherever alerts go (e-mail, webhook) and shows in the dashboard."""

from __future__ import annotations

from sqlalchemy import select

from adflux.catalogue import gettext as _
from adflux.extensions import db
from adflux.models import Campaign, TaskRun
from adflux.services import audit
from adflux.services.campaigns import archive_campaign, publish_campaign
from adflux.services.errors import DomainError, InvalidTransition, NotFound, ValidationFailed
from adflux.services.pagination import Page, paginate


def list_pending(*, page: int = 1, page_size: int = 20) -> Page[Campaign]:
    """Campaigns awaiting approval, oldest first."""
    stmt = select(Campaign).where(Campaign.approval_status == "pending").order_by(Campaign.id)
    return paginate(stmt, page=page, page_size=page_size)


def _pending(campaign_id: int) -> Campaign:
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(_("Campaign %(campaign_id)s does not exist", campaign_id=campaign_id))
    if campaign.approval_status != "pending":
        raise InvalidTransition(
            _("Campaign %(campaign_id)s is not awaiting approval", campaign_id=campaign_id)
        )
    return campaign


def approve(*, campaign_id: int) -> TaskRun:
    """Approve and publish; returns the publishing run. If publishing cannot start (the queue is
    down), the campaign is still awaiting approval, not approved and unpublished."""
    campaign = _pending(campaign_id)
    campaign.approval_status = "approved"
    audit.record(
        "campaign.approve", entity_type="campaign", entity_id=campaign.id, after={"approval": "approved"}
    )
    db.session.commit()
    try:
        return publish_campaign(campaign_id=campaign_id)
    except DomainError:
        db.session.rollback()
        again = db.session.get(Campaign, campaign_id)
        if again is not None and again.status == "draft":
            again.approval_status = "pending"
            audit.record(
                "campaign.approve_undone",
                entity_type="campaign",
                entity_id=campaign_id,
                after={"approval": "pending", "reason": "publishing could not start"},
            )
            db.session.commit()
        raise


def reject(*, campaign_id: int, reason: str) -> Campaign:
    """Reject with a reason: the draft is archived and never published."""
    reason = (reason or "").strip()
    if not 3 <= len(reason) <= 500:
        raise ValidationFailed(
            _("Say why the campaign is rejected (3 to 500 characters)"), errors={"reason": ["required"]}
        )
    campaign = _pending(campaign_id)
    campaign.approval_status, campaign.approval_note = "rejected", reason
    audit.record(
        "campaign.reject",
        entity_type="campaign",
        entity_id=campaign.id,
        after={"approval": "rejected", "reason": reason},
    )
    db.session.commit()
    return archive_campaign(campaign_id=campaign_id)
