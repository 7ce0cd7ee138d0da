"""TikTok Marketing API v1.3 emulation: HTTP 200 envelopes with codes, 19-digit ids, report tasks."""

from __future__ import annotations

import csv
import io
import json
import logging
import math
import re
from datetime import date, datetime
from email import message_from_bytes
from email.message import Message
from typing import Any

from adflux.sandbox.api import PlatformApi
from adflux.sandbox.http import ApiError, Request, Response, json_response, route
from adflux.sandbox.simulator import campaign_days
from adflux.sandbox.state import SandboxState, Unit

logger = logging.getLogger(__name__)

P = r"/open_api/v1\.3"
ADULT_AGE_GROUPS = {"AGE_18_24", "AGE_25_34", "AGE_35_44", "AGE_45_54", "AGE_55_100"}
OBJECTIVES = {
    "TRAFFIC": "traffic",
    "LEAD_GENERATION": "leads",
    "REACH": "traffic",
    "WEB_CONVERSIONS": "leads",
}
STATUSES = ("ENABLE", "DISABLE", "DELETE")
CODE_PARAM = 40002
CODE_THROTTLE = 40100
CODE_EXPIRED = 40102
CODE_EMPTY_TOKEN = 40104
CODE_SYSTEM = 50000


def _invalid(message: str) -> ApiError:
    return ApiError("validation", message, code=CODE_PARAM)


class TikTokApi(PlatformApi):
    """business-api.tiktok.com/open_api/v1.3/..."""

    platform = "tiktok"
    prefix = re.compile(rf"^{P}/")

    def __init__(self, state: SandboxState) -> None:
        super().__init__(state)

    # -- hooks -------------------------------------------------------------------------------

    def token(self, request: Request) -> str | None:
        return request.headers.get("access-token")

    def authenticate(self, request: Request) -> None:
        state = self.state.token_state(self.platform, self.token(request))
        if state == "missing":
            raise ApiError("auth", "Access token is null, please check your request.", code=CODE_EMPTY_TOKEN)
        if state == "expired":
            raise ApiError("auth", "Access token has expired, please refresh it.", code=CODE_EXPIRED)

    def rate_key(self, request: Request) -> str:
        return self.token(request) or "anonymous"

    def throttle_error(self, wait: float, request: Request) -> ApiError:
        return ApiError(
            "throttle", "Too many requests. Please retry in some time.", code=CODE_THROTTLE, retry_after=wait
        )

    def transient_error(self) -> ApiError:
        return ApiError("server", "System error, please try again later.", code=CODE_SYSTEM)

    def render_error(self, error: ApiError, request: Request) -> Response:
        code = error.code or {"not_found": CODE_PARAM, "validation": CODE_PARAM}.get(error.kind, CODE_SYSTEM)
        # TikTok answers HTTP 200 for business errors; only a broken route is a real 404.
        status = 404 if error.status == 404 and error.kind == "not_found" and error.code is None else 200
        return json_response(
            {"code": code, "message": error.message, "request_id": self._request_id(), "data": {}}, status
        )

    def _request_id(self) -> str:
        return datetime.now().strftime("%Y%m%d%H%M%S") + self.state.ids.token().upper()

    def _ok(self, data: Any) -> Response:
        return json_response({"code": 0, "message": "OK", "request_id": self._request_id(), "data": data})

    # -- helpers -------------------------------------------------------------------------------

    def _body(self, request: Request, *required: str) -> dict[str, Any]:
        body = (
            request.json()
            if request.method == "POST"
            else {key: _maybe_json(values[0]) for key, values in request.query.items()}
        )
        for name in required:
            if body.get(name) in (None, "", []):
                raise _invalid(f"{name}: Missing data for required field.")
        return body

    def _new(self, kind: str, fields: dict[str, Any]) -> dict[str, Any]:
        stamp = self.state.now().strftime("%Y-%m-%d %H:%M:%S")
        id_field = {
            "campaign": "campaign_id",
            "adgroup": "adgroup_id",
            "ad": "ad_id",
            "audience": "custom_audience_id",
        }[kind]
        new_id = self.state.ids.tiktok()
        return self.state.add(
            self.platform,
            kind,
            {"id": new_id, id_field: new_id, "create_time": stamp, "modify_time": stamp, **fields},
        )

    def _get(self, kind: str, advertiser: str, object_id: str) -> dict[str, Any]:
        obj = self.state.get(self.platform, kind, str(object_id))
        if obj is None or obj["advertiser_id"] != str(advertiser) or obj.get("operation_status") == "DELETE":
            raise ApiError("not_found", f"{kind} {object_id} does not exist", code=CODE_PARAM)
        return obj

    def _list(self, request: Request, kind: str, name_field: str) -> Response:
        params = self._body(request, "advertiser_id")
        filtering = params.get("filtering") or {}
        rows = [
            obj
            for obj in self.state.all(self.platform, kind)
            if obj["advertiser_id"] == str(params["advertiser_id"])
            and obj.get("operation_status") != "DELETE"
        ]
        for key in ("campaign_ids", "adgroup_ids", "ad_ids"):
            if filtering.get(key):
                field = key[:-1]
                rows = [obj for obj in rows if obj.get(field) in set(map(str, filtering[key]))]
        if filtering.get(name_field):
            # TikTok name filters are fuzzy (substring) matches.
            rows = [obj for obj in rows if str(filtering[name_field]) in obj.get(name_field, "")]
        page = max(1, int(params.get("page") or 1))
        size = min(1000, max(1, int(params.get("page_size") or 10)))
        chunk = rows[(page - 1) * size : page * size]
        return self._ok(
            {
                "list": [_public(obj) for obj in chunk],
                "page_info": {
                    "page": page,
                    "page_size": size,
                    "total_number": len(rows),
                    "total_page": max(1, math.ceil(len(rows) / size)),
                },
            }
        )

    # -- campaigns --------------------------------------------------------------------------------

    @route("POST", rf"{P}/campaign/create/")
    def create_campaign(self, request: Request) -> Response:
        body = self._body(request, "advertiser_id", "campaign_name", "objective_type")
        if body["objective_type"] not in OBJECTIVES:
            raise _invalid(f"objective_type: Invalid value {body['objective_type']}")
        advertiser = str(body["advertiser_id"])
        if any(
            obj["campaign_name"] == body["campaign_name"]
            and obj["advertiser_id"] == advertiser
            and obj.get("operation_status") != "DELETE"
            for obj in self.state.all(self.platform, "campaign")
        ):
            raise _invalid("Campaign name already exists. Please try another one.")
        mode = body.get("budget_mode", "BUDGET_MODE_INFINITE")
        if mode != "BUDGET_MODE_INFINITE" and float(body.get("budget") or 0) <= 0:
            raise _invalid("budget: Budget must be greater than 0.")
        special = body.get("special_industries") or []
        if set(special) - {"HOUSING", "EMPLOYMENT", "CREDIT"}:
            raise _invalid(f"special_industries: Invalid value {special}")
        campaign = self._new(
            "campaign",
            {
                "advertiser_id": advertiser,
                "campaign_name": body["campaign_name"],
                "objective_type": body["objective_type"],
                "budget_mode": mode,
                "budget": float(body.get("budget") or 0),
                "operation_status": body.get("operation_status", "ENABLE"),
                "special_industries": special,
                "request_id": body.get("request_id"),
            },
        )
        return self._ok({"campaign_id": campaign["id"]})

    @route("GET", rf"{P}/campaign/get/")
    def list_campaigns(self, request: Request) -> Response:
        return self._list(request, "campaign", "campaign_name")

    @route("POST", rf"{P}/(?P<kind>campaign|adgroup|ad)/status/update/")
    def update_status(self, request: Request, kind: str) -> Response:
        body = self._body(request, "advertiser_id", f"{kind}_ids", "operation_status")
        if body["operation_status"] not in STATUSES:
            raise _invalid(f"operation_status: must be one of {STATUSES}")
        changed = []
        for object_id in body[f"{kind}_ids"]:
            obj = self._get(kind, body["advertiser_id"], object_id)
            obj["operation_status"] = body["operation_status"]
            changed.append(obj["id"])
            self._refresh(obj)
        return self._ok({f"{kind}_ids": changed, "status": body["operation_status"]})

    # -- ad groups -------------------------------------------------------------------------------

    @route("POST", rf"{P}/adgroup/create/")
    def create_adgroup(self, request: Request) -> Response:
        body = self._body(
            request,
            "advertiser_id",
            "campaign_id",
            "adgroup_name",
            "placement_type",
            "location_ids",
            "billing_event",
            "optimization_goal",
        )
        campaign = self._get("campaign", body["advertiser_id"], body["campaign_id"])
        if (
            body.get("budget_mode", "BUDGET_MODE_DAY") == "BUDGET_MODE_DAY"
            and float(body.get("budget") or 0) <= 0
        ):
            raise _invalid("budget: The daily budget must be greater than 0.")
        if campaign["special_industries"]:
            self._check_special(body)
        group = self._new(
            "adgroup",
            {
                "advertiser_id": str(body["advertiser_id"]),
                "campaign_id": campaign["id"],
                "adgroup_name": body["adgroup_name"],
                "operation_status": body.get("operation_status", "ENABLE"),
                "budget": float(body.get("budget") or 0),
                "budget_mode": body.get("budget_mode", "BUDGET_MODE_DAY"),
                "location_ids": body["location_ids"],
                "age_groups": body.get("age_groups"),
                "gender": body.get("gender", "GENDER_UNLIMITED"),
                "audience_ids": body.get("audience_ids") or [],
                "schedule_start_time": body.get("schedule_start_time"),
                "schedule_end_time": body.get("schedule_end_time"),
                "optimization_goal": body["optimization_goal"],
            },
        )
        cap = campaign["budget"] if campaign["budget_mode"] == "BUDGET_MODE_TOTAL" else None
        self.state.put_unit(
            Unit(
                platform=self.platform,
                account=group["advertiser_id"],
                campaign_id=campaign["id"],
                group_id=group["id"],
                daily_budget=int(group["budget"]),
                objective=OBJECTIVES[campaign["objective_type"]],
                campaign_cap=int(cap) if cap else None,
                custom_audience=bool(group["audience_ids"]),
                texts=[campaign["campaign_name"], group["adgroup_name"]],
                start=_day(group["schedule_start_time"]),
                end=_day(group["schedule_end_time"]),
            )
        )
        self._refresh(group)
        return self._ok({"adgroup_id": group["id"]})

    def _check_special(self, body: dict[str, Any]) -> None:
        """Special ad categories: 18+ only; no gender, postal code, interest, lookalike or expansion."""
        problems = []
        ages = body.get("age_groups")
        if ages and set(ages) != ADULT_AGE_GROUPS:
            problems.append("age_groups must include every 18+ group")
        if body.get("gender", "GENDER_UNLIMITED") != "GENDER_UNLIMITED":
            problems.append("gender targeting is not allowed")
        if body.get("zipcode_ids"):
            problems.append("zip code targeting is not allowed")
        if body.get("interest_category_ids") or body.get("interest_keyword_ids"):
            problems.append("interest targeting is not allowed")
        if body.get("excluded_audience_ids"):
            problems.append("audience exclusion is not allowed")
        if body.get("expansion_enabled"):
            problems.append("targeting expansion is not allowed")
        for audience_id in body.get("audience_ids") or []:
            audience = self.state.get(self.platform, "audience", str(audience_id))
            if audience and audience.get("audience_type") == "LOOKALIKE":
                problems.append("lookalike audiences are not allowed")
        if problems:
            raise _invalid("Special ad category (employment) restrictions: " + "; ".join(problems) + ".")

    @route("GET", rf"{P}/adgroup/get/")
    def list_adgroups(self, request: Request) -> Response:
        return self._list(request, "adgroup", "adgroup_name")

    # -- ads ------------------------------------------------------------------------------------------

    @route("POST", rf"{P}/ad/create/")
    def create_ad(self, request: Request) -> Response:
        body = self._body(request, "advertiser_id", "adgroup_id", "creatives")
        group = self._get("adgroup", body["advertiser_id"], body["adgroup_id"])
        ids = []
        for creative in body["creatives"]:
            for name in ("ad_name", "ad_text", "landing_page_url"):
                if not creative.get(name):
                    raise _invalid(f"creatives.{name}: Missing data for required field.")
            if len(creative["ad_text"]) > 100:
                raise _invalid("creatives.ad_text: Length must be at most 100 characters.")
            ad = self._new(
                "ad",
                {
                    "advertiser_id": group["advertiser_id"],
                    "adgroup_id": group["id"],
                    "campaign_id": group["campaign_id"],
                    "operation_status": body.get(
                        "operation_status", creative.get("operation_status", "ENABLE")
                    ),
                    **{key: value for key, value in creative.items() if key != "operation_status"},
                },
            )
            ids.append(ad["id"])
            unit = self.state.unit(self.platform, group["id"])
            if unit is not None:
                unit.texts.append(creative["ad_text"])
        self._refresh(group)
        return self._ok({"ad_ids": ids})

    @route("GET", rf"{P}/ad/get/")
    def list_ads(self, request: Request) -> Response:
        return self._list(request, "ad", "ad_name")

    def _refresh(self, obj: dict[str, Any]) -> None:
        groups = self.state.all(self.platform, "adgroup")
        campaign_id = obj.get("campaign_id") or obj["id"]
        for group in groups:
            if group["campaign_id"] != campaign_id:
                continue
            campaign = self.state.get(self.platform, "campaign", campaign_id) or {}
            ads = [ad for ad in self.state.all(self.platform, "ad") if ad["adgroup_id"] == group["id"]]
            live = any(ad["operation_status"] == "ENABLE" for ad in ads)
            self.state.set_active(
                self.platform,
                group["id"],
                campaign.get("operation_status") == "ENABLE"
                and group["operation_status"] == "ENABLE"
                and live,
            )

    # -- reports --------------------------------------------------------------------------------------

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
            raise _invalid("The sandbox emulates data_level=AUCTION_ADGROUP with an adgroup_id dimension.")
        task_id = self.state.ids.tiktok()
        self.state.jobs[task_id] = {
            "task_id": task_id,
            "advertiser_id": str(body["advertiser_id"]),
            "status": "QUEUING",
            "polls": 0,
            "body": body,
        }
        return self._ok({"task_id": task_id})

    @route("GET", rf"{P}/report/task/check/")
    def check_task(self, request: Request) -> Response:
        params = self._body(request, "advertiser_id", "task_id")
        task = self.state.jobs.get(str(params["task_id"]))
        if task is None or task.get("advertiser_id") != str(params["advertiser_id"]):
            raise _invalid("task_id does not exist")
        task["polls"] += 1
        task["status"] = "SUCCESS" if task["polls"] >= self.state.report_polls else "PROCESSING"
        return self._ok({"task_id": task["task_id"], "status": task["status"]})

    @route("GET", rf"{P}/report/task/download/")
    def download_task(self, request: Request) -> Response:
        params = self._body(request, "advertiser_id", "task_id")
        task = self.state.jobs.get(str(params["task_id"]))
        if task is None or task["status"] != "SUCCESS":
            raise _invalid("The task is not finished yet")
        body = task["body"]
        since, until = date.fromisoformat(body["start_date"]), date.fromisoformat(body["end_date"])
        wanted_campaigns = set()
        for item in body.get("filters") or []:
            if item.get("field_name") == "campaign_ids":
                wanted_campaigns |= set(map(str, _maybe_json(item["filter_value"])))
        units = [
            unit
            for unit in self.state.units.values()
            if unit.platform == self.platform
            and unit.account == task["advertiser_id"]
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

    # -- custom audiences -------------------------------------------------------------------------------

    @route("POST", rf"{P}/dmp/custom_audience/file/upload/")
    def upload_file(self, request: Request) -> Response:
        parts = _multipart(request)
        if parts.get("calculate_type") != "EMAIL_SHA256":
            raise _invalid("calculate_type: only EMAIL_SHA256 is emulated")
        lines = [line.strip() for line in parts.get("file", "").splitlines() if line.strip()]
        if any(not re.fullmatch(r"[0-9a-f]{64}", line) for line in lines):
            raise _invalid("file: every line must be a SHA-256 hex digest")
        path = f"audience/{self.state.ids.token()}.txt"
        self.state.files[path] = "\n".join(lines).encode()
        return self._ok({"file_path": path, "size": len(lines)})

    @route("POST", rf"{P}/dmp/custom_audience/create/")
    def create_audience(self, request: Request) -> Response:
        body = self._body(request, "advertiser_id", "custom_audience_name", "file_paths", "calculate_type")
        hashes: set[str] = set()
        for path in body["file_paths"]:
            if path not in self.state.files:
                raise _invalid(f"file_paths: {path} does not exist")
            hashes |= set(self.state.files[path].decode().split())
        audience = self._new(
            "audience",
            {
                "advertiser_id": str(body["advertiser_id"]),
                "name": body["custom_audience_name"],
                "audience_type": "CUSTOMER_FILE",
                "_hashes": hashes,
                "cover_num": len(hashes),
            },
        )
        return self._ok({"custom_audience_id": audience["id"]})

    @route("GET", rf"{P}/dmp/custom_audience/list/")
    def list_audiences(self, request: Request) -> Response:
        params = self._body(request, "advertiser_id")
        rows = [
            _public(obj)
            for obj in self.state.all(self.platform, "audience")
            if obj["advertiser_id"] == str(params["advertiser_id"])
        ]
        return self._ok(
            {
                "list": rows,
                "page_info": {"page": 1, "page_size": len(rows), "total_number": len(rows), "total_page": 1},
            }
        )

    @route("GET", rf"{P}/advertiser/info/")
    def advertiser_info(self, request: Request) -> Response:
        params = self._body(request, "advertiser_ids")
        return self._ok(
            {
                "list": [
                    {
                        "advertiser_id": str(adv),
                        "name": f"Sandbox {adv}",
                        "currency": "COP",
                        "status": "STATUS_ENABLE",
                        "timezone": "America/Bogota",
                    }
                    for adv in params["advertiser_ids"]
                ]
            }
        )


def _public(obj: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in obj.items() if not key.startswith("_") and key != "id"}


def _maybe_json(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _multipart(request: Request) -> dict[str, str]:
    header = f"Content-Type: {request.headers.get('content-type', '')}\r\n\r\n".encode()
    message: Message = message_from_bytes(header + request.body)
    parts: dict[str, str] = {}
    if not message.is_multipart():
        raise _invalid("multipart/form-data body expected")
    for part in message.get_payload():  # type: ignore[union-attr]
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        parts[str(name)] = payload.decode()
    return parts


def _day(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None
