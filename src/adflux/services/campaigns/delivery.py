"""Changing a live campaign's delivery on every platform: pause, resume, complete, archive.

An action that reaches some platforms and not others never claims more than happened: the
campaign takes the action's partial status (partially paused, ...), remembers the action as
pending, names each platform's own status and error, and says so in the audit trail; an alert
rule watches such campaigns, and `retry_action` finishes the action where it did not land.
An action that reached no platform changes nothing and is refused with the platforms' errors.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from adflux.catalogue import gettext as _
from adflux.constants import PLATFORM_LABELS
from adflux.extensions import db
from adflux.models import Campaign, PlatformCampaign
from adflux.platforms.ad_group_states import without_paused
from adflux.platforms.errors import PlatformError
from adflux.platforms.types import PublishResult
from adflux.services import audit
from adflux.services.campaigns.ad_group_status import paused_refs
from adflux.services.campaigns.audit_fields import snapshot
from adflux.services.campaigns.lifecycle import locked_for
from adflux.services.errors import InvalidTransition, ServiceUnavailable
from adflux.services.platform_access import adapter_for

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivery:
    """What an action asks of each platform, and the campaign status once every platform did it."""

    action: str
    target: str  # the platform campaigns' status afterwards
    from_status: str | None  # only platform campaigns in this status take part (None: all)
    done: str  # the campaign's status when every platform did it
    partial: str  # the campaign's status when only some did


def _deliveries(campaign: Campaign) -> dict[str, Delivery]:
    failed_publish = any(pc.status == "failed" for pc in campaign.platform_campaigns)
    resumed = "partially_active" if failed_publish else "active"
    return {
        "pause": Delivery("pause", "paused", "active", "paused", "partially_paused"),
        "resume": Delivery("resume", "active", "paused", resumed, "partially_active"),
        "complete": Delivery("complete", "paused", "active", "completed", "partially_completed"),
        "archive": Delivery("archive", "archived", None, "archived", "partially_archived"),
    }


def pause_campaign(*, campaign_id: int) -> Campaign:
    """Stop delivery on every live platform."""
    return _act("pause", campaign_id)


def resume_campaign(*, campaign_id: int) -> Campaign:
    """Restart delivery where it was paused."""
    return _act("resume", campaign_id)


def complete_campaign(*, campaign_id: int) -> Campaign:
    """End the flight: stop delivery and mark the campaign completed (results stay readable)."""
    return _act("complete", campaign_id)


def archive_campaign(*, campaign_id: int) -> Campaign:
    """Archive at the platforms (where published) and in AdFlux; archiving is final."""
    return _act("archive", campaign_id)


def retry_action(*, campaign_id: int) -> Campaign:
    """Finish the action that reached only some platforms, on the platforms it did not reach."""
    campaign = locked_for("retry_action", campaign_id)
    if campaign.pending_action is None:
        db.session.rollback()
        raise InvalidTransition(_("Campaign %(campaign_id)s has no action to retry", campaign_id=campaign_id))
    return _set_delivery(campaign, _deliveries(campaign)[campaign.pending_action])


def _act(action: str, campaign_id: int) -> Campaign:
    campaign = locked_for(action, campaign_id)
    return _set_delivery(campaign, _deliveries(campaign)[action])


def _set_delivery(campaign: Campaign, delivery: Delivery) -> Campaign:
    before = {**snapshot(campaign), "platforms": _platform_states(campaign)}
    taking_part = [
        pc
        for pc in campaign.platform_campaigns
        if (delivery.from_status is None or pc.status == delivery.from_status) and pc.status != "archived"
    ]
    failures = {pc.platform: error for pc in taking_part if (error := _apply(pc, delivery)) is not None}
    reached = [pc for pc in taking_part if pc.external_campaign_id and pc.platform not in failures]
    if failures and not reached:
        db.session.commit()  # keep each platform's last error
        raise ServiceUnavailable(
            _(
                "Could not %(action)s the campaign on any platform: %(failures)s",
                action=delivery.action,
                failures="; ".join(
                    f"{PLATFORM_LABELS.get(platform, platform)}: {message.removeprefix(f'{platform}: ')}"
                    for platform, message in failures.items()
                ),
            )
        )
    campaign.status = delivery.partial if failures else delivery.done
    campaign.pending_action = delivery.action if failures else None
    after = {**snapshot(campaign), "platforms": _platform_states(campaign)}
    if failures:
        after["failed_platforms"] = failures
        logger.warning(
            "campaign %s: %s reached %s but not %s",
            campaign.id,
            delivery.action,
            ", ".join(pc.platform for pc in reached) or "no platform",
            ", ".join(failures),
        )
    audit.record(
        f"campaign.{delivery.action}",
        entity_type="campaign",
        entity_id=campaign.id,
        before=before,
        after=after,
    )
    db.session.commit()
    return campaign


def _apply(pc: PlatformCampaign, delivery: Delivery) -> str | None:
    """Set one platform campaign's delivery; the platform's error (without its name), or None."""
    if pc.external_campaign_id:
        adapter, _ = adapter_for(pc.platform)
        try:
            tree = PublishResult.from_dict(pc.external_ids)
            if delivery.target == "active":  # what a rule paused alone stays paused
                tree = without_paused(tree, paused_refs(pc))
            adapter.set_status(tree, delivery.target)
        except PlatformError as exc:
            message = str(exc).removeprefix(f"{pc.platform}: ")
            pc.last_error = f"{delivery.action}: {message}"
            return message
        finally:
            adapter.close()
        pc.last_error = None
    if delivery.target == "archived" or pc.external_campaign_id:
        pc.status = delivery.target
    return None


def _platform_states(campaign: Campaign) -> dict[str, str]:
    return {pc.platform: pc.status for pc in campaign.platform_campaigns}
