"""X analytics: async stats jobs whose results are gzip JSON files, computed from the simulator."""

from __future__ import annotations

import gzip
import json
from datetime import timedelta
from typing import Any

from adflux.sandbox.api import utc_day
from adflux.sandbox.http import Request, Response, json_response, route
from adflux.sandbox.simulator import campaign_days
from adflux.sandbox.units import Unit
from adflux.sandbox.x.protocol import XProtocol, invalid

MAX_IDS = 20  # entity_ids per stats request or job (X's analytics reference)
# The parameters X's stats endpoints take; the sandbox emulates the first set and refuses the rest
# by name, and anything else as X does an unknown parameter.
STATS_PARAMS = {"entity", "entity_ids", "start_time", "end_time", "granularity", "metric_groups", "placement"}
NOT_EMULATED = {"segmentation_type", "country", "platform"}


def _refuse_unknown(params: dict[str, str]) -> None:
    for name in params:
        if name in NOT_EMULATED:
            raise invalid(f"The sandbox does not emulate {name}", name)
        if name not in STATS_PARAMS:
            raise invalid(f"{name} is not a parameter of this endpoint", name)


class XStats(XProtocol):
    """/12/stats/jobs/accounts/<id>: create a job, poll it, download its file from /__files/."""

    @route("POST", r"/(?:11|12)/stats/jobs/accounts/(?P<account>[0-9a-z]+)")
    def create_job(self, request: Request, account: str) -> Response:
        params = self._params(
            request,
            "entity",
            "entity_ids",
            "start_time",
            "end_time",
            "granularity",
            "metric_groups",
            "placement",
        )
        if params["entity"] != "LINE_ITEM":
            raise invalid("The sandbox emulates entity=LINE_ITEM", "entity")
        _refuse_unknown(params)
        start, end = utc_day(params["start_time"]), utc_day(params["end_time"])
        if start is None or end is None or end <= start or (end - start).days > 90:
            raise invalid("start_time and end_time must span 1 to 90 days", "start_time")
        ids = params["entity_ids"].split(",")
        if len(ids) > MAX_IDS:
            raise invalid("entity_ids accepts at most 20 ids", "entity_ids")
        for item_id in ids:
            self._get("line_item", account, item_id)
        job_id = str(int(self.state.ids.tweet()) + 7)
        job = self.state.put_job(
            job_id,
            {
                "id": job_id,
                "id_str": job_id,
                "account_id": account,
                "status": "PROCESSING",
                "url": None,
                "entity": "LINE_ITEM",
                "entity_ids": ids,
                "start_time": params["start_time"],
                "end_time": params["end_time"],
                "granularity": params["granularity"],
                "metric_groups": params["metric_groups"].split(","),
                "placement": params["placement"],
                "polls": 0,
            },
        )
        return self._ok(_public_job(job), request)

    @route("GET", r"/(?:11|12)/stats/jobs/accounts/(?P<account>[0-9a-z]+)")
    def check_jobs(self, request: Request, account: str) -> Response:
        wanted = set((request.arg("job_ids") or "").split(",")) - {""}
        jobs = [
            job
            for job_id, job in self.state.all_jobs()
            if job.get("account_id") == account and "entity_ids" in job and (not wanted or job_id in wanted)
        ]
        for job in jobs:
            job["polls"] += 1
            if job["status"] == "PROCESSING" and job["polls"] >= self.state.report_polls:
                name = f"x-stats-{job['id']}.json.gz"
                self.state.put_file(name, gzip.compress(json.dumps(self._job_payload(job)).encode()))
                job["status"], job["url"] = "SUCCESS", f"{request.host_url}/__files/{name}"
        return self._ok([_public_job(job) for job in jobs], request, next_cursor=None)

    @route("GET", r"/(?:11|12)/stats/accounts/(?P<account>[0-9a-z]+)")
    def sync_stats(self, request: Request, account: str) -> Response:
        """Synchronous stats: the same series as a job's file, at most 7 days, answered at once."""
        params = self._params(
            request, "entity", "entity_ids", "start_time", "end_time", "granularity", "metric_groups"
        )
        if params["entity"] != "LINE_ITEM":
            raise invalid("The sandbox emulates entity=LINE_ITEM", "entity")
        start, end = utc_day(params["start_time"]), utc_day(params["end_time"])
        if start is None or end is None or end <= start or (end - start).days > 7:
            raise invalid("start_time and end_time must span 1 to 7 days for synchronous stats", "start_time")
        _refuse_unknown(params)
        ids = params["entity_ids"].split(",")
        if len(ids) > MAX_IDS:
            raise invalid("entity_ids accepts at most 20 ids", "entity_ids")
        for item_id in ids:
            self._get("line_item", account, item_id)
        job = {**params, "entity_ids": ids, "placement": request.arg("placement") or "ALL_ON_TWITTER"}
        return json_response(self._job_payload(job))

    def _job_payload(self, job: dict[str, Any]) -> dict[str, Any]:
        start, end = utc_day(job["start_time"]), utc_day(job["end_time"])
        assert start is not None and end is not None
        length = (end - start).days
        data = []
        by_campaign: dict[str, list[Unit]] = {}
        for each in self.state.units_of(self.platform):  # once per job, not once per line item
            by_campaign.setdefault(each.campaign_id, []).append(each)
        for item_id in job["entity_ids"]:
            unit = self.state.unit(self.platform, item_id)
            series: dict[str, list[int]] = {
                key: [0] * length
                for key in (
                    "impressions",
                    "engagements",
                    "clicks",
                    "url_clicks",
                    "billed_charge_local_micro",
                    "sign_ups",
                )
            }
            if unit is not None:
                units = by_campaign[unit.campaign_id]
                days = campaign_days(units, start, end - timedelta(days=1), self.state.today)[item_id]
                for day, metrics in days.items():
                    index = (day - start).days
                    series["impressions"][index] = metrics.impressions
                    series["engagements"][index] = metrics.engagements
                    series["clicks"][index] = metrics.engagements
                    series["url_clicks"][index] = metrics.clicks
                    series["billed_charge_local_micro"][index] = metrics.spend_micros
                    series["sign_ups"][index] = metrics.applications
            metrics_out: dict[str, Any] = {key: value for key, value in series.items() if key != "sign_ups"}
            metrics_out["conversion_sign_ups"] = {
                "metric": series["sign_ups"],
                "post_view": [0] * length,
                "post_engagement": series["sign_ups"],
            }
            data.append({"id": item_id, "id_data": [{"segment": None, "metrics": metrics_out}]})
        return {
            "data": data,
            "data_type": "stats",
            "time_series_length": length,
            "request": {
                "params": {
                    "start_time": job["start_time"],
                    "end_time": job["end_time"],
                    "granularity": job["granularity"],
                    "entity": job["entity"],
                    "placement": job["placement"],
                }
            },
        }


def _public_job(job: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in job.items() if key not in ("polls", "account_id")}
