"""What a campaign will publish: creatives, budgets in each platform's units, compliance report."""

from __future__ import annotations

from typing import Any

from adflux.models import AdCreative, Campaign
from adflux.platforms import money
from adflux.services.campaigns.listing import get_campaign
from adflux.services.publishing import ad_group_ref


def platform_budget_units(platform: str, pesos: int | None) -> dict[str, Any] | None:
    """A budget in the unit each platform's API takes (exact integer conversions)."""
    if pesos is None:
        return None
    if platform == "meta":
        return {"field": "lifetime_budget", "value": money.meta_amount(pesos), "unit": "COP (offset 1)"}
    if platform == "tiktok":
        return {"field": "budget", "value": money.tiktok_amount(pesos), "unit": "COP"}
    field = {
        "google": "amount_micros",
        "x": "total_budget_amount_local_micro",
        "snapchat": "lifetime_spend_cap_micro",
    }
    return {"field": field[platform], "value": money.to_micros(pesos), "unit": "COP micros"}


def preview_campaign(*, campaign_id: int) -> dict[str, Any]:
    """Creatives, budgets in platform units and the compliance report, before anything is published."""
    return preview_of(get_campaign(campaign_id=campaign_id))


def preview_of(campaign: Campaign) -> dict[str, Any]:
    """`preview_campaign` of a campaign already read (with its platform campaigns' ad groups and
    creatives loaded: the campaign page's read)."""
    platforms = []
    for pc in campaign.platform_campaigns:
        platforms.append(
            {
                "platform": pc.platform,
                "status": pc.status,
                "budget_total": pc.budget_total,
                "budget_daily": pc.budget_daily,
                "platform_budget": platform_budget_units(pc.platform, pc.budget_total),
                "creatives": [_creative_dict(c) for c in pc.creatives],
                "ad_groups": [
                    {
                        "ref": ad_group_ref(group),
                        "name": group.name,
                        "segment_id": group.segment_id,
                        "budget_daily": group.budget_daily,
                        "targeting": group.targeting.get("allowed", {}),
                        "compliance": pc.compliance_report.get(ad_group_ref(group), []),
                    }
                    for group in pc.ad_groups
                ],
            }
        )
    return {"campaign_id": campaign.id, "status": campaign.status, "platforms": platforms}


def _creative_dict(creative: AdCreative) -> dict[str, Any]:
    return {
        "headline": creative.headline,
        "primary_text": creative.primary_text,
        "description": creative.description,
        "call_to_action": creative.call_to_action,
        "link_url": creative.link_url,
        "extra": creative.extra,
    }
