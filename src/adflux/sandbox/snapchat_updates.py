"""Snapchat in-place updates: GET one entity, and PUT carrying the whole entity back.

Snap's update is a PUT of the full object: an update that changes anything beyond ``status``
must carry every required field (as read with GET), and a field Snap does not know is refused.
Budget and end-date changes reach the market simulator's units at once.
"""

from __future__ import annotations

import re
from typing import Any

from adflux.sandbox.api import utc_day
from adflux.sandbox.conversions import SnapchatConversions
from adflux.sandbox.http import Request, Response, route
from adflux.sandbox.snapchat import COLLECTIONS, MIN_DAILY_MICRO, UUID, _invalid
from adflux.sandbox.snapchat_stats import SnapchatStats

REQUIRED = {
    "campaign": {"name", "ad_account_id", "status", "start_time"},
    "adsquad": {"campaign_id", "name", "type", "targeting", "billing_event", "optimization_goal", "status"},
    "ad": {"ad_squad_id", "creative_id", "name", "type", "status"},
}
OPTIONAL = {
    "campaign": {"end_time", "lifetime_spend_cap_micro", "daily_budget_micro", "objective_v2_properties"},
    "adsquad": {
        "ad_account_id",
        "placement_v2",
        "auto_bid",
        "bid_micro",
        "daily_budget_micro",
        "lifetime_budget_micro",
        "start_time",
        "end_time",
    },
    "ad": {"ad_account_id", "campaign_id"},
}


# Fields Snap sets itself: a whole entity read with GET and PUT back carries them, and Snap
# ignores them (they are not the caller's to change).
SERVER_SET = {"id", "created_at", "updated_at", "review_status", "review_status_reasons", "delivery_status"}


class SnapchatUpdates(SnapchatStats, SnapchatConversions):
    """adsapi.snapchat.com/v1/...: the Snap API plus GET-by-id and whole-entity PUTs, and the
    Conversions API (tr.snapchat.com/v3/<pixel>/events)."""

    prefix = re.compile(r"^/(v1/|v3/[0-9a-f-]{36}/events$)")

    @route("GET", rf"/v1/(?P<collection>campaigns|adsquads|ads|creatives)/(?P<object_id>{UUID})")
    def get_one(self, request: Request, collection: str, object_id: str) -> Response:
        obj = self._get(COLLECTIONS[collection], object_id)
        if obj.get("status") == "DELETED":
            raise _invalid(f"{collection[:-1]} {object_id} was deleted", "E1008")
        return self._wrap(collection, [obj])

    def _update(self, kind: str, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for item in items:
            fields = set(item) - SERVER_SET
            if fields - {"status"}:  # anything beyond a status switch is a whole-entity PUT
                missing = sorted(REQUIRED[kind] - fields)
                if missing:
                    raise _invalid(f"{kind} {missing[0]} is required (PUT carries the whole entity)")
                unknown = sorted(fields - REQUIRED[kind] - OPTIONAL[kind])
                if unknown:
                    raise _invalid(f"{kind} field {unknown[0]} is not recognised")
            daily = int(item.get("daily_budget_micro") or 0)
            if kind == "adsquad" and "daily_budget_micro" in item and daily < MIN_DAILY_MICRO:
                raise _invalid("daily_budget_micro must be at least 5000000", "E2002")
            if kind == "ad" and "creative_id" in item:
                self._get("creative", str(item["creative_id"]))
        updated = super()._update(kind, items)
        for obj in updated:
            self._sync_unit(kind, obj)
        return updated

    def _sync_unit(self, kind: str, obj: dict[str, Any]) -> None:
        if kind == "adsquad":
            unit = self.state.unit(self.platform, obj["id"])
            if unit is not None and obj.get("daily_budget_micro"):
                unit.daily_budget = int(obj["daily_budget_micro"]) // 1_000_000
        elif kind == "campaign":
            for squad in self.state.all(self.platform, "adsquad"):
                unit = self.state.unit(self.platform, squad["id"])
                if squad["campaign_id"] != obj["id"] or unit is None:
                    continue
                cap = obj.get("lifetime_spend_cap_micro")
                unit.campaign_cap = int(cap) // 1_000_000 if cap else None
                if obj.get("end_time"):
                    unit.end = utc_day(obj["end_time"])
