"""X in-place updates: ``PUT accounts/:id/campaigns/:id`` and ``.../line_items/:id`` take only their fields.

A parameter X does not know for that object is ``INVALID_PARAMETER``, and so is a change to one
that cannot change (the same value again, or a field X sets itself, is ignored); a campaign's total budget
cannot go below its daily budget (X's own rule). Total budgets reach the simulator's caps.
``POST /12/batch/accounts/:id/targeting_criteria`` creates and deletes criteria all or nothing
(X's batch: a JSON array of ``{"operation_type": "Create"|"Delete", "params": {...}}``, ≤ 500).
"""

from __future__ import annotations

from typing import Any

from adflux.sandbox.http import Request, Response, json_response, route
from adflux.sandbox.x.objects import XObjects
from adflux.sandbox.x.protocol import ACC, invalid, public

BATCH_LIMIT = 500

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

    @route("POST", r"/12/batch/accounts/(?P<account>[0-9a-z]+)/targeting_criteria")
    def batch_criteria(self, request: Request, account: str) -> Response:
        body = request.json()
        if not isinstance(body, list) or not 1 <= len(body) <= BATCH_LIMIT:
            raise invalid(f"the batch must be a JSON array of 1 to {BATCH_LIMIT} operations", "body")
        staged = [self._stage_criterion(account, entry) for entry in body]  # all checked first
        data = [apply() for apply in staged]
        campaigns = {str(item["campaign_id"]) for item in self.state.all(self.platform, "line_item")
                     if item["id"] in {row["line_item_id"] for row in data}}  # fmt: skip
        for campaign_id in sorted(campaigns):
            self._refresh_campaign(campaign_id)
        return json_response({"data": data, "request": {"params": {}}})

    def _stage_criterion(self, account: str, entry: Any) -> Any:
        if not isinstance(entry, dict) or not isinstance(entry.get("params"), dict):
            raise invalid("each operation needs operation_type and params", "params")
        params, kind = entry["params"], entry.get("operation_type")
        if kind == "Delete":
            criterion = self._get("targeting_criterion", account, str(params.get("targeting_criterion_id")))

            def delete() -> dict[str, Any]:
                criterion["deleted"] = True
                return public(criterion)

            return delete
        if kind != "Create":
            raise invalid(f"operation_type {kind!r} is not Create or Delete here", "operation_type")
        for name in ("line_item_id", "targeting_type", "targeting_value"):
            if not params.get(name):
                raise invalid(f"{name} is missing", name)
        item = self._get("line_item", account, str(params["line_item_id"]))
        fields = {
            "line_item_id": item["id"],
            "targeting_type": params["targeting_type"],
            "targeting_value": params["targeting_value"],
            "operator_type": params.get("operator_type", "EQ"),
        }
        return lambda: public(self._new("targeting_criterion", account, fields))
