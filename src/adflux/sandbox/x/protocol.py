"""What every X Ads endpoint shares: OAuth, rate-limit headers, error envelopes, lookups and cursor paging."""

from __future__ import annotations

import math
import re
import time
from typing import Any

from adflux.sandbox.api import PlatformApi, decode_cursor, encode_cursor
from adflux.sandbox.definitions import x_unknown
from adflux.sandbox.http import ApiError, Request, Response, json_response
from adflux.sandbox.state import SandboxState
from adflux.sandbox.x.oauth import SANDBOX_CREDENTIALS, oauth_params, signature_valid

ACC = r"/(?:11|12)/accounts/(?P<account>[0-9a-z]+)"
SUPPORTED_VERSIONS = ("11", "12")  # what ads-api.x.com serves today


def invalid(message: str, parameter: str | None = None) -> ApiError:
    """X's INVALID_PARAMETER error, naming the parameter."""
    return ApiError(
        "validation", message, status=400, code="INVALID_PARAMETER", extra={"parameter": parameter}
    )


class XProtocol(PlatformApi):
    """ads-api.x.com/12/...: the conventions the endpoint mixins build on.

    X still serves version 11 beside 12 (its versions page gives 11 no end-of-life date, and the
    official ``twitter-ads`` client pins /11/), so both are served alike; older ones are gone.
    """

    platform = "x"
    prefix = re.compile(r"^/\d+/")

    def __init__(self, state: SandboxState) -> None:
        super().__init__(state)
        self.apps = {SANDBOX_CREDENTIALS["consumer_key"]: SANDBOX_CREDENTIALS["consumer_secret"]}
        self.tokens = {SANDBOX_CREDENTIALS["access_token"]: SANDBOX_CREDENTIALS["access_token_secret"]}

    # -- hooks -------------------------------------------------------------------------------

    def token(self, request: Request) -> str | None:
        return oauth_params(request).get("oauth_token")

    def authenticate(self, request: Request) -> None:
        version = request.path.split("/")[1]
        # api.x.com/2/media/upload: the one v2 endpoint served (ads media for cards).
        if version not in SUPPORTED_VERSIONS and request.path != "/2/media/upload":
            raise ApiError(
                "not_found",
                f"Version {version} of the Ads API is no longer available",
                status=404,
                code="NOT_FOUND",
            )
        # X's edge answers authentication failures with the platform-wide numeric codes.
        params = oauth_params(request)
        if not params:
            raise ApiError("auth", "Bad Authentication data.", status=400, code=215)
        consumer_secret = self.apps.get(params.get("oauth_consumer_key", ""))
        token_secret = self.tokens.get(params.get("oauth_token", ""))
        if consumer_secret is None:
            raise ApiError("auth", "Could not authenticate you.", status=401, code=32)
        if token_secret is None or self.state.token_state(self.platform, params["oauth_token"]) != "valid":
            raise ApiError("auth", "Invalid or expired token.", status=401, code=89)
        if not signature_valid(request, params, consumer_secret, token_secret):
            raise ApiError("auth", "Could not authenticate you.", status=401, code=32)

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
        if request.method in ("POST", "PUT"):
            found = re.search(r"/accounts/[^/]+/([a-z_]+)(?:/[0-9a-z]+)?$", request.path)
            unknown = x_unknown(found.group(1), list(params)) if found else []
            if unknown:  # twitter-ads resource PROPERTIES, stored as data
                raise invalid(f"{unknown[0]} is not a parameter of this endpoint", unknown[0])
        for name in required:
            if not params.get(name):
                raise invalid(f"{name} is missing", name)
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
            [public(obj) for obj in chunk], request, next_cursor=next_cursor, total_count=len(rows)
        )


def public(obj: dict[str, Any]) -> dict[str, Any]:
    """An object as the API shows it: no internal fields, no account id."""
    return {key: value for key, value in obj.items() if not key.startswith("_") and key != "account_id"}
