"""Meta Marketing API emulation (Graph API vNN.0, form-encoded, act_ accounts, numeric ids)."""

from __future__ import annotations

import json
import logging
import math
import re
import unicodedata
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from adflux.sandbox.api import PlatformApi, decode_cursor, encode_cursor, loads_maybe, url_with
from adflux.sandbox.http import ApiError, Request, Response, json_response, route
from adflux.sandbox.simulator import DayMetrics, campaign_days
from adflux.sandbox.state import SandboxState, Unit

logger = logging.getLogger(__name__)

V = r"/v\d+\.\d+"
OBJECTIVES = {
    "OUTCOME_TRAFFIC": "traffic",
    "OUTCOME_LEADS": "leads",
    "OUTCOME_AWARENESS": "traffic",
    "OUTCOME_ENGAGEMENT": "traffic",
    "OUTCOME_SALES": "leads",
    "OUTCOME_APP_PROMOTION": "traffic",
}
CATEGORIES = {
    "NONE",
    "EMPLOYMENT",
    "HOUSING",
    "CREDIT",
    "FINANCIAL_PRODUCTS_SERVICES",
    "ISSUES_ELECTIONS_POLITICS",
    "ONLINE_GAMBLING_AND_GAMING",
}
SETTABLE = {"ACTIVE", "PAUSED", "ARCHIVED", "DELETED"}
# Employment ads: cities and pins are expanded to at least 15 miles.
MIN_RADIUS_KM = 15 * 1.609344
# Wording a reviewer would reject in a job ad (discrimination by age, sex or looks).
DISAPPROVED_PHRASES = (
    "solo hombres",
    "solo mujeres",
    "menores de",
    "mayores de",
    "edad maxima",
    "buena presencia",
    "sexo masculino",
    "sexo femenino",
)
# The sandbox's own subcode for special-ad-category targeting rejections (Meta's is unverified).
SAC_TARGETING_SUBCODE = 1_870_227
APPLICATION_ACTION = "offsite_conversion.fb_pixel_submit_application"


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def _invalid(message: str, title: str = "Invalid parameter", subcode: int | None = None) -> ApiError:
    return ApiError(
        "validation",
        message,
        status=400,
        code=100,
        subcode=subcode,
        extra={"error_user_title": title, "error_user_msg": message},
    )


class MetaApi(PlatformApi):
    """Graph API: /vNN.0/act_<id>/{campaigns,adsets,adcreatives,ads,insights,customaudiences}."""

    platform = "meta"
    prefix = re.compile(rf"^{V}/")

    def __init__(self, state: SandboxState) -> None:
        super().__init__(state)
        state.on_advance.append(self._finish_reviews)

    # -- hooks -----------------------------------------------------------------------------

    def dispatch(self, request: Request) -> Response:
        # The Graph API (and the official SDK, on updates) accepts a trailing slash.
        request.path = request.path.rstrip("/") or "/"
        return super().dispatch(request)

    def token(self, request: Request) -> str | None:
        token = request.arg("access_token")
        if token:
            return token
        auth = request.headers.get("authorization", "")
        for scheme in ("bearer ", "oauth "):
            if auth.lower().startswith(scheme):
                return auth[len(scheme) :].strip()
        return None

    def authenticate(self, request: Request) -> None:
        state = self.state.token_state(self.platform, self.token(request))
        if state == "missing":
            raise ApiError(
                "auth",
                "An active access token must be used to query information about the current user.",
                status=400,
                code=2500,
            )
        if state == "expired":
            raise ApiError(
                "auth",
                "Error validating access token: Session has expired.",
                status=400,
                code=190,
                subcode=463,
            )

    def rate_key(self, request: Request) -> str:
        found = re.search(r"/act_(\d+)", request.path)
        return f"act_{found.group(1)}" if found else (self.token(request) or "anonymous")

    def throttle_error(self, wait: float, request: Request) -> ApiError:
        account = self.rate_key(request)
        minutes = math.ceil(wait / 60) if wait >= 60 else 0
        usage = {
            account.removeprefix("act_"): [
                {
                    "type": "ads_management",
                    "call_count": 100,
                    "total_cputime": 45,
                    "total_time": 60,
                    "estimated_time_to_regain_access": minutes,
                    "ads_api_access_tier": "development_access",
                }
            ]
        }
        headers = {
            "X-Business-Use-Case-Usage": json.dumps(usage),
            "X-Ad-Account-Usage": json.dumps(
                {
                    "acc_id_util_pct": 100,
                    "reset_time_duration": math.ceil(wait),
                    "ads_api_access_tier": "development_access",
                }
            ),
        }
        return ApiError(
            "throttle",
            "There have been too many calls from this ad-account. Wait a bit and try again.",
            status=400,
            code=80004,
            subcode=2446079,
            extra={"headers": headers},
        )

    def transient_error(self) -> ApiError:
        return ApiError(
            "server",
            "An unexpected error has occurred. Please retry your request later.",
            status=500,
            code=2,
            extra={"is_transient": True},
        )

    def render_error(self, error: ApiError, request: Request) -> Response:
        code = error.code
        if code is None:
            code = {"not_found": 100, "auth": 190, "server": 2, "permission": 200}.get(error.kind, 100)
        status = error.status or 400
        if error.kind == "not_found" and error.status == 404:
            status = 400  # Graph reports unknown objects as 400 code 100 subcode 33
            error.subcode = error.subcode or 33
        payload: dict[str, Any] = {
            "message": error.message,
            "type": "OAuthException"
            if error.kind in ("auth", "throttle", "validation")
            else "GraphMethodException",
            "code": code,
            "is_transient": error.kind in ("throttle", "server"),
            "fbtrace_id": f"A{self.state.ids.token()}",
        }
        if error.subcode is not None:
            payload["error_subcode"] = error.subcode
        for key in ("error_user_title", "error_user_msg"):
            if key in error.extra:
                payload[key] = error.extra[key]
        return json_response({"error": payload}, status, error.extra.get("headers"))

    def decorate(self, response: Response, request: Request) -> Response:
        if "/act_" in request.path:
            pct = round(self.state.usage(self.platform, self.rate_key(request)) * 100, 2)
            response.headers["X-Ad-Account-Usage"] = json.dumps(
                {"acc_id_util_pct": pct, "reset_time_duration": 0, "ads_api_access_tier": "standard_access"}
            )
        return response

    # -- helpers -----------------------------------------------------------------------------

    def _new(self, kind: str, account: str, fields: dict[str, Any]) -> dict[str, Any]:
        now = self.state.now().strftime("%Y-%m-%dT%H:%M:%S+0000")
        obj = {
            "id": self.state.ids.meta(),
            "account_id": account,
            "created_time": now,
            "updated_time": now,
            **fields,
        }
        return self.state.add(self.platform, kind, obj)

    def _require(self, request: Request, *names: str) -> dict[str, str]:
        params = request.params()
        for name in names:
            if not params.get(name):
                raise _invalid(f"The parameter {name} is required", "Missing parameter")
        return params

    def _page(self, request: Request, rows: list[dict[str, Any]], default_limit: int = 25) -> Response:
        limit = int(request.arg("limit") or default_limit)
        offset = decode_cursor(request.arg("after"))
        chunk = rows[offset : offset + limit]
        paging: dict[str, Any] = {
            "cursors": {"before": encode_cursor(offset), "after": encode_cursor(offset + len(chunk))}
        }
        if offset + limit < len(rows):
            paging["next"] = url_with(request, after=encode_cursor(offset + limit), limit=limit)
        if offset > 0:
            paging["previous"] = url_with(request, before=encode_cursor(max(0, offset - limit)))
        return json_response({"data": chunk, "paging": paging})

    def _shape(self, obj: dict[str, Any], request: Request, default: str = "id") -> dict[str, Any]:
        wanted = (request.arg("fields") or default).split(",")
        shaped = {"id": obj["id"]}
        for name in wanted:
            name = name.strip().split("{")[0]
            if name == "effective_status":
                shaped[name] = self._effective_status(obj)
            elif name in obj and not name.startswith("_"):
                shaped[name] = obj[name]
        return shaped

    def _filtered(self, request: Request, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        rows = [row for row in rows if row.get("status") != "DELETED"]
        for rule in loads_maybe(request.arg("filtering"), []) or []:
            field, operator, value = rule.get("field"), rule.get("operator"), rule.get("value")
            if operator == "EQUAL":
                rows = [row for row in rows if str(row.get(field)) == str(value)]
            elif operator == "CONTAIN":
                rows = [row for row in rows if str(value).lower() in str(row.get(field, "")).lower()]
            elif operator == "IN":
                rows = [
                    row for row in rows if row.get(field) in value or self._effective_status(row) in value
                ]
            else:
                raise _invalid(f"Filtering operator {operator} is not supported")
        statuses = loads_maybe(request.arg("effective_status"))
        if statuses:
            rows = [row for row in rows if self._effective_status(row) in statuses]
        return rows

    def _get_obj(self, kind: str, object_id: str) -> dict[str, Any]:
        obj = self.state.get(self.platform, kind, object_id)
        if obj is None or obj.get("status") == "DELETED":
            raise ApiError(
                "not_found",
                f"Unsupported get request. Object with ID '{object_id}' does not exist, "
                "cannot be loaded due to missing permissions, or does not support this operation.",
                status=404,
                code=100,
                subcode=33,
            )
        return obj

    def _effective_status(self, obj: dict[str, Any]) -> str:
        kind = obj.get("_kind")
        if kind == "ad":
            campaign = self.state.get(self.platform, "campaign", obj["campaign_id"]) or {}
            adset = self.state.get(self.platform, "adset", obj["adset_id"]) or {}
            if obj.get("_review") == "DISAPPROVED":
                return "DISAPPROVED"
            if obj["status"] != "ACTIVE":
                return obj["status"]
            if campaign.get("status") != "ACTIVE":
                return "CAMPAIGN_PAUSED"
            if adset.get("status") != "ACTIVE":
                return "ADSET_PAUSED"
            return "PENDING_REVIEW" if obj.get("_review") == "PENDING_REVIEW" else "ACTIVE"
        if kind == "adset" and obj["status"] == "ACTIVE":
            campaign = self.state.get(self.platform, "campaign", obj["campaign_id"]) or {}
            return "ACTIVE" if campaign.get("status") == "ACTIVE" else "CAMPAIGN_PAUSED"
        return str(obj.get("status", "ACTIVE"))

    # -- accounts, tokens, search ----------------------------------------------------------------

    @route("GET", rf"{V}/debug_token")
    def debug_token(self, request: Request) -> Response:
        token = request.arg("input_token") or ""
        valid = self.state.token_state(self.platform, token) == "valid"
        data: dict[str, Any] = {
            "app_id": "1000000000",
            "type": "SYSTEM_USER",
            "application": "AdFlux",
            "is_valid": valid,
            "expires_at": 0,
            "data_access_expires_at": 0,
            "scopes": ["ads_management", "ads_read", "business_management"],
        }
        if not valid:
            data["error"] = {"code": 190, "message": "Session has expired", "subcode": 463}
        return json_response({"data": data})

    @route("GET", rf"{V}/act_(?P<account>\d+)")
    def get_account(self, request: Request, account: str) -> Response:
        obj = {
            "id": f"act_{account}",
            "account_id": account,
            "name": f"Sandbox {account}",
            "account_status": 1,
            "currency": "COP",
            "timezone_name": "America/Bogota",
        }
        return json_response(self._shape(obj, request, "id,account_id"))

    @route("GET", rf"{V}/search")
    def search(self, request: Request) -> Response:
        if request.arg("type") != "adinterest":
            raise _invalid("Unsupported search type")
        query = (request.arg("q") or "").strip()
        if not query:
            return json_response({"data": []})
        interest_id = str(
            6_000_000_000_000 + int.from_bytes(_fold(query).encode()[:6].ljust(6, b"_"), "big") % 10**12
        )
        row = {
            "id": interest_id,
            "name": query.title(),
            "audience_size_lower_bound": 1_200_000,
            "audience_size_upper_bound": 1_400_000,
            "path": ["Interests", query.title()],
            "topic": "Business",
        }
        return json_response({"data": [row]})

    # -- campaigns -------------------------------------------------------------------------------

    @route("POST", rf"{V}/act_(?P<account>\d+)/campaigns")
    def create_campaign(self, request: Request, account: str) -> Response:
        params = self._require(request, "name", "objective")
        if params["objective"] not in OBJECTIVES:
            raise _invalid(f"Param objective must be one of {{{', '.join(OBJECTIVES)}}}")
        categories = loads_maybe(params.get("special_ad_categories"))
        if categories is None:
            raise _invalid(
                "Special ad categories are required. Use NONE or [] if none apply.",
                "Special ad category required",
                subcode=2_490_487,
            )
        if not isinstance(categories, list) or set(categories) - CATEGORIES:
            raise _invalid(f"Invalid special_ad_categories: {categories}")
        countries = loads_maybe(params.get("special_ad_category_country"), []) or []
        if set(categories) - {"NONE"} and not countries:
            raise _invalid(
                "special_ad_category_country is required when a special ad category is selected",
                "Country required for special ad category",
                subcode=3_858_495,
            )
        status = params.get("status", "ACTIVE")
        if status not in ("ACTIVE", "PAUSED"):
            raise _invalid("Param status must be one of {ACTIVE, PAUSED}")
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
        budget = params.get("daily_budget") or params.get("lifetime_budget")
        if not budget and not campaign.get("daily_budget") and not campaign.get("lifetime_budget"):
            raise _invalid("An ad set needs a daily_budget or lifetime_budget", "Budget required")
        if budget and int(budget) < 1_000:
            raise _invalid(
                "The daily budget is too low: the minimum for COP is 1000",
                "Budget too low",
                subcode=1_885_272,
            )
        targeting = loads_maybe(params["targeting"], {})
        if not isinstance(targeting, dict):
            raise _invalid("targeting must be a JSON object")
        self._check_targeting(campaign, targeting)
        if params["optimization_goal"] == "OFFSITE_CONVERSIONS" and not params.get("promoted_object"):
            raise _invalid("promoted_object with a pixel_id is required for OFFSITE_CONVERSIONS")
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
        self.state.put_unit(
            Unit(
                platform=self.platform,
                account=account,
                campaign_id=campaign["id"],
                group_id=adset["id"],
                daily_budget=int(budget or 0) or 20_000,
                objective=OBJECTIVES[campaign["objective"]],
                campaign_cap=int(campaign["spend_cap"]) if campaign.get("spend_cap") else None,
                interests=tuple(
                    item.get("name", "")
                    for spec in targeting.get("flexible_spec", [])
                    for item in spec.get("interests", [])
                ),
                cities=tuple(
                    loc.get("name", "")
                    for loc in targeting.get("geo_locations", {}).get("custom_locations", [])
                ),
                custom_audience=bool(targeting.get("custom_audiences")),
                texts=[campaign["name"]],
                start=_day(params.get("start_time")),
                end=_day(params.get("end_time")),
            )
        )
        self._refresh_unit(adset["id"])
        return json_response({"id": adset["id"]})

    def _check_targeting(self, campaign: dict[str, Any], targeting: dict[str, Any]) -> None:
        geo = targeting.get("geo_locations") or {}
        if not geo and not targeting.get("custom_audiences"):
            raise _invalid("Targeting needs at least one location in geo_locations", "Location required")
        if "EMPLOYMENT" not in campaign.get("special_ad_categories", []):
            return
        problems = []
        if targeting.get("genders") not in (None, [], [0], [1, 2]):
            problems.append("gender targeting is not available")
        if int(targeting.get("age_min", 18)) > 18 or int(targeting.get("age_max", 65)) < 65:
            problems.append("age must be 18 to 65+")
        if geo.get("zips"):
            problems.append("ZIP/postal code targeting is not available")
        if targeting.get("excluded_geo_locations"):
            problems.append("locations cannot be excluded")
        if targeting.get("exclusions") or targeting.get("excluded_custom_audiences"):
            problems.append("audience exclusions are not available")
        for location in geo.get("custom_locations", []) + geo.get("cities", []):
            radius = float(location.get("radius", MIN_RADIUS_KM))
            km = radius * 1.609344 if location.get("distance_unit", "mile") == "mile" else radius
            if km < MIN_RADIUS_KM - 0.01:
                problems.append("cities and pins need a radius of at least 15 miles")
        for audience in targeting.get("custom_audiences", []):
            found = self.state.get(self.platform, "audience", str(audience.get("id")))
            if found and found.get("subtype") == "LOOKALIKE":
                problems.append("lookalike audiences are not available")
        if problems:
            raise _invalid(
                "Your ad set targets options that aren't available for ads in the Employment special ad "
                "category: " + "; ".join(problems) + ".",
                "Targeting not available for special ad category",
                subcode=SAC_TARGETING_SUBCODE,
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
            raise _invalid(f"Tried accessing nonexisting field ({edge}) on node type ({parent_kind})")
        rows = [obj for obj in self.state.all(self.platform, kind) if obj.get(link) == parent]
        return self._page(request, [self._shape(row, request) for row in self._filtered(request, rows)])

    # -- creatives and ads ---------------------------------------------------------------------

    @route("POST", rf"{V}/act_(?P<account>\d+)/adcreatives")
    def create_creative(self, request: Request, account: str) -> Response:
        params = self._require(request, "object_story_spec")
        spec = loads_maybe(params["object_story_spec"], {})
        link_data = spec.get("link_data") or {}
        if not spec.get("page_id"):
            raise _invalid("object_story_spec requires page_id")
        if not link_data.get("link"):
            raise _invalid("link_data requires link", "Missing link")
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
            text = _fold(json.dumps(creative.get("object_story_spec", {}), ensure_ascii=False))
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
        job = self.state.jobs.get(object_id)
        if job is not None:
            return json_response(self._poll_report(job))
        found = self.state.find_any(self.platform, object_id)
        if found is None or found[1].get("status") == "DELETED":
            raise ApiError("not_found", f"Object with ID '{object_id}' does not exist", status=404)
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
                raise _invalid(f"Param status must be one of {{{', '.join(sorted(SETTABLE))}}}")
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

    # -- insights ---------------------------------------------------------------------------------

    def _units_under(self, object_id: str, account: str | None = None) -> tuple[str, list[Unit]]:
        units = [unit for unit in self.state.units.values() if unit.platform == self.platform]
        if account is not None:
            return "account", [unit for unit in units if unit.account == account]
        found = self.state.find_any(self.platform, object_id)
        if found is None:
            raise ApiError("not_found", f"Object with ID '{object_id}' does not exist", status=404)
        kind, obj = found
        if kind == "campaign":
            return kind, [unit for unit in units if unit.campaign_id == object_id]
        if kind == "adset":
            return kind, [unit for unit in units if unit.group_id == object_id]
        if kind == "ad":
            return kind, [unit for unit in units if unit.group_id == obj["adset_id"]]
        raise _invalid(f"Insights are not available on a {kind}")

    def _insight_rows(
        self, params: dict[str, str], object_level: str, units: list[Unit]
    ) -> list[dict[str, Any]]:
        since, until = self._time_range(params)
        level = params.get("level") or object_level
        if level == "account":
            level = "account"
        increment = params.get("time_increment", "all_days")
        raw_fields = loads_maybe(params.get("fields"), "impressions,spend")
        if isinstance(raw_fields, str):
            raw_fields = raw_fields.split(",")
        fields = [str(name).strip() for name in raw_fields if str(name).strip()]
        by_campaign: dict[str, list[Unit]] = defaultdict(list)
        for unit in units:
            by_campaign[unit.campaign_id].append(unit)
        buckets: dict[tuple[str, date], DayMetrics] = {}
        keys: dict[str, dict[str, str]] = {}
        for campaign_id, group in by_campaign.items():
            per_group = campaign_days(group, since, until, self.state.today)
            for unit in group:
                key = {"campaign": campaign_id, "adset": unit.group_id, "ad": unit.group_id}.get(
                    level, unit.account
                )
                keys[key] = {
                    "campaign_id": campaign_id,
                    "adset_id": unit.group_id,
                    "account_id": unit.account,
                }
                for day, metrics in per_group[unit.group_id].items():
                    bucket_day = day if increment in ("1", 1) else since
                    current = buckets.get((key, bucket_day), DayMetrics.zero())
                    buckets[(key, bucket_day)] = DayMetrics(
                        *(a + b for a, b in zip(_astuple(current), _astuple(metrics), strict=True))
                    )
        rows = []
        for (key, day), metrics in sorted(buckets.items(), key=lambda item: (item[0][1], item[0][0])):
            stop = day if increment in ("1", 1) else until
            rows.append(self._insight_row(level, keys[key], day, stop, metrics, fields))
        return rows

    def _insight_row(
        self, level: str, ids: dict[str, str], start: date, stop: date, metrics: DayMetrics, fields: list[str]
    ) -> dict[str, Any]:
        spend = metrics.spend_micros / 1_000_000
        all_clicks = metrics.clicks + max(0, metrics.engagements - metrics.clicks) // 2
        values: dict[str, Any] = {
            "account_id": ids["account_id"],
            "campaign_id": ids["campaign_id"],
            "impressions": str(metrics.impressions),
            "reach": str(metrics.reach),
            "clicks": str(all_clicks),
            "inline_link_clicks": str(metrics.clicks),
            "spend": f"{spend:.2f}",
            "ctr": f"{(100 * all_clicks / metrics.impressions) if metrics.impressions else 0:.6f}",
            "cpc": f"{(spend / all_clicks) if all_clicks else 0:.6f}",
            "actions": [
                {"action_type": "link_click", "value": str(metrics.clicks)},
                {"action_type": APPLICATION_ACTION, "value": str(metrics.applications)},
            ],
        }
        if level in ("adset", "ad"):
            adset = self.state.get(self.platform, "adset", ids["adset_id"]) or {}
            values.update({"adset_id": ids["adset_id"], "adset_name": adset.get("name", "")})
        campaign = self.state.get(self.platform, "campaign", ids["campaign_id"]) or {}
        values["campaign_name"] = campaign.get("name", "")
        row = {name: values[name] for name in fields if name in values}
        row.update({"date_start": start.isoformat(), "date_stop": stop.isoformat()})
        return row

    def _time_range(self, params: dict[str, str]) -> tuple[date, date]:
        time_range = loads_maybe(params.get("time_range"))
        if isinstance(time_range, dict):
            return date.fromisoformat(time_range["since"]), date.fromisoformat(time_range["until"])
        preset = params.get("date_preset", "last_30d")
        yesterday = self.state.today - timedelta(days=1)
        days = {
            "yesterday": 1,
            "last_7d": 7,
            "last_14d": 14,
            "last_28d": 28,
            "last_30d": 30,
            "last_90d": 90,
            "maximum": 365 * 3,
        }.get(preset, 30)
        return yesterday - timedelta(days=days - 1), yesterday

    @route("GET", rf"{V}/(?P<object_id>act_\d+|\d+)/insights")
    def get_insights(self, request: Request, object_id: str) -> Response:
        job = self.state.jobs.get(object_id)
        if job is not None:
            if job["async_status"] != "Job Completed":
                raise _invalid("Report run is not complete yet")
            return self._page(request, job["rows"])
        account = object_id.removeprefix("act_") if object_id.startswith("act_") else None
        level, units = self._units_under(object_id, account)
        return self._page(request, self._insight_rows(request.params(), level, units))

    @route("POST", rf"{V}/(?P<object_id>act_\d+|\d+)/insights")
    def create_report_run(self, request: Request, object_id: str) -> Response:
        account = object_id.removeprefix("act_") if object_id.startswith("act_") else None
        level, units = self._units_under(object_id, account)
        rows = self._insight_rows(request.params(), level, units)
        run_id = self.state.ids.meta()
        self.state.jobs[run_id] = {
            "id": run_id,
            "account_id": account or "",
            "async_status": "Job Not Started",
            "async_percent_completion": 0,
            "rows": rows,
            "polls": 0,
            "date_start": request.params().get("time_range", ""),
        }
        return json_response({"report_run_id": run_id})

    def _poll_report(self, job: dict[str, Any]) -> dict[str, Any]:
        job["polls"] += 1
        if job["polls"] >= self.state.report_polls:
            job["async_status"], job["async_percent_completion"] = "Job Completed", 100
        else:
            job["async_status"] = "Job Running"
            job["async_percent_completion"] = int(100 * job["polls"] / self.state.report_polls)
        return {key: value for key, value in job.items() if key not in ("rows", "polls")}

    # -- custom audiences ---------------------------------------------------------------------------

    @route("POST", rf"{V}/act_(?P<account>\d+)/customaudiences")
    def create_audience(self, request: Request, account: str) -> Response:
        params = self._require(request, "name")
        subtype = params.get("subtype", "CUSTOM")
        audience = self._new(
            "audience",
            account,
            {
                "_kind": "audience",
                "name": params["name"],
                "subtype": subtype,
                "description": params.get("description", ""),
                "approximate_count_lower_bound": 0,
                "_hashes": set(),
            },
        )
        return json_response({"id": audience["id"]})

    @route("POST", rf"{V}/(?P<audience_id>\d+)/users")
    def add_users(self, request: Request, audience_id: str) -> Response:
        audience = self._get_obj("audience", audience_id)
        payload = loads_maybe(request.arg("payload"), {})
        schema = payload.get("schema")
        if schema not in ("EMAIL_SHA256", ["EMAIL_SHA256"]):
            raise _invalid("payload.schema must be EMAIL_SHA256")
        data = payload.get("data") or []
        invalid = 0
        for row in data:
            value = row[0] if isinstance(row, list) and row else row
            if isinstance(value, str) and re.fullmatch(r"[0-9a-f]{64}", value):
                audience["_hashes"].add(value)
            else:
                invalid += 1
        audience["approximate_count_lower_bound"] = len(audience["_hashes"])
        return json_response(
            {
                "audience_id": audience_id,
                "session_id": self.state.ids.meta(),
                "num_received": len(data),
                "num_invalid_entries": invalid,
                "invalid_entry_samples": {},
            }
        )


def _astuple(metrics: DayMetrics) -> tuple[int, ...]:
    return (
        metrics.impressions,
        metrics.reach,
        metrics.clicks,
        metrics.engagements,
        metrics.spend_micros,
        metrics.applications,
    )


def _day(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None
