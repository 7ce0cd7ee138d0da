"""Snapchat stats: ``GET /v1/{adsquads|campaigns}/<id>/stats`` with ``granularity`` DAY or TOTAL.

DAY needs ``start_time``/``end_time`` on the account's midnight (America/Bogota) and answers
``timeseries_stats``; TOTAL answers ``total_stats`` with one sum (over the given window, or the
entity's whole life up to today without one). A campaign's stats add up its ad squads'.

``GET /v1/adaccounts/<id>/stats`` is the account-level report: without ``breakdown`` only ``spend``;
with ``breakdown=campaign|adsquad`` one series per entity of the account under
``breakdown_stats``, paged by entity (``limit`` 50–1000, ``paging.next_link``), empty entities
and days left out with ``omit_empty=true``. Parameters the real endpoint does not take are refused;
those it takes but the sandbox does not emulate (async reports, dimensions, pivots, attribution
windows) are refused by name.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from adflux.sandbox.api import decode_cursor, encode_cursor, url_with
from adflux.sandbox.http import Request, Response, json_response, route
from adflux.sandbox.simulator import DayMetrics, campaign_days
from adflux.sandbox.snapchat import UUID, SnapchatApi, _account_day, _invalid, _iso
from adflux.sandbox.units import Unit

_KIND = {"adsquads": ("adsquad", "AD_SQUAD"), "campaigns": ("campaign", "CAMPAIGN")}
DEFAULT_FIELDS = "impressions,swipes,spend"
# What GET /v1/adaccounts/{id}/stats takes (Snap's Measurement reference), and which of those the
# sandbox emulates; anything else is a 400, as Snap answers an unknown parameter.
ACCOUNT_PARAMS = {"granularity", "fields", "start_time", "end_time", "breakdown", "omit_empty", "limit"}
NOT_EMULATED = {
    "async",
    "async_format",
    "test",
    "dimension",
    "pivot",
    "action_report_time",
    "swipe_up_attribution_window",
    "view_attribution_window",
    "position_stats",
    "conversion_source_types",
}
BREAKDOWNS = {"campaign": "CAMPAIGN", "adsquad": "AD_SQUAD"}


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

    @route("GET", rf"/v1/adaccounts/(?P<account>{UUID})/stats")
    def account_stats(self, request: Request, account: str) -> Response:
        params = request.params()
        granularity, fields, breakdown, limit = _account_params(params)
        start, end = self._window(request, granularity)
        omit_empty = (params.get("omit_empty") or "false").lower() == "true"
        units = [u for u in self.state.units_of(self.platform) if u.account == account]
        stat: dict[str, Any] = {
            "id": account,
            "type": "AD_ACCOUNT",
            "granularity": granularity,
            "start_time": _iso(start),
            "end_time": _iso(end),
            "finalized_data_end_time": _iso(self.state.today),
        }
        key, item = (
            ("timeseries_stats", "timeseries_stat") if granularity == "DAY" else ("total_stats", "total_stat")
        )
        if breakdown is None:
            totals: dict[date, list[DayMetrics]] = {}
            for per_day in _days_of(units, start, end, self.state.today).values():
                for day, metrics in per_day.items():
                    totals.setdefault(day, []).append(metrics)
            series = self._series(granularity, start, end, totals, fields)
            return self._stats_answer(key, item, {**stat, **(series or {})})
        entities = sorted({u.group_id if breakdown == "adsquad" else u.campaign_id for u in units})
        offset = decode_cursor(params.get("cursor"))
        size = limit or 1000
        page = entities[offset : offset + size]
        wanted = set(page)
        chosen = [u for u in units if (u.group_id if breakdown == "adsquad" else u.campaign_id) in wanted]
        campaigns = {u.campaign_id for u in chosen}  # a campaign's cap is shared by all its squads
        per_squad = _days_of([u for u in units if u.campaign_id in campaigns], start, end, self.state.today)
        by_entity: dict[str, dict[date, list[DayMetrics]]] = {entity: {} for entity in page}
        for unit in chosen:
            entity = unit.group_id if breakdown == "adsquad" else unit.campaign_id
            for day, metrics in per_squad.get(unit.group_id, {}).items():
                by_entity[entity].setdefault(day, []).append(metrics)
        rows = []
        for entity in page:
            series = self._series(granularity, start, end, by_entity[entity], fields, omit_empty)
            if series is None:
                continue
            head = {"id": entity, "type": BREAKDOWNS[breakdown], "granularity": granularity}
            rows.append({**head, "start_time": _iso(start), "end_time": _iso(end), **series})
        stat["breakdown_stats"] = {breakdown: rows}
        paging = {}
        if offset + size < len(entities):
            paging["next_link"] = url_with(request, cursor=encode_cursor(offset + size), limit=size)
        return self._stats_answer(key, item, stat, paging=paging)

    def _series(
        self,
        granularity: str,
        start: date,
        end: date,
        days: dict[date, list[DayMetrics]],
        fields: list[str],
        omit_empty: bool = False,
    ) -> dict[str, Any] | None:
        """One entity's ``stats`` (TOTAL) or ``timeseries`` (DAY); None if empty and omitted."""
        if granularity == "TOTAL":
            values = _values([m for day in days.values() for m in day])
            if omit_empty and not any(values.values()):
                return None
            return {"stats": {name: values.get(name, 0) for name in fields}}
        points = []
        for day in (start + timedelta(days=offset) for offset in range((end - start).days)):
            values = _values(days.get(day, []))
            if omit_empty and not any(values.values()):
                continue
            stats = {name: values.get(name, 0) for name in fields}
            points.append(
                {"start_time": _iso(day), "end_time": _iso(day + timedelta(days=1)), "stats": stats}
            )
        if omit_empty and not points:
            return None
        return {"timeseries": points}

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

    def _stats_answer(self, key: str, item: str, stat: dict[str, Any], **extra: Any) -> Response:
        return json_response(
            {
                "request_status": "SUCCESS",
                "request_id": self.state.ids.token(),
                key: [{"sub_request_status": "SUCCESS", item: stat}],
                **extra,
            }
        )


def _days_of(units: list[Unit], start: date, end: date, today: date) -> dict[str, dict[date, DayMetrics]]:
    """Per ad squad, its days in [start, end), each campaign's cap shared among its own squads."""
    by_campaign: dict[str, list[Unit]] = {}
    for unit in units:
        by_campaign.setdefault(unit.campaign_id, []).append(unit)
    result: dict[str, dict[date, DayMetrics]] = {}
    for group in by_campaign.values():
        result.update(campaign_days(group, start, end - timedelta(days=1), today))
    return result


def _account_params(params: dict[str, str]) -> tuple[str, list[str], str | None, int | None]:
    """Granularity, fields, breakdown and page size of an ad account stats request, or a 400."""
    for name in params:
        if name in NOT_EMULATED:
            raise _invalid(f"The sandbox does not emulate the {name} parameter of ad account stats")
        if name not in ACCOUNT_PARAMS and name != "cursor":
            raise _invalid(f"Unknown parameter for ad account stats: {name}")
    granularity = params.get("granularity") or ""
    if granularity not in ("DAY", "TOTAL"):
        raise _invalid("granularity is required: the sandbox emulates DAY and TOTAL")
    fields = (params.get("fields") or "spend").split(",")
    breakdown = params.get("breakdown")
    if breakdown is None and fields != ["spend"]:
        raise _invalid("Ad account stats without a breakdown report spend only")
    if breakdown is not None and breakdown not in BREAKDOWNS:
        raise _invalid("breakdown must be campaign or adsquad (the sandbox does not emulate ad)")
    limit = int(params["limit"]) if (params.get("limit") or "").isdigit() else None
    if "limit" in params and (limit is None or not 50 <= limit <= 1000):
        raise _invalid("limit must be a whole number from 50 to 1000")
    return granularity, fields, breakdown, limit
