"""The Meta emulation as one API: its endpoint mixins, plus the ad account and token debugging."""

from __future__ import annotations

from typing import Any

from adflux.sandbox import tokens
from adflux.sandbox.conversions import MetaConversions
from adflux.sandbox.http import Request, Response, json_response, route
from adflux.sandbox.meta.audiences import MetaAudiences
from adflux.sandbox.meta.batch import MetaBatch
from adflux.sandbox.meta.graph import V
from adflux.sandbox.meta.insights import MetaInsights
from adflux.sandbox.meta.objects import MetaObjects
from adflux.sandbox.meta.updates import MetaUpdates
from adflux.sandbox.state import SandboxState


class MetaApi(MetaUpdates, MetaObjects, MetaInsights, MetaAudiences, MetaBatch, MetaConversions):
    """Graph API: /vNN.0/act_<id>/{campaigns,adsets,adcreatives,ads,insights,customaudiences}."""

    def __init__(self, state: SandboxState) -> None:
        super().__init__(state)
        state.on_advance.append(self._finish_reviews)

    @route("GET", rf"{V}/debug_token")
    def debug_token(self, request: Request) -> Response:
        token = request.arg("input_token") or ""
        state = self.state.token_state(self.platform, token)
        valid = state == "valid"
        # A token the sandbox issued is a user's, with its own expiry; a registered one a system user's.
        issued = tokens.claims("meta", token) or tokens.claims("meta", token, "short")
        data: dict[str, Any] = {
            "app_id": "1000000000000001" if issued else "1000000000",
            "type": "USER" if issued else "SYSTEM_USER",
            "application": "AdFlux",
            "is_valid": valid,
            "expires_at": issued["e"] if issued else 0,
            "data_access_expires_at": 0,
            "scopes": ["ads_management", "ads_read", "business_management"],
        }
        if state == "expired":
            data["error"] = {"code": 190, "message": "Session has expired", "subcode": 463}
        elif not valid:
            data["error"] = {"code": 190, "message": "Invalid OAuth access token - Cannot parse access token"}
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
