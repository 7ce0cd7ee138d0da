"""Ad-group targeting changed in place, through each platform's own update call.

The wishes of every ad group (a :class:`TargetingSpec` per ref) go through the same employment-ad
compliance as at publishing (:func:`plan_targeting`), then out as absolute values, so sending the
same targeting twice leaves the platform as once:

- Meta: ``POST /<adset id>`` with the whole ``targeting`` object;
- Google: locations are campaign criteria and keywords ad-group criteria: what is there is read
  (GAQL), and the difference is one atomic ``googleAds:mutate`` (``remove`` + ``create``);
- TikTok: ``adgroup/update/`` with the targeting fields;
- Snapchat: the ad squad read, its ``targeting`` replaced, and the whole entity ``PUT`` back;
- X: the line item's criteria listed, and the difference sent as one
  ``batch/accounts/:id/targeting_criteria`` request (Create / Delete).
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from adflux.platforms.compliance import CompliancePlan, plan_targeting
from adflux.platforms.errors import PlatformValidationError
from adflux.platforms.google_mutate import _default_keywords, _locations
from adflux.platforms.types import JobContext, PublishResult, TargetingSpec

TargetingUpdater = Callable[[Any, PublishResult, dict[str, CompliancePlan], JobContext], list[str]]
TARGETING_UPDATERS: dict[str, TargetingUpdater] = {}
X_BATCH_LIMIT = 500


def targeting_updater(platform: str) -> Callable[[TargetingUpdater], TargetingUpdater]:
    def register(function: TargetingUpdater) -> TargetingUpdater:
        TARGETING_UPDATERS[platform] = function
        return function

    return register


def compliant_plans(
    platform: str, job: JobContext, wishes: dict[str, TargetingSpec]
) -> dict[str, CompliancePlan]:
    """Employment-ad compliant targeting per ad-group ref (what may be sent, and the report why)."""
    return {ref: plan_targeting(platform, job, wish) for ref, wish in wishes.items()}


def apply_targeting(
    adapter: Any, result: PublishResult, wishes: dict[str, TargetingSpec], job: JobContext
) -> list[str]:
    """Send the compliant targeting of the ad groups in ``wishes`` that exist at the platform."""
    if adapter.platform not in TARGETING_UPDATERS:
        raise PlatformValidationError(
            f"{adapter.platform} has no targeting update", platform=adapter.platform
        )
    present = {ref: wish for ref, wish in wishes.items() if ref in result.ad_groups}
    if not present:
        return []
    plans = compliant_plans(adapter.platform, job, present)
    return TARGETING_UPDATERS[adapter.platform](adapter, result, plans, job)


@targeting_updater("meta")
def _meta(
    adapter: Any, result: PublishResult, plans: dict[str, CompliancePlan], job: JobContext
) -> list[str]:
    for ref, plan in plans.items():
        adapter._post(
            result.ad_groups[ref], "update_adset_targeting", {"targeting": adapter._targeting(plan)}
        )
    return ["update_adset_targeting"] * len(plans)


@targeting_updater("tiktok")
def _tiktok(
    adapter: Any, result: PublishResult, plans: dict[str, CompliancePlan], job: JobContext
) -> list[str]:
    for ref, plan in plans.items():
        body = {"adgroup_id": result.ad_groups[ref], **adapter._targeting_fields(plan)}
        body.setdefault("audience_ids", [])  # an audience no longer wanted is cleared, not kept
        adapter._post("adgroup/update/", "update_adgroup_targeting", body)
    return ["update_adgroup_targeting"] * len(plans)


@targeting_updater("snapchat")
def _snapchat(
    adapter: Any, result: PublishResult, plans: dict[str, CompliancePlan], job: JobContext
) -> list[str]:
    for ref, plan in plans.items():
        squad = adapter._read_whole("adsquads", result.ad_groups[ref])
        squad["targeting"] = adapter._snap_targeting(plan)
        path = f"campaigns/{result.campaign_id}/adsquads"
        adapter._call("PUT", path, "update_adsquad_targeting", json={"adsquads": [squad]})
    return ["update_adsquad_targeting"] * len(plans)


@targeting_updater("x")
def _x(adapter: Any, result: PublishResult, plans: dict[str, CompliancePlan], job: JobContext) -> list[str]:
    operations: list[dict[str, Any]] = []
    for ref, plan in plans.items():
        item_id = result.ad_groups[ref]
        wanted = adapter._wanted_targeting(plan)
        have = adapter._criteria(item_id)
        present = {(row["targeting_type"], row["targeting_value"]) for row in have}
        operations += [
            {"operation_type": "Delete", "params": {"targeting_criterion_id": str(row["id"])}}
            for row in have
            if (row["targeting_type"], row["targeting_value"]) not in wanted
        ]
        operations += [
            {
                "operation_type": "Create",
                "params": {"line_item_id": item_id, "targeting_type": kind, "targeting_value": value},
            }
            for kind, value in dict.fromkeys(wanted)
            if (kind, value) not in present
        ]
    path = f"{adapter.api_version}/batch/accounts/{adapter.account.account_id}/targeting_criteria"
    sent: list[str] = []
    for start in range(0, len(operations), X_BATCH_LIMIT):
        adapter._call("POST", path, "batch_targeting", json=operations[start : start + X_BATCH_LIMIT])
        sent.append("batch_targeting")
    return sent


# -- Google: read the criteria, then one atomic mutate of the difference ---------------------------


@targeting_updater("google")
def _google(
    adapter: Any, result: PublishResult, plans: dict[str, CompliancePlan], job: JobContext
) -> list[str]:
    operations = _google_locations(adapter, result, plans) + _google_keywords(adapter, result, plans, job)
    if not operations:
        return []
    adapter._mutate(operations, "update_targeting")  # every criterion changes, or none does
    return ["update_targeting"]


def _location_key(criterion: dict[str, Any]) -> tuple[Any, ...] | None:
    if "location" in criterion:
        return ("geo", criterion["location"].get("geoTargetConstant"))
    if "proximity" in criterion:
        proximity = criterion["proximity"]
        point = proximity.get("geoPoint", {})
        return (
            "near",
            int(point.get("latitudeInMicroDegrees", 0)),
            int(point.get("longitudeInMicroDegrees", 0)),
            float(proximity.get("radius", 0)),
        )
    return None  # a language, or anything else that is not a place


def _google_locations(
    adapter: Any, result: PublishResult, plans: dict[str, CompliancePlan]
) -> list[dict[str, Any]]:
    """Locations are campaign-level: replace them only if the wanted set differs from the current."""
    campaign_rn = f"customers/{adapter.cid}/campaigns/{result.campaign_id}"
    rows = adapter.search(
        "SELECT campaign_criterion.resource_name, campaign_criterion.location.geo_target_constant, "
        "campaign_criterion.proximity.radius, "
        "campaign_criterion.proximity.geo_point.latitude_in_micro_degrees, "
        "campaign_criterion.proximity.geo_point.longitude_in_micro_degrees FROM campaign_criterion "
        f"WHERE campaign.id = {result.campaign_id} AND campaign_criterion.status != 'REMOVED'",
        "list_campaign_criteria",
    )
    current = {
        row["campaignCriterion"]["resourceName"]: key
        for row in rows
        if (key := _location_key(row["campaignCriterion"])) is not None
    }
    wanted = _locations(plans, campaign_rn)
    wanted_keys = {_location_key(op["campaignCriterionOperation"]["create"]) for op in wanted}
    if set(current.values()) == wanted_keys:
        return []
    removes = [{"campaignCriterionOperation": {"remove": name}} for name in current]
    return removes + wanted


def _google_keywords(
    adapter: Any, result: PublishResult, plans: dict[str, CompliancePlan], job: JobContext
) -> list[dict[str, Any]]:
    """Each ad group's keywords: remove those no longer wanted, add the new ones."""
    rows = adapter.search(
        "SELECT ad_group_criterion.resource_name, ad_group_criterion.keyword.text, ad_group.id "
        f"FROM ad_group_criterion WHERE campaign.id = {result.campaign_id} "
        "AND ad_group_criterion.status != 'REMOVED'",
        "list_keywords",
    )
    have: dict[str, dict[str, str]] = {}
    for row in rows:
        text = row["adGroupCriterion"].get("keyword", {}).get("text")
        if text is not None:
            have.setdefault(str(row["adGroup"]["id"]), {})[text] = row["adGroupCriterion"]["resourceName"]
    operations: list[dict[str, Any]] = []
    spec = SimpleNamespace(job=job)
    for ref, plan in plans.items():
        group_id = result.ad_groups[ref]
        wanted = list(dict.fromkeys(k[:80] for k in (plan.targeting.interests or _default_keywords(spec))))  # type: ignore[arg-type]
        current = have.get(str(group_id), {})
        operations += [
            {"adGroupCriterionOperation": {"remove": name}}
            for text, name in current.items()
            if text not in wanted
        ]
        group_rn = f"customers/{adapter.cid}/adGroups/{group_id}"
        operations += [
            {
                "adGroupCriterionOperation": {
                    "create": {
                        "adGroup": group_rn,
                        "status": "ENABLED",
                        "keyword": {"text": text, "matchType": "BROAD"},
                    }
                }
            }
            for text in wanted
            if text not in current
        ]
    return operations
