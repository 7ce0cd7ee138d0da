"""TikTok reports: async report tasks whose download is a CSV computed from the simulator."""

from __future__ import annotations

import csv
import io
from datetime import date

from adflux.sandbox.http import Request, Response, route
from adflux.sandbox.simulator import campaign_days
from adflux.sandbox.state import Unit
from adflux.sandbox.tiktok.protocol import P, TikTokProtocol, invalid, maybe_json


class TikTokReports(TikTokProtocol):
    """/report/task/{create,check,download}/ (AUCTION_ADGROUP by adgroup_id and day)."""

    @route("POST", rf"{P}/report/task/create/")
    def create_task(self, request: Request) -> Response:
        body = self._body(
            request,
            "advertiser_id",
            "report_type",
            "data_level",
            "dimensions",
            "metrics",
            "start_date",
            "end_date",
        )
        if body["data_level"] != "AUCTION_ADGROUP" or "adgroup_id" not in body["dimensions"]:
            raise invalid("The sandbox emulates data_level=AUCTION_ADGROUP with an adgroup_id dimension.")
        task_id = self.state.ids.tiktok()
        self.state.put_job(
            task_id,
            {
                "task_id": task_id,
                "advertiser_id": str(body["advertiser_id"]),
                "status": "QUEUING",
                "polls": 0,
                "body": body,
            },
        )
        return self._ok({"task_id": task_id})

    @route("GET", rf"{P}/report/task/check/")
    def check_task(self, request: Request) -> Response:
        params = self._body(request, "advertiser_id", "task_id")
        task = self.state.job(str(params["task_id"]))
        if task is None or task.get("advertiser_id") != str(params["advertiser_id"]):
            raise invalid("task_id does not exist")
        task["polls"] += 1
        task["status"] = "SUCCESS" if task["polls"] >= self.state.report_polls else "PROCESSING"
        return self._ok({"task_id": task["task_id"], "status": task["status"]})

    @route("GET", rf"{P}/report/task/download/")
    def download_task(self, request: Request) -> Response:
        params = self._body(request, "advertiser_id", "task_id")
        task = self.state.job(str(params["task_id"]))
        if task is None or task["status"] != "SUCCESS":
            raise invalid("The task is not finished yet")
        body = task["body"]
        since, until = date.fromisoformat(body["start_date"]), date.fromisoformat(body["end_date"])
        wanted_campaigns = set()
        for item in body.get("filtering") or []:
            if item.get("field_name") == "campaign_ids":
                wanted_campaigns |= set(map(str, maybe_json(item["filter_value"])))
        units = [
            unit
            for unit in self.state.units_of(self.platform)
            if unit.account == task["advertiser_id"]
            and (not wanted_campaigns or unit.campaign_id in wanted_campaigns)
        ]
        out = io.StringIO()
        metrics = list(body["metrics"])
        writer = csv.writer(out)
        writer.writerow(["adgroup_id", "stat_time_day", *metrics])
        by_campaign: dict[str, list[Unit]] = {}
        for unit in units:
            by_campaign.setdefault(unit.campaign_id, []).append(unit)
        for group in by_campaign.values():
            for group_id, days in campaign_days(group, since, until, self.state.today).items():
                for day, m in sorted(days.items()):
                    values = {
                        "spend": f"{m.spend_micros / 1_000_000:.2f}",
                        "impressions": m.impressions,
                        "clicks": m.clicks,
                        "reach": m.reach,
                        "conversion": m.applications,
                        "engagements": m.engagements,
                        "ctr": f"{100 * m.clicks / m.impressions if m.impressions else 0:.2f}",
                    }
                    writer.writerow(
                        [group_id, f"{day.isoformat()} 00:00:00", *(values.get(n, 0) for n in metrics)]
                    )
        return Response(200, out.getvalue().encode(), {"Content-Type": "text/csv"})
