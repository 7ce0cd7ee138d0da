"""What every TikTok endpoint shares: Access-Token auth, code envelopes, request bodies, lookups, paging."""

from __future__ import annotations

import json
import math
import re
from datetime import date, datetime
from typing import Any

from adflux.sandbox.api import PlatformApi
from adflux.sandbox.definitions import tiktok_unknown
from adflux.sandbox.http import ApiError, Request, Response, json_response

P = r"/open_api/v1\.3"
CODE_PARAM = 40002
CODE_DUPLICATED = 40050  # ERROR_CODE_DUPLICATED_REQUEST in TikTok's SDK constants
CODE_THROTTLE = 40100
CODE_EXPIRED = 40102
CODE_EMPTY_TOKEN = 40104
CODE_INVALID_TOKEN = 40105
CODE_SYSTEM = 50000


def invalid(message: str) -> ApiError:
    """TikTok's parameter error (code 40002, still HTTP 200)."""
    return ApiError("validation", message, code=CODE_PARAM)


class TikTokProtocol(PlatformApi):
    """business-api.tiktok.com/open_api/v1.3/...: the conventions the endpoint mixins build on."""

    platform = "tiktok"
    prefix = re.compile(rf"^{P}/")

    # -- hooks -------------------------------------------------------------------------------

    def token(self, request: Request) -> str | None:
        return request.headers.get("access-token")

    def authenticate(self, request: Request) -> None:
        state = self.state.token_state(self.platform, self.token(request))
        if state == "missing":
            raise ApiError("auth", "Access token is null, please check your request.", code=CODE_EMPTY_TOKEN)
        if state == "expired":
            raise ApiError("auth", "Access token has expired, please refresh it.", code=CODE_EXPIRED)
        if state == "invalid":
            raise ApiError("auth", "Access token is incorrect or has been revoked.", code=CODE_INVALID_TOKEN)

    def rate_key(self, request: Request) -> str:
        return self.token(request) or "anonymous"

    def throttle_error(self, wait: float, request: Request) -> ApiError:
        return ApiError(
            "throttle", "Too many requests. Please retry in some time.", code=CODE_THROTTLE, retry_after=wait
        )

    def transient_error(self) -> ApiError:
        return ApiError("server", "System error, please try again later.", code=CODE_SYSTEM)

    def render_error(self, error: ApiError, request: Request) -> Response:
        code = error.code or {"not_found": CODE_PARAM, "validation": CODE_PARAM}.get(error.kind, CODE_SYSTEM)
        # TikTok answers HTTP 200 for business errors; only a broken route is a real 404.
        status = 404 if error.status == 404 and error.kind == "not_found" and error.code is None else 200
        return json_response(
            {"code": code, "message": error.message, "request_id": self._request_id(), "data": {}}, status
        )

    def _request_id(self) -> str:
        return datetime.now().strftime("%Y%m%d%H%M%S") + self.state.ids.token().upper()

    def _ok(self, data: Any) -> Response:
        return json_response({"code": 0, "message": "OK", "request_id": self._request_id(), "data": data})

    # -- helpers -------------------------------------------------------------------------------

    def _body(self, request: Request, *required: str) -> dict[str, Any]:
        body = (
            request.json()
            if request.method == "POST"
            else {key: maybe_json(values[0]) for key, values in request.query.items()}
        )
        if request.method == "POST":
            unknown = tiktok_unknown(request.path.split("/open_api/v1.3/")[-1], body)
            if unknown:
                raise invalid(f"{unknown[0]}: Unknown field.")
        for name in required:
            if body.get(name) in (None, "", []):
                raise invalid(f"{name}: Missing data for required field.")
        return body

    def _new(self, kind: str, fields: dict[str, Any]) -> dict[str, Any]:
        stamp = self.state.now().strftime("%Y-%m-%d %H:%M:%S")
        id_field = {
            "campaign": "campaign_id",
            "adgroup": "adgroup_id",
            "ad": "ad_id",
            "audience": "custom_audience_id",
        }[kind]
        new_id = self.state.ids.tiktok()
        return self.state.add(
            self.platform,
            kind,
            {"id": new_id, id_field: new_id, "create_time": stamp, "modify_time": stamp, **fields},
        )

    def _get(self, kind: str, advertiser: str, object_id: str) -> dict[str, Any]:
        obj = self.state.get(self.platform, kind, str(object_id))
        if obj is None or obj["advertiser_id"] != str(advertiser) or obj.get("operation_status") == "DELETE":
            raise ApiError("not_found", f"{kind} {object_id} does not exist", code=CODE_PARAM)
        return obj

    def _list(self, request: Request, kind: str, name_field: str) -> Response:
        params = self._body(request, "advertiser_id")
        filtering = params.get("filtering") or {}
        rows = [
            obj
            for obj in self.state.all(self.platform, kind)
            if obj["advertiser_id"] == str(params["advertiser_id"])
            and obj.get("operation_status") != "DELETE"
        ]
        for key in ("campaign_ids", "adgroup_ids", "ad_ids"):
            if filtering.get(key):
                field = key[:-1]
                rows = [obj for obj in rows if obj.get(field) in set(map(str, filtering[key]))]
        if filtering.get(name_field):
            # TikTok name filters are fuzzy (substring) matches.
            rows = [obj for obj in rows if str(filtering[name_field]) in obj.get(name_field, "")]
        page = max(1, int(params.get("page") or 1))
        size = min(1000, max(1, int(params.get("page_size") or 10)))
        chunk = rows[(page - 1) * size : page * size]
        return self._ok(
            {
                "list": [public(obj) for obj in chunk],
                "page_info": {
                    "page": page,
                    "page_size": size,
                    "total_number": len(rows),
                    "total_page": max(1, math.ceil(len(rows) / size)),
                },
            }
        )


def public(obj: dict[str, Any]) -> dict[str, Any]:
    """An object as the API shows it: no internal fields, no generic ``id``."""
    return {key: value for key, value in obj.items() if not key.startswith("_") and key != "id"}


def maybe_json(value: Any) -> Any:
    """A query parameter that may be JSON-encoded (lists and objects in GET requests)."""
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def parse_day(value: str | None) -> date | None:
    """The date of a TikTok timestamp (``2025-03-03 00:00:00``), or None."""
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None
