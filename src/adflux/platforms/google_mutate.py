"""The Google Ads campaign tree as the operations of one atomic ``googleAds:mutate`` request.

Pure: a campaign spec and its compliance plans in, the operations out. Temporary (negative)
resource names link budget, campaign and ad groups, so the whole tree is created, or refused,
at once.
"""

from __future__ import annotations

from typing import Any

from adflux.constants import JOB_CATEGORY_LABELS
from adflux.platforms.base import object_name
from adflux.platforms.compliance import CompliancePlan
from adflux.platforms.errors import FatalError
from adflux.platforms.geo import COUNTRY_GOOGLE_GEO_TARGET
from adflux.platforms.money import to_micros
from adflux.platforms.types import AdGroupSpec, CampaignSpec

SPANISH = "languageConstants/1003"


def create(kind: str, resource: dict[str, Any]) -> dict[str, Any]:
    """One ``create`` entry of a mutate request."""
    return {kind: {"create": resource}}


def tree_operations(
    cid: str, spec: CampaignSpec, name: str, plans: dict[str, CompliancePlan]
) -> list[dict[str, Any]]:
    """Budget, campaign, language and locations, then each ad group with its ad and criteria."""
    budget_rn, campaign_rn = f"customers/{cid}/campaignBudgets/-1", f"customers/{cid}/campaigns/-2"
    # Google budgets live on the campaign: the ad groups' daily budgets add up to it.
    daily = spec.budget_daily or sum(group.daily_budget for group in spec.ad_groups)
    budget = {
        "resourceName": budget_rn,
        "name": object_name(spec.key, "presupuesto"),
        "amountMicros": str(to_micros(daily)),
        "deliveryMethod": "STANDARD",
        "explicitlyShared": False,
    }
    language = {"campaign": campaign_rn, "language": {"languageConstant": SPANISH}}
    operations = [
        create("campaignBudgetOperation", budget),
        create("campaignOperation", _campaign(spec, name, budget_rn, campaign_rn)),
        create("campaignCriterionOperation", language),
        *_locations(plans, campaign_rn),
    ]
    ad = _responsive_search_ad(spec)
    for index, group in enumerate(spec.ad_groups):
        group_rn = f"customers/{cid}/adGroups/{-(index + 3)}"
        operations += _ad_group(cid, spec, group, group_rn, campaign_rn, ad, plans[group.ref])
    return operations


def _campaign(spec: CampaignSpec, name: str, budget_rn: str, campaign_rn: str) -> dict[str, Any]:
    campaign: dict[str, Any] = {
        "resourceName": campaign_rn,
        "name": name,
        "status": "PAUSED",
        "advertisingChannelType": "SEARCH",
        "campaignBudget": budget_rn,
        "manualCpc": {"enhancedCpcEnabled": False},
        "networkSettings": {
            "targetGoogleSearch": True,
            "targetSearchNetwork": True,
            "targetContentNetwork": False,
            "targetPartnerSearchNetwork": False,
        },
        "containsEuPoliticalAdvertising": "DOES_NOT_CONTAIN_EU_POLITICAL_ADVERTISING",
        # API v20+ replaced startDate/endDate with startDateTime/endDateTime ("yyyy-MM-dd HH:mm:ss").
        "startDateTime": f"{spec.start_date.isoformat()} 00:00:00",
    }
    if spec.end_date:
        campaign["endDateTime"] = f"{spec.end_date.isoformat()} 23:59:59"
    return campaign


def _locations(plans: dict[str, CompliancePlan], campaign_rn: str) -> list[dict[str, Any]]:
    """Locations are campaign-level in Google Ads: the union of the segments' cities, or the country."""
    cities = {city.name: city for plan in plans.values() for city in plan.targeting.cities}
    if cities and all(plan.targeting.cities for plan in plans.values()):
        return [
            create(
                "campaignCriterionOperation",
                {
                    "campaign": campaign_rn,
                    "proximity": {
                        "geoPoint": {
                            "latitudeInMicroDegrees": round(city.latitude * 1_000_000),
                            "longitudeInMicroDegrees": round(city.longitude * 1_000_000),
                        },
                        "radius": city.radius_km,
                        "radiusUnits": "KILOMETERS",
                    },
                },
            )
            for city in cities.values()
        ]
    country = next(iter(plans.values())).targeting.country
    geo = COUNTRY_GOOGLE_GEO_TARGET.get(country)
    if geo is None:
        raise FatalError(f"no Google geo target for country {country}", platform="google")
    location = {"geoTargetConstant": f"geoTargetConstants/{geo}"}
    return [create("campaignCriterionOperation", {"campaign": campaign_rn, "location": location})]


def _ad_group(
    cid: str,
    spec: CampaignSpec,
    group: AdGroupSpec,
    group_rn: str,
    campaign_rn: str,
    ad: dict[str, Any],
    plan: CompliancePlan,
) -> list[dict[str, Any]]:
    """One ad group with its responsive search ad, keywords and customer-match list."""
    ad_group = {
        "resourceName": group_rn,
        "campaign": campaign_rn,
        "name": object_name(spec.key, group.name, group.ref),
        "status": "ENABLED",
        "type": "SEARCH_STANDARD",
        "cpcBidMicros": str(to_micros(max(200, group.daily_budget // 40))),
    }
    operations = [
        create("adGroupOperation", ad_group),
        create("adGroupAdOperation", {"adGroup": group_rn, "status": "ENABLED", "ad": ad}),
    ]
    targeting = plan.targeting
    for keyword in targeting.interests or _default_keywords(spec):
        criterion = {
            "adGroup": group_rn,
            "status": "ENABLED",
            "keyword": {"text": keyword[:80], "matchType": "BROAD"},
        }
        operations.append(create("adGroupCriterionOperation", criterion))
    if targeting.custom_audience_id:
        user_list = {"userList": f"customers/{cid}/userLists/{targeting.custom_audience_id}"}
        operations.append(create("adGroupCriterionOperation", {"adGroup": group_rn, "userList": user_list}))
    image = spec.creative.extra.get("image_asset")
    if image:  # the job's image asset, shown beside the ad as an image extension
        link = {"adGroup": group_rn, "asset": image, "fieldType": "AD_IMAGE", "status": "ENABLED"}
        operations.append(create("adGroupAssetOperation", link))
    return operations


def _responsive_search_ad(spec: CampaignSpec) -> dict[str, Any]:
    headlines, descriptions = _copy(spec)
    return {
        "finalUrls": [spec.creative.link_url],
        "responsiveSearchAd": {
            "headlines": [{"text": text} for text in headlines],
            "descriptions": [{"text": text} for text in descriptions],
        },
    }


def _default_keywords(spec: CampaignSpec) -> list[str]:
    label = JOB_CATEGORY_LABELS.get(spec.job.category, spec.job.category)
    return [spec.job.title.lower(), f"empleo {label.lower()}", f"trabajo {spec.job.title.lower()}"]


def _copy(spec: CampaignSpec) -> tuple[list[str], list[str]]:
    """3-15 unique headlines of <=30 chars and 2-4 descriptions of <=90 chars."""
    creative = spec.creative
    headlines = list(creative.extra.get("headlines") or [])
    headlines += [creative.headline, spec.job.title, "Aplica hoy", "Empleo en Colombia", "Oferta de empleo"]
    descriptions = list(creative.extra.get("descriptions") or [])
    descriptions += [creative.description or "", creative.primary_text, "Postúlate en minutos."]
    # A text longer than Google's limit is left out, never cut (a cut headline ends mid-value).
    unique_headlines = list(dict.fromkeys(t.strip() for t in headlines if 0 < len(t.strip()) <= 30))
    unique_descriptions = list(dict.fromkeys(t.strip() for t in descriptions if 0 < len(t.strip()) <= 90))
    return unique_headlines[:15], unique_descriptions[:4]
