"""The Google Ads emulation as one API: its endpoint mixins, plus the accessible customers."""

from __future__ import annotations

from adflux.sandbox.conversions import GoogleConversions
from adflux.sandbox.google.customer_match import GoogleCustomerMatch
from adflux.sandbox.google.mutate import GoogleMutate
from adflux.sandbox.google.protocol import V
from adflux.sandbox.google.reports import GoogleReports
from adflux.sandbox.google.updates import GoogleUpdates
from adflux.sandbox.http import Request, Response, json_response, route


class GoogleApi(GoogleUpdates, GoogleMutate, GoogleReports, GoogleCustomerMatch, GoogleConversions):
    """/vNN/customers/{cid}/googleAds:{mutate,search,searchStream}, userLists, offlineUserDataJobs."""

    @route("GET", rf"{V}/customers:listAccessibleCustomers")
    def list_accessible(self, request: Request, version: str) -> Response:
        seen = {
            obj["_cid"] for kind in ("campaign", "user_list") for obj in self.state.all(self.platform, kind)
        }
        return json_response(
            {"resourceNames": [f"customers/{cid}" for cid in sorted(seen)] or ["customers/1234567890"]}
        )
