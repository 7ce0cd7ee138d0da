"""X in-place updates: ``PUT accounts/:id/campaigns/:id`` and ``.../line_items/:id`` take only their fields.

A parameter X does not know for that object is ``INVALID_PARAMETER``, and so is a change to one
that cannot change (the same value again, or a field X sets itself, is ignored); a campaign's total budget
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


# What X sets itself (twitter-ads' read-only properties): the official client sends them back on
# every save() of an object it read, and X ignores them.
SERVER_SET = {
    "campaign": {
        "id",
        "created_at",
        "updated_at",
        "deleted",
        "currency",
        "effective_status",
        "reasons_not_servable",
        "servable",
    },
    "line_item": {
        "id",
        "created_at",
        "updated_at",
        "deleted",
        "currency",
        "creative_source",
        "target_cpa_local_micro",
    },
}


def _same(current: object, sent: str) -> bool:
    """Whether a sent parameter repeats the object's current value (as X's form encoding spells it)."""
    if isinstance(current, bool):
        return sent == str(current).lower()
    if isinstance(current, list):
        return sent in {",".join(map(str, current)), str(current[0]) if current else ""}
    return current is not None and str(current) == sent


class XUpdates(XObjects):
    """PUT campaigns and line items with X's per-object parameter rules."""

    @route("PUT", rf"{ACC}/(?P<collection>campaigns|line_items)/(?P<object_id>[0-9a-z]+)")
    def update(self, request: Request, account: str, collection: str, object_id: str) -> Response:
        kind = collection[:-1]
        obj = self._get(kind, account, object_id)
        params = self._params(request)
        unknown = sorted(
            key
            for key, value in params.items()
            if key not in UPDATABLE[kind] and key not in SERVER_SET[kind] and not _same(obj.get(key), value)
        )
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
