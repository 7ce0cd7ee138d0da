"""Meta ad objects: campaigns, ad sets, creatives and ads; updates by id; ad review; simulator units."""

from __future__ import annotations

import json
from typing import Any

from adflux.sandbox.api import loads_maybe
from adflux.sandbox.http import ApiError, Request, Response, json_response, route
from adflux.sandbox.meta.graph import MetaGraph, V, parse_day
from adflux.sandbox.meta.insights import poll_report
from adflux.sandbox.meta.validation import (
    DISAPPROVED_PHRASES,
    OBJECTIVES,
    SETTABLE,
    check_adset,
    check_campaign,
    fold,
    invalid,
)
from adflux.sandbox.state import Unit

EDGE_OF_KIND = {
    "campaign": "campaigns",
    "adset": "adsets",
    "ad": "ads",
    "creative": "adcreatives",
    "audience": "customaudiences",
}


class MetaObjects(MetaGraph):
    """Create, list, read, update and delete the objects an ad account holds."""

    # -- campaigns -------------------------------------------------------------------------------

    @route("POST", rf"{V}/act_(?P<account>\d+)/campaigns")
    def create_campaign(self, request: Request, account: str) -> Response:
        params = self._require(request, "name", "objective")
        categories, countries, status = check_campaign(params)
        if params.get("execution_options") and "validate_only" in params["execution_options"]:
            return json_response({"success": True})
        campaign = self._new(
            "campaign",
            account,
            {
                "_kind": "campaign",
                "name": params["name"],
                "objective": params["objective"],
                "status": status,
                "special_ad_categories": categories,
                "special_ad_category_country": countries,
                "spend_cap": params.get("spend_cap"),
                "buying_type": params.get("buying_type", "AUCTION"),
                "daily_budget": params.get("daily_budget"),
                "lifetime_budget": params.get("lifetime_budget"),
            },
        )
        return json_response({"id": campaign["id"]})

    @route("GET", rf"{V}/act_(?P<account>\d+)/(?P<edge>campaigns|adsets|ads|adcreatives|customaudiences)")
    def list_account_edge(self, request: Request, account: str, edge: str) -> Response:
        self._check_fields(request, edge)
        kind = {
            "campaigns": "campaign",
            "adsets": "adset",
            "ads": "ad",
            "adcreatives": "creative",
            "customaudiences": "audience",
        }[edge]
        rows = [obj for obj in self.state.all(self.platform, kind) if obj["account_id"] == account]
        rows = self._filtered(request, rows)
        return self._page(request, [self._shape(row, request) for row in rows])

    # -- ad sets -----------------------------------------------------------------------------------

    @route("POST", rf"{V}/act_(?P<account>\d+)/adsets")
    def create_adset(self, request: Request, account: str) -> Response:
        params = self._require(
            request, "name", "campaign_id", "billing_event", "optimization_goal", "targeting"
        )
        campaign = self._get_obj("campaign", params["campaign_id"])
        budget, targeting = check_adset(
            params, campaign, lambda audience_id: self.state.get(self.platform, "audience", audience_id)
        )
        status = params.get("status", "ACTIVE")
        adset = self._new(
            "adset",
            account,
            {
                "_kind": "adset",
                "name": params["name"],
                "campaign_id": campaign["id"],
                "status": status,
                "daily_budget": params.get("daily_budget"),
                "lifetime_budget": params.get("lifetime_budget"),
                "billing_event": params["billing_event"],
                "optimization_goal": params["optimization_goal"],
                "targeting": targeting,
                "start_time": params.get("start_time"),
                "end_time": params.get("end_time"),
                "bid_strategy": params.get("bid_strategy"),
            },
        )
        self.state.put_unit(self._adset_unit(account, campaign, adset["id"], budget, targeting, params))
        self._refresh_unit(adset["id"])
        return json_response({"id": adset["id"]})

    def _adset_unit(
        self,
        account: str,
        campaign: dict[str, Any],
        adset_id: str,
        budget: str | None,
        targeting: dict[str, Any],
        params: dict[str, str],
    ) -> Unit:
        """What the simulator delivers for a new ad set: its budget, interests, cities and dates."""
        return Unit(
            platform=self.platform,
            account=account,
            campaign_id=campaign["id"],
            group_id=adset_id,
            daily_budget=int(budget or 0) or 20_000,
            objective=OBJECTIVES[campaign["objective"]],
            campaign_cap=int(campaign["spend_cap"]) if campaign.get("spend_cap") else None,
            interests=tuple(
                item.get("name", "")
                for spec in targeting.get("flexible_spec", [])
                for item in spec.get("interests", [])
            ),
            cities=tuple(
                loc.get("name", "") for loc in targeting.get("geo_locations", {}).get("custom_locations", [])
            ),
            custom_audience=bool(targeting.get("custom_audiences")),
            texts=[campaign["name"]],
            start=parse_day(params.get("start_time")),
            end=parse_day(params.get("end_time")),
        )

    @route("GET", rf"{V}/(?P<parent>\d+)/(?P<edge>adsets|ads)")
    def list_children(self, request: Request, parent: str, edge: str) -> Response:
        found = self.state.find_any(self.platform, parent)
        if found is None:
            raise ApiError("not_found", f"Object with ID '{parent}' does not exist", status=404)
        parent_kind = found[0]
        kind = "adset" if edge == "adsets" else "ad"
        link = {"campaign": "campaign_id", "adset": "adset_id"}.get(parent_kind)
        if link is None:
            raise invalid(f"Tried accessing nonexisting field ({edge}) on node type ({parent_kind})")
        rows = [obj for obj in self.state.all(self.platform, kind) if obj.get(link) == parent]
        return self._page(request, [self._shape(row, request) for row in self._filtered(request, rows)])

    # -- creatives and ads ---------------------------------------------------------------------

    @route("POST", rf"{V}/act_(?P<account>\d+)/adcreatives")
    def create_creative(self, request: Request, account: str) -> Response:
        params = self._require(request, "object_story_spec")
        spec = loads_maybe(params["object_story_spec"], {})
        link_data = spec.get("link_data") or {}
        if not spec.get("page_id"):
            raise invalid("object_story_spec requires page_id")
        if not link_data.get("link"):
            raise invalid("link_data requires link", "Missing link")
        creative = self._new(
            "creative",
            account,
            {
                "_kind": "creative",
                "name": params.get("name")
                or f"Creative {len(self.state.all(self.platform, 'creative')) + 1}",
                "object_story_spec": spec,
                "status": "ACTIVE",
                "body": link_data.get("message"),
                "title": link_data.get("name"),
            },
        )
        return json_response({"id": creative["id"]})

    @route("POST", rf"{V}/act_(?P<account>\d+)/ads")
    def create_ad(self, request: Request, account: str) -> Response:
        params = self._require(request, "name", "adset_id", "creative")
        adset = self._get_obj("adset", params["adset_id"])
        creative_ref = loads_maybe(params["creative"], {})
        creative = self._get_obj("creative", str(creative_ref.get("creative_id")))
        ad = self._new(
            "ad",
            account,
            {
                "_kind": "ad",
                "name": params["name"],
                "adset_id": adset["id"],
                "campaign_id": adset["campaign_id"],
                "creative": {"id": creative["id"]},
                "status": params.get("status", "ACTIVE"),
                "_review": "PENDING_REVIEW",
            },
        )
        unit = self.state.unit(self.platform, adset["id"])
        if unit is not None:
            link = creative["object_story_spec"].get("link_data", {})
            unit.texts.extend(str(link.get(key, "")) for key in ("name", "message", "description"))
        self._refresh_unit(adset["id"])
        return json_response({"id": ad["id"]})

    def _finish_reviews(self) -> None:
        """Pending ads are reviewed whenever the simulated clock moves."""
        for ad in self.state.all(self.platform, "ad"):
            if ad.get("_review") != "PENDING_REVIEW":
                continue
            creative = self.state.get(self.platform, "creative", ad["creative"]["id"]) or {}
            text = fold(json.dumps(creative.get("object_story_spec", {}), ensure_ascii=False))
            bad = [phrase for phrase in DISAPPROVED_PHRASES if phrase in text]
            ad["_review"] = "DISAPPROVED" if bad else "APPROVED"
            if bad:
                ad["ad_review_feedback"] = {
                    "global": {"Discriminatory practices": f"Ad text contains: {bad[0]}"}
                }
            self._refresh_unit(ad["adset_id"])

    def _refresh_unit(self, adset_id: str) -> None:
        adset = self.state.get(self.platform, "adset", adset_id)
        unit = self.state.unit(self.platform, adset_id)
        if adset is None or unit is None:
            return
        campaign = self.state.get(self.platform, "campaign", adset["campaign_id"]) or {}
        ads = [ad for ad in self.state.all(self.platform, "ad") if ad["adset_id"] == adset_id]
        live = [ad for ad in ads if ad["status"] == "ACTIVE" and ad.get("_review") != "DISAPPROVED"]
        unit.approved = not (ads and all(ad.get("_review") == "DISAPPROVED" for ad in ads))
        self.state.set_active(
            self.platform,
            adset_id,
            campaign.get("status") == "ACTIVE" and adset["status"] == "ACTIVE" and bool(live),
        )

    # -- any object by id -------------------------------------------------------------------------

    @route("GET", rf"{V}/(?P<object_id>\d+)")
    def get_object(self, request: Request, object_id: str) -> Response:
        job = self.state.job(object_id)
        if job is not None:
            return json_response(poll_report(job, self.state.report_polls))
        found = self.state.find_any(self.platform, object_id)
        if found is None or found[1].get("status") == "DELETED":
            raise ApiError("not_found", f"Object with ID '{object_id}' does not exist", status=404)
        self._check_fields(request, EDGE_OF_KIND.get(found[0], ""))
        return json_response(self._shape(found[1], request, "id,name,status"))

    @route("POST", rf"{V}/(?P<object_id>\d+)")
    def update_object(self, request: Request, object_id: str) -> Response:
        found = self.state.find_any(self.platform, object_id)
        if found is None or found[1].get("status") == "DELETED":
            raise ApiError("not_found", f"Object with ID '{object_id}' does not exist", status=404)
        kind, obj = found
        params = request.params()
        if "status" in params:
            if params["status"] not in SETTABLE:
                raise invalid(f"Param status must be one of {{{', '.join(sorted(SETTABLE))}}}")
            obj["status"] = params["status"]
        for key in ("name", "daily_budget", "lifetime_budget", "spend_cap", "end_time"):
            if key in params:
                obj[key] = params[key]
        obj["updated_time"] = self.state.now().strftime("%Y-%m-%dT%H:%M:%S+0000")
        self._refresh_after_change(kind, obj)
        return json_response({"success": True})

    @route("DELETE", rf"{V}/(?P<object_id>\d+)")
    def delete_object(self, request: Request, object_id: str) -> Response:
        found = self.state.find_any(self.platform, object_id)
        if found is None:
            raise ApiError("not_found", f"Object with ID '{object_id}' does not exist", status=404)
        found[1]["status"] = "DELETED"
        self._refresh_after_change(*found)
        return json_response({"success": True})

    def _refresh_after_change(self, kind: str, obj: dict[str, Any]) -> None:
        if kind == "campaign":
            for adset in self.state.all(self.platform, "adset"):
                if adset["campaign_id"] == obj["id"]:
                    self._refresh_unit(adset["id"])
        elif kind == "adset":
            unit = self.state.unit(self.platform, obj["id"])
            if unit is not None and obj.get("daily_budget"):
                unit.daily_budget = int(obj["daily_budget"])
            self._refresh_unit(obj["id"])
        elif kind == "ad":
            self._refresh_unit(obj["adset_id"])
