"""X Ads API v12 emulation: OAuth 1.0a HMAC-SHA1 verified, base-36 ids, async stats jobs as gzip files."""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import math
import re
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

from oauthlib.common import Request as OAuthRequest
from oauthlib.oauth1.rfc5849 import signature, utils

from adflux.sandbox.api import PlatformApi, decode_cursor, encode_cursor
from adflux.sandbox.http import ApiError, Request, Response, json_response, route
from adflux.sandbox.simulator import campaign_days
from adflux.sandbox.state import SandboxState, Unit

logger = logging.getLogger(__name__)

# The OAuth 1.0a app and user the sandbox knows (signatures are really verified).
SANDBOX_CREDENTIALS = {
    "consumer_key": "sandbox-consumer-key",
    "consumer_secret": "sandbox-consumer-secret",
    "access_token": "sandbox-access-token",
    "access_token_secret": "sandbox-access-token-secret",
}
ACC = r"/12/accounts/(?P<account>[0-9a-z]+)"
ENTITY_STATUSES = ("ACTIVE", "PAUSED", "DRAFT")
OBJECTIVES = (
    "WEBSITE_CLICKS",
    "ENGAGEMENTS",
    "REACH",
    "VIDEO_VIEWS",
    "FOLLOWERS",
    "APP_INSTALLS",
    "APP_ENGAGEMENTS",
    "PREROLL_VIEWS",
    "WEBSITE_CONVERSIONS",
)


def _invalid(message: str, parameter: str | None = None) -> ApiError:
    return ApiError(
        "validation", message, status=400, code="INVALID_PARAMETER", extra={"parameter": parameter}
    )


class XApi(PlatformApi):
    """ads-api.x.com/12/... with OAuth 1.0a."""

    platform = "x"
    prefix = re.compile(r"^/12/")

    def __init__(self, state: SandboxState) -> None:
        super().__init__(state)
        self.apps = {SANDBOX_CREDENTIALS["consumer_key"]: SANDBOX_CREDENTIALS["consumer_secret"]}
        self.tokens = {SANDBOX_CREDENTIALS["access_token"]: SANDBOX_CREDENTIALS["access_token_secret"]}

    # -- hooks -------------------------------------------------------------------------------

    def _oauth_params(self, request: Request) -> dict[str, str]:
        header = request.headers.get("authorization", "")
        if not header.lower().startswith("oauth "):
            return {}
        return dict(utils.parse_authorization_header(header))

    def token(self, request: Request) -> str | None:
        return self._oauth_params(request).get("oauth_token")

    def authenticate(self, request: Request) -> None:
        params = self._oauth_params(request)
        consumer_secret = self.apps.get(params.get("oauth_consumer_key", ""))
        token_secret = self.tokens.get(params.get("oauth_token", ""))
        if consumer_secret is None or token_secret is None:
            raise ApiError(
                "auth", "This request is not properly authenticated", status=401, code="UNAUTHORIZED_ACCESS"
            )
        body = request.body.decode() if request.content_type == "application/x-www-form-urlencoded" else ""
        collected = signature.collect_parameters(
            uri_query=request.raw_query,
            body=parse_qsl(body, keep_blank_values=True),
            headers={"Authorization": request.headers["authorization"]},
            exclude_oauth_signature=True,
        )
        oauth_request = OAuthRequest(f"{request.host_url}{request.path}", request.method)
        oauth_request.params = collected
        oauth_request.signature = utils.unescape(params.get("oauth_signature", ""))
        if not signature.verify_hmac_sha1(oauth_request, consumer_secret, token_secret):
            raise ApiError("auth", "The OAuth signature is invalid", status=401, code="UNAUTHORIZED_ACCESS")
        if self.state.token_state(self.platform, params["oauth_token"]) != "valid":
            raise ApiError(
                "auth",
                "This request is not properly authenticated: token expired or revoked",
                status=401,
                code="UNAUTHORIZED_ACCESS",
            )

    def rate_key(self, request: Request) -> str:
        return self.token(request) or "anonymous"

    def throttle_error(self, wait: float, request: Request) -> ApiError:
        reset = math.ceil(time.time() + wait)
        return ApiError(
            "throttle",
            "Rate limit exceeded",
            status=429,
            code="TOO_MANY_REQUESTS",
            extra={
                "headers": {
                    "x-rate-limit-limit": "450",
                    "x-rate-limit-remaining": "0",
                    "x-rate-limit-reset": str(reset),
                }
            },
        )

    def transient_error(self) -> ApiError:
        return ApiError(
            "server",
            "Service unavailable due to request timeout; please try the request again.",
            status=503,
            code="SERVICE_UNAVAILABLE",
        )

    def render_error(self, error: ApiError, request: Request) -> Response:
        code = error.code or {
            "not_found": "NOT_FOUND",
            "validation": "INVALID_PARAMETER",
            "auth": "UNAUTHORIZED_ACCESS",
        }.get(error.kind, "INTERNAL_ERROR")
        item: dict[str, Any] = {"code": code, "message": error.message}
        if error.extra.get("parameter"):
            item["parameter"] = error.extra["parameter"]
        payload = {"errors": [item], "request": {"params": {}}}
        return json_response(payload, error.status or 400, error.extra.get("headers"))

    def decorate(self, response: Response, request: Request) -> Response:
        remaining = max(0, int(450 * (1 - self.state.usage(self.platform, self.rate_key(request)))))
        response.headers.update(
            {
                "x-rate-limit-limit": "450",
                "x-rate-limit-remaining": str(remaining),
                "x-rate-limit-reset": str(int(time.time()) + 900),
            }
        )
        return response

    # -- helpers ---------------------------------------------------------------------------------

    def _ok(self, data: Any, request: Request, **extra: Any) -> Response:
        return json_response({"data": data, "request": {"params": request.params()}, **extra})

    def _params(self, request: Request, *required: str) -> dict[str, str]:
        params = request.params()
        if request.content_type == "application/json" and request.body:
            params.update(
                {key: value for key, value in request.json().items() if not isinstance(value, list | dict)}
            )
        for name in required:
            if not params.get(name):
                raise _invalid(f"{name} is missing", name)
        return params

    def _new(self, kind: str, account: str, fields: dict[str, Any]) -> dict[str, Any]:
        stamp = self.state.now().strftime("%Y-%m-%dT%H:%M:%SZ")
        new_id = self.state.ids.tweet() if kind == "tweet" else self.state.ids.x()
        obj = {
            "id": new_id,
            "account_id": account,
            "created_at": stamp,
            "updated_at": stamp,
            "deleted": False,
            **fields,
        }
        if kind == "tweet":
            obj["id_str"] = new_id
        return self.state.add(self.platform, kind, obj)

    def _get(self, kind: str, account: str, object_id: str) -> dict[str, Any]:
        obj = self.state.get(self.platform, kind, object_id)
        if obj is None or obj["account_id"] != account or obj.get("deleted"):
            raise ApiError("not_found", f"The {kind} {object_id} was not found", status=404, code="NOT_FOUND")
        return obj

    def _list(self, request: Request, kind: str, account: str, filters: dict[str, str]) -> Response:
        rows = [
            obj
            for obj in self.state.all(self.platform, kind)
            if obj["account_id"] == account and not obj.get("deleted")
        ]
        if request.arg("with_draft") != "true":
            rows = [obj for obj in rows if obj.get("entity_status") != "DRAFT"]
        for param, field in filters.items():
            wanted = request.arg(param)
            if wanted:
                values = set(wanted.split(","))
                rows = [obj for obj in rows if str(obj.get(field)) in values]
        prefix = request.arg("q")
        if prefix:
            rows = [obj for obj in rows if str(obj.get("name", "")).lower().startswith(prefix.lower())]
        count = int(request.arg("count") or 200)
        offset = decode_cursor(request.arg("cursor"))
        chunk = rows[offset : offset + count]
        next_cursor = encode_cursor(offset + count) if offset + count < len(rows) else None
        return self._ok(
            [_public(obj) for obj in chunk], request, next_cursor=next_cursor, total_count=len(rows)
        )

    # -- accounts --------------------------------------------------------------------------------

    @route("GET", ACC)
    def get_account(self, request: Request, account: str) -> Response:
        return self._ok(
            {
                "id": account,
                "name": f"Sandbox {account}",
                "timezone": "America/Bogota",
                "approval_status": "ACCEPTED",
                "currency": "COP",
                "deleted": False,
            },
            request,
        )

    @route("GET", rf"{ACC}/funding_instruments")
    def funding_instruments(self, request: Request, account: str) -> Response:
        existing = [
            obj for obj in self.state.all(self.platform, "funding_instrument") if obj["account_id"] == account
        ]
        if not existing:
            existing = [
                self._new(
                    "funding_instrument",
                    account,
                    {
                        "name": "Sandbox credit line",
                        "type": "CREDIT_LINE",
                        "currency": "COP",
                        "entity_status": "ACTIVE",
                        "able_to_fund": True,
                    },
                )
            ]
        return self._ok(
            [_public(obj) for obj in existing], request, next_cursor=None, total_count=len(existing)
        )

    @route("GET", r"/12/targeting_criteria/locations")
    def locations(self, request: Request) -> Response:
        query = (request.arg("q") or "").strip()
        if not query:
            return self._ok([], request, next_cursor=None)
        value = hashlib.sha256(f"loc:{query.lower()}".encode()).hexdigest()[:16]
        return self._ok(
            [
                {
                    "name": query.title(),
                    "country_code": request.arg("country_code") or "CO",
                    "location_type": request.arg("location_type") or "CITIES",
                    "targeting_value": value,
                    "targeting_type": "LOCATION",
                }
            ],
            request,
            next_cursor=None,
        )

    # -- campaigns and line items -------------------------------------------------------------------

    @route("POST", rf"{ACC}/campaigns")
    def create_campaign(self, request: Request, account: str) -> Response:
        params = self._params(request, "name", "funding_instrument_id")
        self._get("funding_instrument", account, params["funding_instrument_id"])
        daily = int(params.get("daily_budget_amount_local_micro") or 0)
        if daily <= 0:
            raise _invalid(
                "daily_budget_amount_local_micro must be greater than 0", "daily_budget_amount_local_micro"
            )
        status = params.get("entity_status", "ACTIVE")
        if status not in ENTITY_STATUSES:
            raise _invalid(f"entity_status must be one of {ENTITY_STATUSES}", "entity_status")
        campaign = self._new(
            "campaign",
            account,
            {
                "name": params["name"],
                "funding_instrument_id": params["funding_instrument_id"],
                "daily_budget_amount_local_micro": daily,
                "entity_status": status,
                "currency": "COP",
                "total_budget_amount_local_micro": int(params.get("total_budget_amount_local_micro") or 0)
                or None,
                "start_time": params.get("start_time"),
                "end_time": params.get("end_time"),
            },
        )
        return self._ok(_public(campaign), request)

    @route("GET", rf"{ACC}/campaigns")
    def list_campaigns(self, request: Request, account: str) -> Response:
        return self._list(request, "campaign", account, {"campaign_ids": "id"})

    @route("POST", rf"{ACC}/line_items")
    def create_line_item(self, request: Request, account: str) -> Response:
        params = self._params(request, "campaign_id", "name", "objective", "product_type", "placements")
        campaign = self._get("campaign", account, params["campaign_id"])
        if params["objective"] not in OBJECTIVES:
            raise _invalid(f"objective must be one of {OBJECTIVES}", "objective")
        siblings = [
            obj
            for obj in self.state.all(self.platform, "line_item")
            if obj["campaign_id"] == campaign["id"] and not obj.get("deleted")
        ]
        if any(obj["objective"] != params["objective"] for obj in siblings):
            raise _invalid("Line items with different objectives cannot share a campaign", "objective")
        if not params.get("bid_amount_local_micro") and params.get("bid_strategy", "AUTO") != "AUTO":
            raise _invalid(
                "bid_amount_local_micro is required unless bid_strategy is AUTO", "bid_amount_local_micro"
            )
        line_item = self._new(
            "line_item",
            account,
            {
                "campaign_id": campaign["id"],
                "name": params["name"],
                "objective": params["objective"],
                "product_type": params["product_type"],
                "placements": params["placements"].split(","),
                "bid_strategy": params.get("bid_strategy", "AUTO"),
                "entity_status": params.get("entity_status", "ACTIVE"),
                "start_time": params.get("start_time"),
                "end_time": params.get("end_time"),
                "daily_budget_amount_local_micro": campaign["daily_budget_amount_local_micro"],
            },
        )
        share = int(params.get("total_budget_amount_local_micro") or 0)
        self.state.put_unit(
            Unit(
                platform=self.platform,
                account=account,
                campaign_id=campaign["id"],
                group_id=line_item["id"],
                daily_budget=0,
                objective="leads" if params["objective"] == "WEBSITE_CONVERSIONS" else "traffic",
                texts=[campaign["name"], params["name"]],
                start=_day(params.get("start_time")),
                end=_day(params.get("end_time")),
            )
        )
        line_item["_budget_hint"] = share
        self._refresh_campaign(campaign["id"])
        return self._ok(_public(line_item), request)

    @route("GET", rf"{ACC}/line_items")
    def list_line_items(self, request: Request, account: str) -> Response:
        return self._list(
            request, "line_item", account, {"campaign_ids": "campaign_id", "line_item_ids": "id"}
        )

    @route("PUT", rf"{ACC}/(?P<collection>campaigns|line_items)/(?P<object_id>[0-9a-z]+)")
    def update(self, request: Request, account: str, collection: str, object_id: str) -> Response:
        kind = collection[:-1]
        obj = self._get(kind, account, object_id)
        params = self._params(request)
        if "entity_status" in params:
            if params["entity_status"] not in ENTITY_STATUSES:
                raise _invalid(f"entity_status must be one of {ENTITY_STATUSES}", "entity_status")
            obj["entity_status"] = params["entity_status"]
        for key in ("name", "daily_budget_amount_local_micro", "end_time"):
            if key in params:
                obj[key] = params[key]
        self._refresh_campaign(obj["id"] if kind == "campaign" else obj["campaign_id"])
        return self._ok(_public(obj), request)

    @route("DELETE", rf"{ACC}/(?P<collection>campaigns|line_items)/(?P<object_id>[0-9a-z]+)")
    def delete(self, request: Request, account: str, collection: str, object_id: str) -> Response:
        kind = collection[:-1]
        obj = self._get(kind, account, object_id)
        obj["deleted"] = True
        self._refresh_campaign(obj["id"] if kind == "campaign" else obj["campaign_id"])
        return self._ok(_public(obj), request)

    def _refresh_campaign(self, campaign_id: str) -> None:
        campaign = self.state.get(self.platform, "campaign", campaign_id)
        if campaign is None:
            return
        items = [
            obj for obj in self.state.all(self.platform, "line_item") if obj["campaign_id"] == campaign_id
        ]
        live_items = [obj for obj in items if not obj.get("deleted")] or items
        daily = int(campaign["daily_budget_amount_local_micro"]) // 1_000_000
        for item in items:
            unit = self.state.unit(self.platform, item["id"])
            if unit is None:
                continue
            unit.daily_budget = daily // max(1, len(live_items))
            total = campaign.get("total_budget_amount_local_micro")
            unit.campaign_cap = int(total) // 1_000_000 if total else None
            criteria = [
                c
                for c in self.state.all(self.platform, "targeting_criterion")
                if c["line_item_id"] == item["id"]
            ]
            unit.interests = tuple(
                c["targeting_value"] for c in criteria if c["targeting_type"] == "BROAD_KEYWORD"
            )
            unit.custom_audience = any(c["targeting_type"] == "CUSTOM_AUDIENCE" for c in criteria)
            promoted = [
                p
                for p in self.state.all(self.platform, "promoted_tweet")
                if p["line_item_id"] == item["id"] and not p.get("deleted")
            ]
            tweets = [self.state.get(self.platform, "tweet", p["tweet_id"]) or {} for p in promoted]
            unit.texts = [campaign["name"], item["name"], *(t.get("full_text", "") for t in tweets)]
            active = (
                campaign["entity_status"] == "ACTIVE"
                and not campaign.get("deleted")
                and item["entity_status"] == "ACTIVE"
                and not item.get("deleted")
                and bool(promoted)
            )
            self.state.set_active(self.platform, item["id"], active)

    # -- targeting, tweets, promoted tweets ----------------------------------------------------------

    @route("POST", rf"{ACC}/targeting_criteria")
    def create_criterion(self, request: Request, account: str) -> Response:
        params = self._params(request, "line_item_id", "targeting_type", "targeting_value")
        item = self._get("line_item", account, params["line_item_id"])
        criterion = self._new(
            "targeting_criterion",
            account,
            {
                "line_item_id": item["id"],
                "targeting_type": params["targeting_type"],
                "targeting_value": params["targeting_value"],
                "operator_type": params.get("operator_type", "EQ"),
            },
        )
        self._refresh_campaign(item["campaign_id"])
        return self._ok(_public(criterion), request)

    @route("GET", rf"{ACC}/targeting_criteria")
    def list_criteria(self, request: Request, account: str) -> Response:
        if not request.arg("line_item_ids"):
            raise _invalid("line_item_ids is missing", "line_item_ids")
        return self._list(request, "targeting_criterion", account, {"line_item_ids": "line_item_id"})

    @route("POST", rf"{ACC}/tweet")
    def create_tweet(self, request: Request, account: str) -> Response:
        params = self._params(request, "text")
        if len(params["text"]) > 280:
            raise _invalid("Tweet text is over 280 characters", "text")
        tweet = self._new(
            "tweet",
            account,
            {
                "full_text": params["text"],
                "name": params.get("name"),
                "nullcast": params.get("nullcast", "true") == "true",
                "card_uri": params.get("card_uri"),
            },
        )
        return self._ok(_public(tweet), request)

    @route("GET", rf"{ACC}/tweets")
    def list_tweets(self, request: Request, account: str) -> Response:
        return self._list(request, "tweet", account, {"tweet_ids": "id"})

    @route("POST", rf"{ACC}/promoted_tweets")
    def promote(self, request: Request, account: str) -> Response:
        params = self._params(request, "line_item_id", "tweet_ids")
        item = self._get("line_item", account, params["line_item_id"])
        created = []
        for tweet_id in params["tweet_ids"].split(","):
            self._get("tweet", account, tweet_id)
            created.append(
                _public(
                    self._new(
                        "promoted_tweet",
                        account,
                        {
                            "line_item_id": item["id"],
                            "tweet_id": tweet_id,
                            "entity_status": "ACTIVE",
                            "approval_status": "ACCEPTED",
                        },
                    )
                )
            )
        self._refresh_campaign(item["campaign_id"])
        return self._ok(created, request)

    @route("GET", rf"{ACC}/promoted_tweets")
    def list_promoted(self, request: Request, account: str) -> Response:
        return self._list(request, "promoted_tweet", account, {"line_item_ids": "line_item_id"})

    # -- audiences -----------------------------------------------------------------------------------

    @route("POST", rf"{ACC}/custom_audiences")
    def create_audience(self, request: Request, account: str) -> Response:
        params = self._params(request, "name")
        audience = self._new(
            "custom_audience",
            account,
            {"name": params["name"], "audience_type": "WEB", "_hashes": set(), "audience_size": 0},
        )
        return self._ok(_public(audience), request)

    @route("GET", rf"{ACC}/custom_audiences")
    def list_audiences(self, request: Request, account: str) -> Response:
        return self._list(request, "custom_audience", account, {"custom_audience_ids": "id"})

    @route("POST", rf"{ACC}/custom_audiences/(?P<audience_id>[0-9a-z]+)/users")
    def add_users(self, request: Request, account: str, audience_id: str) -> Response:
        audience = self._get("custom_audience", account, audience_id)
        total = 0
        for operation in request.json():
            if operation.get("operation_type") not in ("Update", "Delete"):
                raise _invalid("operation_type must be Update or Delete", "operation_type")
            for user in operation.get("params", {}).get("users", []):
                for digest in user.get("email", []):
                    if not re.fullmatch(r"[0-9a-f]{64}", digest):
                        raise _invalid("email values must be SHA-256 hex digests", "email")
                    audience["_hashes"].add(digest)
                    total += 1
        audience["audience_size"] = len(audience["_hashes"])
        return self._ok({"success_count": total, "total_count": total}, request)

    # -- analytics --------------------------------------------------------------------------------------

    @route("POST", r"/12/stats/jobs/accounts/(?P<account>[0-9a-z]+)")
    def create_job(self, request: Request, account: str) -> Response:
        params = self._params(
            request,
            "entity",
            "entity_ids",
            "start_time",
            "end_time",
            "granularity",
            "metric_groups",
            "placement",
        )
        if params["entity"] != "LINE_ITEM":
            raise _invalid("The sandbox emulates entity=LINE_ITEM", "entity")
        start, end = _day(params["start_time"]), _day(params["end_time"])
        if start is None or end is None or end <= start or (end - start).days > 90:
            raise _invalid("start_time and end_time must span 1 to 90 days", "start_time")
        job_id = str(int(self.state.ids.tweet()) + 7)
        self.state.jobs[job_id] = {
            "id": job_id,
            "id_str": job_id,
            "account_id": account,
            "status": "PROCESSING",
            "url": None,
            "entity": "LINE_ITEM",
            "entity_ids": params["entity_ids"].split(","),
            "start_time": params["start_time"],
            "end_time": params["end_time"],
            "granularity": params["granularity"],
            "metric_groups": params["metric_groups"].split(","),
            "placement": params["placement"],
            "polls": 0,
        }
        return self._ok(_public_job(self.state.jobs[job_id]), request)

    @route("GET", r"/12/stats/jobs/accounts/(?P<account>[0-9a-z]+)")
    def check_jobs(self, request: Request, account: str) -> Response:
        wanted = set((request.arg("job_ids") or "").split(",")) - {""}
        jobs = [
            job
            for job_id, job in self.state.jobs.items()
            if job.get("account_id") == account and "entity_ids" in job and (not wanted or job_id in wanted)
        ]
        for job in jobs:
            job["polls"] += 1
            if job["status"] == "PROCESSING" and job["polls"] >= self.state.report_polls:
                name = f"x-stats-{job['id']}.json.gz"
                self.state.files[name] = gzip.compress(json.dumps(self._job_payload(job)).encode())
                job["status"], job["url"] = "SUCCESS", f"{request.host_url}/__files/{name}"
        return self._ok([_public_job(job) for job in jobs], request, next_cursor=None)

    def _job_payload(self, job: dict[str, Any]) -> dict[str, Any]:
        start, end = _day(job["start_time"]), _day(job["end_time"])
        assert start is not None and end is not None
        length = (end - start).days
        data = []
        for item_id in job["entity_ids"]:
            unit = self.state.unit(self.platform, item_id)
            series: dict[str, list[int]] = {
                key: [0] * length
                for key in (
                    "impressions",
                    "engagements",
                    "clicks",
                    "url_clicks",
                    "billed_charge_local_micro",
                    "sign_ups",
                )
            }
            if unit is not None:
                units = [
                    u
                    for u in self.state.units.values()
                    if u.platform == self.platform and u.campaign_id == unit.campaign_id
                ]
                days = campaign_days(units, start, end - timedelta(days=1), self.state.today)[item_id]
                for day, metrics in days.items():
                    index = (day - start).days
                    series["impressions"][index] = metrics.impressions
                    series["engagements"][index] = metrics.engagements
                    series["clicks"][index] = metrics.engagements
                    series["url_clicks"][index] = metrics.clicks
                    series["billed_charge_local_micro"][index] = metrics.spend_micros
                    series["sign_ups"][index] = metrics.applications
            metrics_out: dict[str, Any] = {key: value for key, value in series.items() if key != "sign_ups"}
            metrics_out["conversion_sign_ups"] = {
                "metric": series["sign_ups"],
                "post_view": [0] * length,
                "post_engagement": series["sign_ups"],
            }
            data.append({"id": item_id, "id_data": [{"segment": None, "metrics": metrics_out}]})
        return {
            "data": data,
            "data_type": "stats",
            "time_series_length": length,
            "request": {
                "params": {
                    "start_time": job["start_time"],
                    "end_time": job["end_time"],
                    "granularity": job["granularity"],
                    "entity": job["entity"],
                    "placement": job["placement"],
                }
            },
        }


def _public(obj: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in obj.items() if not key.startswith("_") and key != "account_id"}


def _public_job(job: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in job.items() if key not in ("polls", "account_id")}


def _day(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC).date()
    except ValueError:
        return None
