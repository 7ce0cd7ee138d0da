"""Snapchat stats: ``GET /v1/{adsquads|campaigns}/<id>/stats`` with ``granularity`` DAY or TOTAL.

DAY needs ``start_time``/``end_time`` on the account's midnight (America/Bogota) and answers
``timeseries_stats``; TOTAL answers ``total_stats`` with one sum (over the given window, or the
entity's whole life up to today without one). A campaign's stats add up its ad squads'.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from adflux.sandbox.http import Request, Response, json_response, route
from adflux.sandbox.simulator import DayMetrics, campaign_days
from adflux.sandbox.snapchat import UUID, SnapchatApi, _account_day, _invalid, _iso

_KIND = {"adsquads": ("adsquad", "AD_SQUAD"), "campaigns": ("campaign", "CAMPAIGN")}
DEFAULT_FIELDS = "impressions,swipes,spend"


def _values(days: list[DayMetrics]) -> dict[str, int]:
    return {
        "impressions": sum(m.impressions for m in days),
        "swipes": sum(m.clicks for m in days),
        "spend": sum(m.spend_micros for m in days),
        "uniques": sum(m.reach for m in days),
        "conversion_sign_ups": sum(m.applications for m in days),
        "screen_time_millis": sum(m.engagements for m in days) * 2100,
        "quartile_1": sum(m.engagements for m in days),
    }


class SnapchatStats(SnapchatApi):
    """Ad squad and campaign stats, daily or in total."""

    @route("GET", rf"/v1/(?P<collection>adsquads|campaigns)/(?P<object_id>{UUID})/stats")
    def stats(self, request: Request, collection: str, object_id: str) -> Response:
        kind, label = _KIND[collection]
        obj = self._get(kind, object_id)
        granularity = request.arg("granularity") or "TOTAL"
        if granularity not in ("DAY", "TOTAL"):
            raise _invalid("The sandbox emulates granularity=DAY and granularity=TOTAL")
        start, end = self._window(request, granularity)
        campaign_id = obj["id"] if kind == "campaign" else obj["campaign_id"]
        units = [u for u in self.state.units_of(self.platform) if u.campaign_id == campaign_id]
        per_squad = campaign_days(units, start, end - timedelta(days=1), self.state.today)
        squads = list(per_squad) if kind == "campaign" else [object_id]
        fields = (request.arg("fields") or DEFAULT_FIELDS).split(",")
        by_day: dict[date, list[DayMetrics]] = {}
        for squad in squads:
            for day, metrics in per_squad.get(squad, {}).items():
                by_day.setdefault(day, []).append(metrics)
        stat: dict[str, Any] = {
            "id": object_id,
            "type": label,
            "granularity": granularity,
            "start_time": _iso(start),
            "end_time": _iso(end),
            "finalized_data_end_time": _iso(self.state.today),
        }
        if granularity == "TOTAL":
            values = _values([m for day in by_day.values() for m in day])
            stat["stats"] = {name: values.get(name, 0) for name in fields}
            return self._stats_answer("total_stats", "total_stat", stat)
        stat["timeseries"] = [
            {
                "start_time": _iso(day),
                "end_time": _iso(day + timedelta(days=1)),
                "stats": {name: _values(by_day.get(day, [])).get(name, 0) for name in fields},
            }
            for day in (start + timedelta(days=offset) for offset in range((end - start).days))
        ]
        return self._stats_answer("timeseries_stats", "timeseries_stat", stat)

    def _window(self, request: Request, granularity: str) -> tuple[date, date]:
        raw_start, raw_end = request.arg("start_time"), request.arg("end_time")
        if granularity == "TOTAL" and raw_start is None and raw_end is None:
            return date(2000, 1, 1), self.state.today + timedelta(days=1)  # the entity's whole life
        start, end = _account_day(raw_start), _account_day(raw_end)
        if start is None or end is None or end <= start:
            raise _invalid(
                "start_time and end_time are required, aligned to midnight in the account's time zone",
                "E1004",
            )
        return start, end

    def _stats_answer(self, key: str, item: str, stat: dict[str, Any]) -> Response:
        return json_response(
            {
                "request_status": "SUCCESS",
                "request_id": self.state.ids.token(),
                key: [{"sub_request_status": "SUCCESS", item: stat}],
            }
        )
