"""TikTok ad objects: campaigns, ad groups (with the special-industry rules) and ads; simulator units."""

from __future__ import annotations

from typing import Any

from adflux.sandbox.http import ApiError, Request, Response, route
from adflux.sandbox.state import Unit
from adflux.sandbox.tiktok.protocol import CODE_DUPLICATED, P, TikTokProtocol, invalid, parse_day

ADULT_AGE_GROUPS = {"AGE_18_24", "AGE_25_34", "AGE_35_44", "AGE_45_54", "AGE_55_100"}
OBJECTIVES = {
    "TRAFFIC": "traffic",
    "LEAD_GENERATION": "leads",
    "REACH": "traffic",
    "WEB_CONVERSIONS": "leads",
}
STATUSES = ("ENABLE", "DISABLE", "DELETE")


class TikTokObjects(TikTokProtocol):
    """Create, list and switch on/off what an advertiser holds."""

    @route("POST", rf"{P}/campaign/create/")
    def create_campaign(self, request: Request) -> Response:
        body = self._body(request, "advertiser_id", "campaign_name", "objective_type")
        if body["objective_type"] not in OBJECTIVES:
            raise invalid(f"objective_type: Invalid value {body['objective_type']}")
        advertiser = str(body["advertiser_id"])
        if body.get("request_id") and any(
            obj.get("request_id") == str(body["request_id"]) and obj["advertiser_id"] == advertiser
            for obj in self.state.all(self.platform, "campaign")
        ):
            # The same request_id twice is one request: refused, nothing created a second time.
            raise ApiError("validation", "Duplicated request. Please check request_id.", code=CODE_DUPLICATED)
        if any(
            obj["campaign_name"] == body["campaign_name"]
            and obj["advertiser_id"] == advertiser
            and obj.get("operation_status") != "DELETE"
            for obj in self.state.all(self.platform, "campaign")
        ):
            raise invalid("Campaign name already exists. Please try another one.")
        mode = body.get("budget_mode", "BUDGET_MODE_INFINITE")
        if mode != "BUDGET_MODE_INFINITE" and float(body.get("budget") or 0) <= 0:
            raise invalid("budget: Budget must be greater than 0.")
        special = body.get("special_industries") or []
        if set(special) - {"HOUSING", "EMPLOYMENT", "CREDIT"}:
            raise invalid(f"special_industries: Invalid value {special}")
        campaign = self._new(
            "campaign",
            {
                "advertiser_id": advertiser,
                "campaign_name": body["campaign_name"],
                "objective_type": body["objective_type"],
                "budget_mode": mode,
                "budget": float(body.get("budget") or 0),
                "operation_status": body.get("operation_status", "ENABLE"),
                "special_industries": special,
                "request_id": str(body["request_id"]) if body.get("request_id") else None,
            },
        )
        return self._ok({"campaign_id": campaign["id"]})

    @route("GET", rf"{P}/campaign/get/")
    def list_campaigns(self, request: Request) -> Response:
        return self._list(request, "campaign", "campaign_name")

    @route("POST", rf"{P}/(?P<kind>campaign|adgroup|ad)/status/update/")
    def update_status(self, request: Request, kind: str) -> Response:
        body = self._body(request, "advertiser_id", f"{kind}_ids", "operation_status")
        if body["operation_status"] not in STATUSES:
            raise invalid(f"operation_status: must be one of {STATUSES}")
        changed = []
        for object_id in body[f"{kind}_ids"]:
            obj = self._get(kind, body["advertiser_id"], object_id)
            obj["operation_status"] = body["operation_status"]
            changed.append(obj["id"])
            self._refresh(obj)
        return self._ok({f"{kind}_ids": changed, "status": body["operation_status"]})

    # -- ad groups -------------------------------------------------------------------------------

    @route("POST", rf"{P}/adgroup/create/")
    def create_adgroup(self, request: Request) -> Response:
        body = self._body(
            request,
            "advertiser_id",
            "campaign_id",
            "adgroup_name",
            "placement_type",
            "location_ids",
            "billing_event",
            "optimization_goal",
            "pacing",
            "promotion_type",
        )
        campaign = self._get("campaign", body["advertiser_id"], body["campaign_id"])
        if (
            body.get("budget_mode", "BUDGET_MODE_DAY") == "BUDGET_MODE_DAY"
            and float(body.get("budget") or 0) <= 0
        ):
            raise invalid("budget: The daily budget must be greater than 0.")
        if campaign["special_industries"]:
            self._check_special(body)
        group = self._new(
            "adgroup",
            {
                "advertiser_id": str(body["advertiser_id"]),
                "campaign_id": campaign["id"],
                "adgroup_name": body["adgroup_name"],
                "operation_status": body.get("operation_status", "ENABLE"),
                "budget": float(body.get("budget") or 0),
                "budget_mode": body.get("budget_mode", "BUDGET_MODE_DAY"),
                "location_ids": body["location_ids"],
                "age_groups": body.get("age_groups"),
                "gender": body.get("gender", "GENDER_UNLIMITED"),
                "audience_ids": body.get("audience_ids") or [],
                "schedule_start_time": body.get("schedule_start_time"),
                "schedule_end_time": body.get("schedule_end_time"),
                "optimization_goal": body["optimization_goal"],
            },
        )
        cap = campaign["budget"] if campaign["budget_mode"] == "BUDGET_MODE_TOTAL" else None
        self.state.put_unit(
            Unit(
                platform=self.platform,
                account=group["advertiser_id"],
                campaign_id=campaign["id"],
                group_id=group["id"],
                daily_budget=int(group["budget"]),
                objective=OBJECTIVES[campaign["objective_type"]],
                campaign_cap=int(cap) if cap else None,
                custom_audience=bool(group["audience_ids"]),
                texts=[campaign["campaign_name"], group["adgroup_name"]],
                start=parse_day(group["schedule_start_time"]),
                end=parse_day(group["schedule_end_time"]),
            )
        )
        self._refresh(group)
        return self._ok({"adgroup_id": group["id"]})

    def _check_special(self, body: dict[str, Any]) -> None:
        """Special ad categories: 18+ only; no gender, postal code, interest, lookalike or expansion."""
        problems = []
        ages = body.get("age_groups")
        if ages and set(ages) != ADULT_AGE_GROUPS:
            problems.append("age_groups must include every 18+ group")
        if body.get("gender", "GENDER_UNLIMITED") != "GENDER_UNLIMITED":
            problems.append("gender targeting is not allowed")
        if body.get("zipcode_ids"):
            problems.append("zip code targeting is not allowed")
        if body.get("interest_category_ids") or body.get("interest_keyword_ids"):
            problems.append("interest targeting is not allowed")
        if body.get("excluded_audience_ids"):
            problems.append("audience exclusion is not allowed")
        if body.get("expansion_enabled"):
            problems.append("targeting expansion is not allowed")
        for audience_id in body.get("audience_ids") or []:
            audience = self.state.get(self.platform, "audience", str(audience_id))
            if audience and audience.get("audience_type") == "LOOKALIKE":
                problems.append("lookalike audiences are not allowed")
        if problems:
            raise invalid("Special ad category (employment) restrictions: " + "; ".join(problems) + ".")

    @route("GET", rf"{P}/adgroup/get/")
    def list_adgroups(self, request: Request) -> Response:
        return self._list(request, "adgroup", "adgroup_name")

    # -- ads ------------------------------------------------------------------------------------------

    @route("POST", rf"{P}/ad/create/")
    def create_ad(self, request: Request) -> Response:
        body = self._body(request, "advertiser_id", "adgroup_id", "creatives")
        group = self._get("adgroup", body["advertiser_id"], body["adgroup_id"])
        ids = []
        for creative in body["creatives"]:
            for name in ("ad_name", "ad_text", "landing_page_url"):
                if not creative.get(name):
                    raise invalid(f"creatives.{name}: Missing data for required field.")
            if len(creative["ad_text"]) > 100:
                raise invalid("creatives.ad_text: Length must be at most 100 characters.")
            if creative.get("ad_format", "SINGLE_IMAGE") == "SINGLE_IMAGE":
                self._check_images(group["advertiser_id"], creative.get("image_ids") or [])
            ad = self._new(
                "ad",
                {
                    "advertiser_id": group["advertiser_id"],
                    "adgroup_id": group["id"],
                    "campaign_id": group["campaign_id"],
                    # Per creative, as the real API reads it (a top-level value is ignored).
                    "operation_status": creative.get("operation_status", "ENABLE"),
                    **{key: value for key, value in creative.items() if key != "operation_status"},
                },
            )
            ids.append(ad["id"])
            unit = self.state.unit(self.platform, group["id"])
            if unit is not None:
                unit.texts.append(creative["ad_text"])
        self._refresh(group)
        return self._ok({"ad_ids": ids})

    def _check_images(self, advertiser: str, image_ids: list[str]) -> None:
        """A SINGLE_IMAGE ad needs one image this advertiser uploaded (file/image/ad/upload)."""
        if not image_ids:
            raise invalid("creatives.image_ids: Missing data for required field (SINGLE_IMAGE).")
        for image_id in image_ids:
            image = self.state.get(self.platform, "image", str(image_id))
            if image is None or image["advertiser_id"] != advertiser:
                raise invalid(f"creatives.image_ids: image {image_id} does not exist.")

    @route("GET", rf"{P}/ad/get/")
    def list_ads(self, request: Request) -> Response:
        return self._list(request, "ad", "ad_name")

    def _refresh(self, obj: dict[str, Any]) -> None:
        groups = self.state.all(self.platform, "adgroup")
        campaign_id = obj.get("campaign_id") or obj["id"]
        for group in groups:
            if group["campaign_id"] != campaign_id:
                continue
            campaign = self.state.get(self.platform, "campaign", campaign_id) or {}
            ads = [ad for ad in self.state.all(self.platform, "ad") if ad["adgroup_id"] == group["id"]]
            live = any(ad["operation_status"] == "ENABLE" for ad in ads)
            self.state.set_active(
                self.platform,
                group["id"],
                campaign.get("operation_status") == "ENABLE"
                and group["operation_status"] == "ENABLE"
                and live,
            )
