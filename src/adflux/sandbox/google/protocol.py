"""What every Google Ads endpoint shares: developer token and OAuth, quota and error envelopes, lookups."""

from __future__ import annotations

import re
from typing import Any

from adflux.sandbox.api import PlatformApi
from adflux.sandbox.http import ApiError, Request, Response, json_response

V = r"/(?P<version>v\d+)"
CID = r"(?P<cid>\d{10})"


SUPPORTED_VERSIONS = ("v23", "v24", "v25", "v26")  # the versions Google serves today


def invalid_json_payload(problems: list[str]) -> Response:
    """Google's answer to a JSON body with unknown names: google.rpc.BadRequest, not a GoogleAdsFailure."""
    return json_response(
        {
            "error": {
                "code": 400,
                "message": "Invalid JSON payload received. " + problems[0],
                "status": "INVALID_ARGUMENT",
                "details": [
                    {
                        "@type": "type.googleapis.com/google.rpc.BadRequest",
                        "fieldViolations": [
                            {"description": f"Invalid JSON payload received. {problem}"}
                            for problem in problems
                        ],
                    }
                ],
            }
        },
        status=400,
    )


class GoogleProtocol(PlatformApi):
    """/vNN/customers/...: the REST conventions the endpoint mixins build on."""

    platform = "google"
    prefix = re.compile(r"^/v\d+/customers")

    # -- hooks -------------------------------------------------------------------------------

    def authenticate(self, request: Request) -> None:
        version = request.path.split("/")[1]
        if version not in SUPPORTED_VERSIONS:
            raise ApiError("not_found", f"API version {version} is not supported (sunset).", status=404)
        if not request.headers.get("developer-token"):
            raise ApiError(
                "auth",
                "The developer token is not on the allowlist / missing.",
                status=401,
                extra={"error_code": {"requestError": "DEVELOPER_TOKEN_PARAMETER_MISSING"}},
            )
        state = self.state.token_state(self.platform, self.token(request))
        if state != "valid":
            raise ApiError(
                "auth",
                "Request had invalid authentication credentials. Expected OAuth 2 access "
                "token, login cookie or other valid authentication credential.",
                status=401,
                extra={
                    "error_code": {
                        "authenticationError": {
                            "expired": "OAUTH_TOKEN_EXPIRED",
                            "invalid": "OAUTH_TOKEN_INVALID",
                        }.get(state, "OAUTH_TOKEN_HEADER_INVALID")
                    }
                },
            )

    def rate_key(self, request: Request) -> str:
        found = re.search(r"/customers/(\d+)", request.path)
        return found.group(1) if found else "developer"

    def throttle_error(self, wait: float, request: Request) -> ApiError:
        return ApiError(
            "throttle",
            "Resource has been exhausted (e.g. check quota).",
            status=429,
            retry_after=wait,
            extra={
                "error_code": {"quotaError": "RESOURCE_TEMPORARILY_EXHAUSTED"},
                "details": {
                    "quotaErrorDetails": {
                        "rateScope": "DEVELOPER",
                        "rateName": "Requests per developer per minute",
                        "retryDelay": f"{wait:.3f}s",
                    }
                },
            },
        )

    def transient_error(self) -> ApiError:
        return ApiError(
            "server",
            "Internal error encountered.",
            status=500,
            extra={"error_code": {"internalError": "TRANSIENT_ERROR"}},
        )

    def render_error(self, error: ApiError, request: Request) -> Response:
        version = request.path.split("/")[1] if request.path.count("/") > 1 else "v26"
        status = error.status or 400
        grpc_status = {
            400: "INVALID_ARGUMENT",
            401: "UNAUTHENTICATED",
            403: "PERMISSION_DENIED",
            404: "NOT_FOUND",
            405: "INVALID_ARGUMENT",
            429: "RESOURCE_EXHAUSTED",
            500: "INTERNAL",
            503: "UNAVAILABLE",
        }.get(status, "UNKNOWN")
        message = {"INVALID_ARGUMENT": "Request contains an invalid argument."}.get(
            grpc_status, error.message
        )
        errors = error.extra.get("errors")
        if errors is None:
            entry: dict[str, Any] = {
                "errorCode": error.extra.get("error_code", {"requestError": "UNKNOWN"}),
                "message": error.message,
            }
            if "details" in error.extra:
                entry["details"] = error.extra["details"]
            errors = [entry]
        failure = {
            "@type": failure_type(version),
            "errors": errors,
            "requestId": self.state.ids.token(),
        }
        return json_response(
            {"error": {"code": status, "message": message, "status": grpc_status, "details": [failure]}},
            status,
        )

    # -- helpers -------------------------------------------------------------------------------

    def _objects(self, kind: str, cid: str) -> list[dict[str, Any]]:
        return [obj for obj in self.state.all(self.platform, kind) if obj["_cid"] == cid]

    def _by_name(self, kind: str, resource_name: str) -> dict[str, Any] | None:
        last = resource_name.rsplit("/", 1)[-1]
        found = self.state.get(self.platform, kind, last)
        if found is None and "~" in last:  # criteria are named <parent id>~<id>
            found = self.state.get(self.platform, kind, last.split("~", 1)[1])
            if found is not None and found.get("resourceName") != resource_name:
                return None
        return found


def failure_type(version: str) -> str:
    """The ``@type`` of a GoogleAdsFailure in error details."""
    return f"type.googleapis.com/google.ads.googleads.{version}.errors.GoogleAdsFailure"


def camel(name: str) -> str:
    """``ad_group`` -> ``adGroup``: GAQL and field-mask names as REST JSON spells them."""
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
