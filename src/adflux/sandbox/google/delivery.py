"""What each Google ad group delivers: simulator units kept in step with budgets, criteria and ads."""

from __future__ import annotations

from datetime import date
from typing import Any

from adflux.sandbox.google.protocol import GoogleProtocol
from adflux.sandbox.state import Unit


class GoogleDelivery(GoogleProtocol):
    """Rebuilds a customer's simulator units after each mutate."""

    def _grouped(self, kind: str, cid: str, parent: str) -> dict[str, list[dict[str, Any]]]:
        grouped: dict[str, list[dict[str, Any]]] = {}
        for obj in self._objects(kind, cid):
            grouped.setdefault(obj[parent], []).append(obj)
        return grouped

    def _refresh_units(self, cid: str) -> None:
        # One pass per kind, then lookups: scanning every kind per campaign and ad group made
        # each mutate O(campaigns²) under the state lock (seconds per call at 1,000 campaigns).
        groups_by_campaign = self._grouped("ad_group", cid, "campaign")
        ads_by_group = self._grouped("ad_group_ad", cid, "adGroup")
        criteria_by_group = self._grouped("ad_group_criterion", cid, "adGroup")
        for campaign in self._objects("campaign", cid):
            groups = groups_by_campaign.get(campaign["resourceName"], [])
            budget = self._by_name("campaign_budget", campaign["campaignBudget"]) or {}
            daily = int(budget.get("amountMicros", 0)) // 1_000_000
            live_groups = [group for group in groups if group.get("status") != "REMOVED"] or groups
            for group in groups:
                ads = ads_by_group.get(group["resourceName"], [])
                listed = criteria_by_group.get(group["resourceName"], [])
                criteria = [c for c in listed if c.get("status") != "REMOVED"]
                unit = self.state.unit(self.platform, group["id"]) or self.state.put_unit(
                    Unit(
                        platform=self.platform,
                        account=cid,
                        campaign_id=campaign["id"],
                        group_id=group["id"],
                        daily_budget=0,
                        start=parse_day(campaign.get("startDateTime")),
                        end=parse_day(campaign.get("endDateTime")),
                    )
                )
                unit.daily_budget = daily // max(1, len(live_groups))
                unit.interests = tuple(c["keyword"]["text"] for c in criteria if "keyword" in c)
                unit.custom_audience = any("userList" in c for c in criteria)
                unit.texts = [campaign["name"], group["name"]] + [
                    item.get("text", "")
                    for ad in ads
                    for part in ("headlines", "descriptions")
                    for item in ad["ad"]["responsiveSearchAd"].get(part, [])
                ]
                live = any(ad.get("status") == "ENABLED" for ad in ads)
                self.state.set_active(
                    self.platform,
                    group["id"],
                    campaign.get("status") == "ENABLED" and group.get("status") == "ENABLED" and live,
                )


def parse_day(value: str | None) -> date | None:
    """A campaign's ``startDateTime``/``endDateTime`` ("YYYY-MM-DD HH:MM:SS"), or None."""
    try:
        return date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None
