"""Google Ads reporting: googleAds:search and :searchStream over GAQL, with simulator metrics."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date
from typing import Any

from adflux.sandbox import gaql
from adflux.sandbox.google.protocol import CID, GoogleProtocol, V, camel
from adflux.sandbox.http import ApiError, Request, Response, json_response, route
from adflux.sandbox.simulator import DayMetrics, campaign_days
from adflux.sandbox.state import Unit

# What a criterion row can show, per criterion resource (paths below the resource).
CRITERIA = {
    "campaign_criterion": (
        "location.geo_target_constant",
        "proximity.radius",
        "proximity.geo_point.latitude_in_micro_degrees",
        "proximity.geo_point.longitude_in_micro_degrees",
        "language.language_constant",
        "status",
    ),
    "ad_group_criterion": ("status", "keyword.text", "keyword.match_type", "user_list.user_list"),
}


class GoogleReports(GoogleProtocol):
    """GAQL queries on campaigns, ad groups, ads, user lists and budgets, optionally by day."""

    @route("POST", rf"{V}/customers/{CID}/googleAds:searchStream")
    def search_stream(self, request: Request, version: str, cid: str) -> Response:
        query = gaql.parse(str(request.json().get("query", "")))
        rows = self._run(cid, query)
        batches = [rows[start : start + 10_000] for start in range(0, len(rows), 10_000)] or [[]]
        mask = ",".join(_camel_path(name) for name in query.select)
        return json_response(
            [{"results": batch, "fieldMask": mask, "requestId": self.state.ids.token()} for batch in batches]
        )

    @route("POST", rf"{V}/customers/{CID}/googleAds:search")
    def search(self, request: Request, version: str, cid: str) -> Response:
        body = request.json()
        query = gaql.parse(str(body.get("query", "")))
        rows = self._run(cid, query)
        offset = int(body.get("pageToken") or 0)
        page = rows[offset : offset + 10_000]
        payload: dict[str, Any] = {
            "results": page,
            "fieldMask": ",".join(_camel_path(n) for n in query.select),
            "totalResultsCount": str(len(rows)),
        }
        if offset + len(page) < len(rows):
            payload["nextPageToken"] = str(offset + len(page))
        return json_response(payload)

    def _run(self, cid: str, query: gaql.Query) -> list[dict[str, Any]]:
        resource = query.resource
        if resource == "customer":
            return [_nest({name: value for name, value in _customer(cid).items() if name in query.select})]
        sources = {
            "campaign": "campaign",
            "ad_group": "ad_group",
            "ad_group_ad": "ad_group_ad",
            "user_list": "user_list",
            "campaign_budget": "campaign_budget",
            "campaign_criterion": "campaign_criterion",
            "ad_group_criterion": "ad_group_criterion",
            "asset": "asset",
        }
        if resource not in sources:
            raise ApiError(
                "validation",
                f"Resource {resource} is not emulated.",
                extra={"error_code": {"queryError": "INVALID_RESOURCE_NAME"}},
            )
        with_metrics = any(name.startswith("metrics.") for name in query.select)
        segmented = "segments.date" in query.select
        span = query.date_range(self.state.today)
        if (with_metrics or segmented) and span is None and segmented:
            raise ApiError(
                "validation",
                "segments.date in SELECT requires a finite date range in WHERE.",
                extra={"error_code": {"queryError": "DATE_RANGE_REQUIRED"}},
            )
        flat_rows = []
        # Units by campaign, once per query: a report over many campaigns' ad groups would
        # otherwise scan every unit of the platform for each ad group.
        by_campaign: dict[str, list[Unit]] = defaultdict(list)
        if with_metrics or segmented:
            for unit in self.state.units_of(self.platform):
                by_campaign[unit.campaign_id].append(unit)
        for obj in self._objects(sources[resource], cid):
            base = self._flatten(resource, obj)
            if not query.matches(base):
                continue
            if not with_metrics and not segmented:
                flat_rows.append(base)
                continue
            since, until = span or (date(2000, 1, 1), self.state.today)
            days = self._metrics(resource, obj, by_campaign, since, until)
            if segmented:
                for day, metrics in sorted(days.items()):
                    flat_rows.append({**base, "segments.date": day.isoformat(), **_metric_fields(metrics)})
            else:
                total = DayMetrics.zero()
                for metrics in days.values():
                    total = _add(total, metrics)
                flat_rows.append({**base, **_metric_fields(total)})
        if query.limit is not None:
            flat_rows = flat_rows[: query.limit]
        # Google always returns the resource name of the FROM resource and of every resource a
        # selected field belongs to (not listed in the field mask).
        prefixes = {resource} | {
            name.rsplit(".", 1)[0] for name in query.select if not name.startswith(("metrics.", "segments."))
        }
        names = [f"{prefix}.resource_name" for prefix in sorted(prefixes)] + list(query.select)
        return [
            _nest({name: row.get(name) for name in dict.fromkeys(names) if row.get(name) is not None})
            for row in flat_rows
        ]

    def _flatten(self, resource: str, obj: dict[str, Any]) -> dict[str, Any]:
        row: dict[str, Any] = {}

        def put(prefix: str, item: dict[str, Any]) -> None:
            row[f"{prefix}.resource_name"] = item["resourceName"]
            row[f"{prefix}.id"] = item["id"]
            for key in (
                "name",
                "status",
                "type",
                "advertisingChannelType",
                "amountMicros",
                "startDateTime",
                "endDateTime",
            ):
                if key in item:
                    row[f"{prefix}.{_snake(key)}"] = item[key]

        if resource in CRITERIA:
            return self._flatten_criterion(resource, obj)
        if resource == "ad_group_ad":
            row["ad_group_ad.resource_name"] = obj["resourceName"]
            row["ad_group_ad.status"] = obj.get("status")
            row["ad_group_ad.ad.id"] = obj["id"]
            row["ad_group_ad.ad.final_urls"] = obj["ad"].get("finalUrls")
            group = self._by_name("ad_group", obj["adGroup"]) or {}
            put("ad_group", group)
            obj = group
            resource = "ad_group"
        if resource == "ad_group":
            put("ad_group", obj)
            campaign = self._by_name("campaign", obj["campaign"]) or {}
            put("campaign", campaign)
        elif resource in ("campaign", "user_list", "campaign_budget", "asset"):
            put(resource, obj)
        if resource == "user_list":
            row["user_list.size_for_search"] = str(len(obj.get("_hashes", ())))
        return row

    def _flatten_criterion(self, resource: str, obj: dict[str, Any]) -> dict[str, Any]:
        """A campaign or ad-group criterion's row: its id, what it targets, and its parents."""
        row: dict[str, Any] = {
            f"{resource}.resource_name": obj["resourceName"],
            f"{resource}.criterion_id": obj["id"],
        }
        for path in CRITERIA[resource]:
            value: Any = obj
            for part in path.split("."):
                value = value.get(camel(part)) if isinstance(value, dict) else None
            if value is not None:
                row[f"{resource}.{path}"] = value
        group = self._by_name("ad_group", obj["adGroup"]) if "adGroup" in obj else None
        if group:
            row["ad_group.resource_name"], row["ad_group.id"] = group["resourceName"], group["id"]
        campaign = self._by_name("campaign", obj.get("campaign") or (group or {}).get("campaign", ""))
        if campaign:
            row["campaign.resource_name"], row["campaign.id"] = campaign["resourceName"], campaign["id"]
        return row

    def _metrics(
        self, resource: str, obj: dict[str, Any], by_campaign: dict[str, list[Unit]], since: date, until: date
    ) -> dict[date, DayMetrics]:
        campaign_id = obj["id"] if resource == "campaign" else None
        if resource in ("ad_group", "ad_group_ad"):
            group = obj if resource == "ad_group" else (self._by_name("ad_group", obj["adGroup"]) or {})
            unit = self.state.unit(self.platform, group.get("id", ""))
            if unit is None:
                return {}
            campaign_id, wanted = unit.campaign_id, [unit.group_id]
        units = by_campaign.get(str(campaign_id), [])
        per_group = campaign_days(units, since, until, self.state.today)
        if resource == "campaign":
            wanted = [unit.group_id for unit in units]
        totals: dict[date, DayMetrics] = {}
        for group_id in wanted:
            for day, metrics in per_group.get(group_id, {}).items():
                totals[day] = _add(totals.get(day, DayMetrics.zero()), metrics)
        return totals


def _customer(cid: str) -> dict[str, Any]:
    """The customer the sandbox account is (the test-connection read: SELECT ... FROM customer)."""
    return {
        "customer.resource_name": f"customers/{cid}",
        "customer.id": cid,
        "customer.descriptive_name": f"Sandbox {cid}",
        "customer.currency_code": "COP",
        "customer.time_zone": "America/Bogota",
        "customer.status": "ENABLED",
        "customer.manager": False,
    }


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _camel_path(path: str) -> str:
    return ".".join(camel(part) for part in path.split("."))


def _nest(flat: dict[str, Any]) -> dict[str, Any]:
    nested: dict[str, Any] = {}
    for path, value in flat.items():
        parts = [camel(part) for part in path.split(".")]
        cursor = nested
        for part in parts[:-1]:
            cursor = cursor.setdefault(part, {})
        cursor[parts[-1]] = value
    return nested


def _metric_fields(metrics: DayMetrics) -> dict[str, Any]:
    return {
        "metrics.impressions": str(metrics.impressions),
        "metrics.clicks": str(metrics.clicks),
        "metrics.interactions": str(metrics.clicks),
        "metrics.cost_micros": str(metrics.spend_micros),
        "metrics.conversions": float(metrics.applications),
        "metrics.ctr": metrics.clicks / metrics.impressions if metrics.impressions else 0.0,
        "metrics.average_cpc": metrics.spend_micros / metrics.clicks if metrics.clicks else 0.0,
    }


def _add(left: DayMetrics, right: DayMetrics) -> DayMetrics:
    return DayMetrics(
        left.impressions + right.impressions,
        left.reach + right.reach,
        left.clicks + right.clicks,
        left.engagements + right.engagements,
        left.spend_micros + right.spend_micros,
        left.applications + right.applications,
    )
