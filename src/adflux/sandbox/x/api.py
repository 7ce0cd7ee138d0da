"""The X emulation as one API: its endpoint mixins, plus the account, funding instruments and locations."""

from __future__ import annotations

import hashlib

from adflux.sandbox.conversions import XConversions
from adflux.sandbox.http import Request, Response, route
from adflux.sandbox.x.audiences import XAudiences
from adflux.sandbox.x.media import XMedia
from adflux.sandbox.x.objects import XObjects
from adflux.sandbox.x.protocol import ACC, public
from adflux.sandbox.x.stats import XStats
from adflux.sandbox.x.updates import XUpdates


class XApi(XUpdates, XObjects, XMedia, XAudiences, XStats, XConversions):
    """ads-api.x.com/12/... with OAuth 1.0a."""

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

    @route("GET", rf"{ACC}/(?P<collection>campaigns|line_items)/(?P<object_id>[0-9a-z]+)")
    def get_one(self, request: Request, account: str, collection: str, object_id: str) -> Response:
        """One campaign or line item by id (what the official client's ``load`` reads)."""
        kind = {"campaigns": "campaign", "line_items": "line_item"}[collection]
        return self._ok(public(self._get(kind, account, object_id)), request)

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
            [public(obj) for obj in existing], request, next_cursor=None, total_count=len(existing)
        )

    @route("GET", r"/(?:11|12)/targeting_criteria/locations")
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
