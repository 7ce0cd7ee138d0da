"""X in-place updates: ``PUT accounts/:id/campaigns/:id`` and ``.../line_items/:id`` take only their fields.

A parameter X does not know for that object is ``INVALID_PARAMETER``; a campaign's total budget
cannot go below its daily budget (X's own rule). Total budgets reach the simulator's caps.
"""

from __future__ import annotations

from adflux.sandbox.http import Request, Response, route
from adflux.sandbox.x.objects import XObjects
from adflux.sandbox.x.protocol import ACC, invalid, public

UPDATABLE = {
    "campaign": {
        "name",
        "entity_status",
        "daily_budget_amount_local_micro",
        "total_budget_amount_local_micro",
        "standard_delivery",
    },
    "line_item": {
        "name",
        "entity_status",
        "start_time",
        "end_time",
        "bid_amount_local_micro",
        "bid_strategy",
    },
}


class XUpdates(XObjects):
    """PUT campaigns and line items with X's per-object parameter rules."""

    @route("PUT", rf"{ACC}/(?P<collection>campaigns|line_items)/(?P<object_id>[0-9a-z]+)")
    def update(self, request: Request, account: str, collection: str, object_id: str) -> Response:
        kind = collection[:-1]
        obj = self._get(kind, account, object_id)
        params = self._params(request)
        unknown = sorted(set(params) - UPDATABLE[kind])
        if unknown:
            raise invalid(f"{unknown[0]} is not a valid parameter for this endpoint", unknown[0])
        if "total_budget_amount_local_micro" in params:
            total = int(params["total_budget_amount_local_micro"])
            daily = int(
                params.get("daily_budget_amount_local_micro") or obj["daily_budget_amount_local_micro"]
            )
            if total < daily:
                raise invalid(
                    "total_budget_amount_local_micro must be at least daily_budget_amount_local_micro",
                    "total_budget_amount_local_micro",
                )
            obj["total_budget_amount_local_micro"] = total
        return super().update(request, account, collection, object_id)

    @route("DELETE", rf"{ACC}/promoted_tweets/(?P<object_id>[0-9a-z]+)")
    def unpromote(self, request: Request, account: str, object_id: str) -> Response:
        promoted = self._get("promoted_tweet", account, object_id)
        promoted["deleted"], promoted["entity_status"] = True, "PAUSED"
        item = self.state.get(self.platform, "line_item", promoted["line_item_id"]) or {}
        if item:
            self._refresh_campaign(item["campaign_id"])
        return self._ok(public(promoted), request)
