"""What every Meta endpoint shares: Graph auth, throttling and errors, paging, field selection, filtering."""

from __future__ import annotations

import json
import math
import re
from datetime import date
from typing import Any

from adflux.sandbox.api import PlatformApi, decode_cursor, encode_cursor, loads_maybe, url_with
from adflux.sandbox.definitions import meta_unknown
from adflux.sandbox.http import ApiError, Request, Response, json_response
from adflux.sandbox.meta.validation import invalid

V = r"/v\d+\.\d+"

# Graph parameters that are not object fields (auth, envelope and format options).
TRANSPORT_PARAMS = frozenset(
    {
        "access_token",
        "appsecret_proof",
        "method",
        "format",
        "pretty",
        "suppress_http_code",
        "locale",
        "execution_options",
        "include_headers",
    }
)
NODE_TYPES = {
    "campaigns": "Campaign",
    "adsets": "AdSet",
    "ads": "Ad",
    "adcreatives": "AdCreative",
    "customaudiences": "CustomAudience",
}


class MetaGraph(PlatformApi):
    """Graph API conventions under /vNN.0/; the endpoint mixins build on it."""

    platform = "meta"
    prefix = re.compile(rf"^{V}(/|$)")  # the version root itself takes batch requests

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
        if state == "invalid":
            raise ApiError(
                "auth", "Invalid OAuth access token - Cannot parse access token", status=400, code=190
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
        edge = request.path.rstrip("/").rsplit("/", 1)[-1]
        unknown = meta_unknown(edge, [key for key in params if key not in TRANSPORT_PARAMS])
        if unknown and request.method == "POST":
            raise invalid(f"(#100) Param {unknown[0]} is not a valid {edge} parameter", "Invalid parameter")
        for name in names:
            if not params.get(name):
                raise invalid(f"The parameter {name} is required", "Missing parameter")
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

    def _check_fields(self, request: Request, edge: str) -> None:
        """Graph refuses fields= names the node type does not have (as the real API does)."""
        names = [
            name.strip().split("{")[0] for name in (request.arg("fields") or "").split(",") if name.strip()
        ]
        unknown = meta_unknown(edge, names)
        if unknown:
            raise invalid(
                f"(#100) Tried accessing nonexisting field ({unknown[0]}) on node type ({NODE_TYPES[edge]})",
                "Invalid field",
            )

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
                raise invalid(f"Filtering operator {operator} is not supported")
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


def parse_day(value: str | None) -> date | None:
    """The date of a Graph timestamp (``2025-03-03T00:00:00+0000``), or None."""
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None
