"""Meta updates by id (``POST /<id>``): only the fields Graph lets each object change.

An ad's copy cannot be edited: Graph refuses ``object_story_spec`` on an existing creative, so a
new creative is made and the ad is pointed at it (``creative={"creative_id": ...}``), keeping
the ad's id and history. Unknown or read-only fields are refused with Graph's error 100.
"""

from __future__ import annotations

import json
from typing import Any

from adflux.sandbox.http import ApiError, Request, Response, route
from adflux.sandbox.meta.graph import V
from adflux.sandbox.meta.objects import MetaObjects
from adflux.sandbox.meta.validation import invalid

# What POST /<id> takes per object kind (plus status and name on all of them).
UPDATABLE = {
    "campaign": {"spend_cap", "daily_budget", "lifetime_budget", "bid_strategy", "special_ad_categories"},
    "adset": {"daily_budget", "lifetime_budget", "end_time", "targeting", "bid_amount", "bid_strategy"},
    "ad": {"creative"},
    "creative": set(),
}
COMMON = {"status", "name", "access_token", "appsecret_proof", "execution_options"}


class MetaUpdates(MetaObjects):
    """POST /<id> with Graph's per-object field rules; ads switch creative, ad sets retarget."""

    @route("POST", rf"{V}/(?P<object_id>\d+)")
    def update_object(self, request: Request, object_id: str) -> Response:
        found = self.state.find_any(self.platform, object_id)
        if found is None or found[1].get("status") == "DELETED":
            raise ApiError("not_found", f"Object with ID '{object_id}' does not exist", status=404)
        kind, obj = found
        params = request.params()
        allowed = UPDATABLE.get(kind, set()) | COMMON
        unknown = sorted(set(params) - allowed)
        if unknown:
            raise invalid(f"(#100) Param {unknown[0]} cannot be updated on a {kind}")
        if "targeting" in params:
            obj["targeting"] = self._checked_targeting(obj, params["targeting"])
        if "creative" in params:
            obj["creative"] = {"id": self._creative_for(params["creative"], obj)}
        return super().update_object(request, object_id)

    def _checked_targeting(self, adset: dict[str, Any], raw: str) -> dict[str, Any]:
        try:
            targeting = json.loads(raw)
        except ValueError as exc:
            raise invalid("(#100) Param targeting must be a JSON object") from exc
        if not isinstance(targeting, dict) or not targeting.get("geo_locations"):
            raise invalid("(#100) Targeting spec needs geo_locations")
        campaign = self.state.get(self.platform, "campaign", adset["campaign_id"]) or {}
        if "EMPLOYMENT" in (campaign.get("special_ad_categories") or []):
            forbidden = {"genders", "zips", "excluded_geo_locations"} & set(targeting)
            forbidden |= {
                k for k in ("age_min", "age_max") if k in targeting and targeting[k] not in (18, 65)
            }
            if forbidden:
                raise invalid(f"(#100) Employment ads cannot target by {', '.join(sorted(forbidden))}")
        return targeting

    def _creative_for(self, raw: str, ad: dict[str, Any]) -> str:
        try:
            creative_id = str(json.loads(raw)["creative_id"])
        except (ValueError, KeyError, TypeError) as exc:
            raise invalid('(#100) Param creative must be {"creative_id": <id>}') from exc
        creative = self.state.get(self.platform, "creative", creative_id)
        if creative is None:
            raise invalid(f"(#100) Creative {creative_id} does not exist")
        ad["_review"] = "PENDING_REVIEW"  # new copy is reviewed again, as on Meta
        return creative_id
