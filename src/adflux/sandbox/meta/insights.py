"""Meta insights: sync /insights reads and async report runs, computed from the simulator."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from adflux.sandbox.api import loads_maybe
from adflux.sandbox.http import ApiError, Request, Response, json_response, route
from adflux.sandbox.meta.graph import MetaGraph, V
from adflux.sandbox.meta.validation import invalid
from adflux.sandbox.simulator import DayMetrics, campaign_days
from adflux.sandbox.state import Unit

APPLICATION_ACTION = "offsite_conversion.fb_pixel_submit_application"


class MetaInsights(MetaGraph):
    """/insights on an account, campaign, ad set or ad, and the report runs it can start."""

    def _units_under(self, object_id: str, account: str | None = None) -> tuple[str, list[Unit]]:
        units = self.state.units_of(self.platform)
        if account is not None:
            return "account", [unit for unit in units if unit.account == account]
        found = self.state.find_any(self.platform, object_id)
        if found is None:
            raise ApiError("not_found", f"Object with ID '{object_id}' does not exist", status=404)
        kind, obj = found
        if kind == "campaign":
            return kind, [unit for unit in units if unit.campaign_id == object_id]
        if kind == "adset":
            return kind, [unit for unit in units if unit.group_id == object_id]
        if kind == "ad":
            return kind, [unit for unit in units if unit.group_id == obj["adset_id"]]
        raise invalid(f"Insights are not available on a {kind}")

    def _insight_rows(
        self, params: dict[str, str], object_level: str, units: list[Unit]
    ) -> list[dict[str, Any]]:
        units = _filtered(units, params)
        since, until = self._time_range(params)
        level = params.get("level") or object_level
        if level == "account":
            level = "account"
        increment = params.get("time_increment", "all_days")
        raw_fields = loads_maybe(params.get("fields"), "impressions,spend")
        if isinstance(raw_fields, str):
            raw_fields = raw_fields.split(",")
        fields = [str(name).strip() for name in raw_fields if str(name).strip()]
        by_campaign: dict[str, list[Unit]] = defaultdict(list)
        for unit in units:
            by_campaign[unit.campaign_id].append(unit)
        buckets: dict[tuple[str, date], DayMetrics] = {}
        keys: dict[str, dict[str, str]] = {}
        for campaign_id, group in by_campaign.items():
            per_group = campaign_days(group, since, until, self.state.today)
            for unit in group:
                key = {"campaign": campaign_id, "adset": unit.group_id, "ad": unit.group_id}.get(
                    level, unit.account
                )
                keys[key] = {
                    "campaign_id": campaign_id,
                    "adset_id": unit.group_id,
                    "account_id": unit.account,
                }
                for day, metrics in per_group[unit.group_id].items():
                    bucket_day = day if increment in ("1", 1) else since
                    current = buckets.get((key, bucket_day), DayMetrics.zero())
                    buckets[(key, bucket_day)] = DayMetrics(
                        *(a + b for a, b in zip(_astuple(current), _astuple(metrics), strict=True))
                    )
        rows = []
        for (key, day), metrics in sorted(buckets.items(), key=lambda item: (item[0][1], item[0][0])):
            stop = day if increment in ("1", 1) else until
            rows.append(self._insight_row(level, keys[key], day, stop, metrics, fields))
        return rows

    def _insight_row(
        self, level: str, ids: dict[str, str], start: date, stop: date, metrics: DayMetrics, fields: list[str]
    ) -> dict[str, Any]:
        spend = metrics.spend_micros / 1_000_000
        all_clicks = metrics.clicks + max(0, metrics.engagements - metrics.clicks) // 2
        values: dict[str, Any] = {
            "account_id": ids["account_id"],
            "campaign_id": ids["campaign_id"],
            "impressions": str(metrics.impressions),
            "reach": str(metrics.reach),
            "clicks": str(all_clicks),
            "inline_link_clicks": str(metrics.clicks),
            "spend": f"{spend:.2f}",
            "ctr": f"{(100 * all_clicks / metrics.impressions) if metrics.impressions else 0:.6f}",
            "cpc": f"{(spend / all_clicks) if all_clicks else 0:.6f}",
            "actions": [
                {"action_type": "link_click", "value": str(metrics.clicks)},
                {"action_type": APPLICATION_ACTION, "value": str(metrics.applications)},
            ],
        }
        if level in ("adset", "ad"):
            adset = self.state.get(self.platform, "adset", ids["adset_id"]) or {}
            values.update({"adset_id": ids["adset_id"], "adset_name": adset.get("name", "")})
        campaign = self.state.get(self.platform, "campaign", ids["campaign_id"]) or {}
        values["campaign_name"] = campaign.get("name", "")
        row = {name: values[name] for name in fields if name in values}
        row.update({"date_start": start.isoformat(), "date_stop": stop.isoformat()})
        return row

    def _time_range(self, params: dict[str, str]) -> tuple[date, date]:
        time_range = loads_maybe(params.get("time_range"))
        if isinstance(time_range, dict):
            return date.fromisoformat(time_range["since"]), date.fromisoformat(time_range["until"])
        preset = params.get("date_preset", "last_30d")
        yesterday = self.state.today - timedelta(days=1)
        days = {
            "yesterday": 1,
            "last_7d": 7,
            "last_14d": 14,
            "last_28d": 28,
            "last_30d": 30,
            "last_90d": 90,
            "maximum": 365 * 3,
        }.get(preset, 30)
        return yesterday - timedelta(days=days - 1), yesterday

    @route("GET", rf"{V}/(?P<object_id>act_\d+|\d+)/insights")
    def get_insights(self, request: Request, object_id: str) -> Response:
        job = self.state.job(object_id)
        if job is not None:
            if job["async_status"] != "Job Completed":
                raise invalid("Report run is not complete yet")
            return self._page(request, job["rows"])
        account = object_id.removeprefix("act_") if object_id.startswith("act_") else None
        level, units = self._units_under(object_id, account)
        return self._page(request, self._insight_rows(request.params(), level, units))

    @route("POST", rf"{V}/(?P<object_id>act_\d+|\d+)/insights")
    def create_report_run(self, request: Request, object_id: str) -> Response:
        account = object_id.removeprefix("act_") if object_id.startswith("act_") else None
        level, units = self._units_under(object_id, account)
        rows = self._insight_rows(request.params(), level, units)
        run_id = self.state.ids.meta()
        self.state.put_job(
            run_id,
            {
                "id": run_id,
                "account_id": account or "",
                "async_status": "Job Not Started",
                "async_percent_completion": 0,
                "rows": rows,
                "polls": 0,
                "date_start": request.params().get("time_range", ""),
            },
        )
        return json_response({"report_run_id": run_id})


def poll_report(job: dict[str, Any], polls_needed: int) -> dict[str, Any]:
    """One poll of a report run (GET /<run id>): it completes after ``polls_needed`` polls."""
    job["polls"] += 1
    if job["polls"] >= polls_needed:
        job["async_status"], job["async_percent_completion"] = "Job Completed", 100
    else:
        job["async_status"] = "Job Running"
        job["async_percent_completion"] = int(100 * job["polls"] / polls_needed)
    return {key: value for key, value in job.items() if key not in ("rows", "polls")}


# Insights filtering on the object ids above the rows (e.g. an account report of some campaigns).
FILTER_FIELDS = {"campaign.id": "campaign_id", "adset.id": "group_id"}


def _filtered(units: list[Unit], params: dict[str, str]) -> list[Unit]:
    """The units an insights ``filtering`` keeps (campaign.id / adset.id with EQUAL, IN or NOT_IN)."""
    filters = loads_maybe(params.get("filtering"), [])
    if not isinstance(filters, list):
        raise invalid("filtering must be a JSON array")
    for item in filters:
        if not isinstance(item, dict) or item.get("field") not in FILTER_FIELDS:
            raise invalid(f"Unsupported insights filter {item!r}")
        operator, value = str(item.get("operator", "")).upper(), item.get("value")
        wanted = {str(v) for v in value} if isinstance(value, list) else {str(value)}
        if operator not in ("EQUAL", "IN", "NOT_IN"):
            raise invalid(f"Unsupported filter operator {operator}")
        attribute = FILTER_FIELDS[item["field"]]
        units = [unit for unit in units if (getattr(unit, attribute) in wanted) == (operator != "NOT_IN")]
    return units


def _astuple(metrics: DayMetrics) -> tuple[int, ...]:
    return (
        metrics.impressions,
        metrics.reach,
        metrics.clicks,
        metrics.engagements,
        metrics.spend_micros,
        metrics.applications,
    )
