"""TikTok in-place updates: campaign/update, adgroup/update, adgroup/budget/update and ad/update.

Each endpoint takes only the fields TikTok lets that object change; anything else, or a missing
id, is TikTok's parameter error (code 40002, HTTP 200). Special-industry ad groups keep their
targeting rules on update.
"""

from __future__ import annotations

from typing import Any

from adflux.sandbox.http import Request, Response, route
from adflux.sandbox.tiktok.objects import TikTokObjects
from adflux.sandbox.tiktok.protocol import P, invalid

CAMPAIGN_FIELDS = {"campaign_name", "budget", "special_industries"}
ADGROUP_FIELDS = {
    "adgroup_name",
    "location_ids",
    "age_groups",
    "gender",
    "languages",
    "audience_ids",
    "schedule_type",
    "schedule_start_time",
    "schedule_end_time",
    "bid_price",
}
CREATIVE_FIELDS = {
    "ad_id",
    "ad_name",
    "ad_format",
    "ad_text",
    "landing_page_url",
    "call_to_action",
    "display_name",
    "image_ids",
    "identity_id",
    "identity_type",
}


def _only(body: dict[str, Any], allowed: set[str], what: str) -> None:
    unknown = sorted(set(body) - allowed - {"advertiser_id"})
    if unknown:
        raise invalid(f"{unknown[0]}: Unknown field for {what}.")


class TikTokUpdates(TikTokObjects):
    """Change live campaigns, ad groups and ads."""

    @route("POST", rf"{P}/campaign/update/")
    def update_campaign(self, request: Request) -> Response:
        body = self._body(request, "advertiser_id", "campaign_id")
        _only(body, CAMPAIGN_FIELDS | {"campaign_id"}, "campaign/update")
        campaign = self._get("campaign", body["advertiser_id"], body["campaign_id"])
        if "budget" in body:
            if campaign["budget_mode"] != "BUDGET_MODE_INFINITE" and float(body["budget"]) <= 0:
                raise invalid("budget: Budget must be greater than 0.")
            campaign["budget"] = float(body["budget"])
        if "campaign_name" in body:
            campaign["campaign_name"] = body["campaign_name"]
        self._touch(campaign)
        return self._ok({"campaign_id": campaign["id"]})

    @route("POST", rf"{P}/adgroup/budget/update/")
    def update_adgroup_budget(self, request: Request) -> Response:
        body = self._body(request, "advertiser_id", "budget")
        _only(body, {"budget", "scheduled_budget"}, "adgroup/budget/update")
        groups = []
        for entry in body["budget"]:
            if not isinstance(entry, dict) or "adgroup_id" not in entry or "budget" not in entry:
                raise invalid("budget: Each entry needs adgroup_id and budget.")
            group = self._get("adgroup", body["advertiser_id"], entry["adgroup_id"])
            if group["budget_mode"] == "BUDGET_MODE_DAY" and float(entry["budget"]) <= 0:
                raise invalid("budget: The daily budget must be greater than 0.")
            groups.append((group, float(entry["budget"])))
        for group, budget in groups:  # all or nothing
            group["budget"] = budget
            unit = self.state.unit(self.platform, group["id"])
            if unit is not None and group["budget_mode"] == "BUDGET_MODE_DAY":
                unit.daily_budget = int(budget)
            self._touch(group)
        return self._ok({})

    @route("POST", rf"{P}/adgroup/update/")
    def update_adgroup(self, request: Request) -> Response:
        body = self._body(request, "advertiser_id", "adgroup_id")
        _only(body, ADGROUP_FIELDS | {"adgroup_id"}, "adgroup/update")
        group = self._get("adgroup", body["advertiser_id"], body["adgroup_id"])
        campaign = self._get("campaign", body["advertiser_id"], group["campaign_id"])
        merged = {**group, **body}
        if campaign["special_industries"]:
            self._check_special(merged)
        if merged.get("schedule_type") == "SCHEDULE_START_END" and not merged.get("schedule_end_time"):
            raise invalid("schedule_end_time: Missing data for required field.")
        for key in ADGROUP_FIELDS & set(body):
            group[key] = body[key]
        self._touch(group)
        return self._ok({"adgroup_id": group["id"]})

    @route("POST", rf"{P}/ad/update/")
    def update_ad(self, request: Request) -> Response:
        body = self._body(request, "advertiser_id", "adgroup_id", "creatives")
        _only(body, {"adgroup_id", "creatives"}, "ad/update")
        changes = []
        for creative in body["creatives"]:
            _only(creative, CREATIVE_FIELDS, "ad/update creatives")
            if not creative.get("ad_id"):
                raise invalid("creatives.ad_id: Missing data for required field.")
            ad = self._get("ad", body["advertiser_id"], creative["ad_id"])
            if ad["adgroup_id"] != str(body["adgroup_id"]):
                raise invalid(f"ad_id {creative['ad_id']} is not in ad group {body['adgroup_id']}.")
            if "ad_text" in creative and not 1 <= len(creative["ad_text"]) <= 100:
                raise invalid("ad_text: Length must be between 1 and 100.")
            changes.append((ad, creative))
        for ad, creative in changes:
            ad.update({key: value for key, value in creative.items() if key != "ad_id"})
            self._touch(ad)
        return self._ok({"ad_ids": [ad["id"] for ad, _ in changes]})

    def _touch(self, obj: dict[str, Any]) -> None:
        obj["modify_time"] = self.state.now().strftime("%Y-%m-%d %H:%M:%S")
        self._refresh(obj)
