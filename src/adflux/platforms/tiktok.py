"""TikTok Marketing API v1.3 adapter: campaign -> ad group per segment -> ad, report tasks."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
from collections.abc import Sequence
from datetime import date
from typing import Any

import httpx

from adflux.platforms.adapters import register
from adflux.platforms.base import Step, Tree, TreeAdapter
from adflux.platforms.compliance import CompliancePlan
from adflux.platforms.errors import (
    AuthError,
    FatalError,
    PlatformError,
    PlatformValidationError,
    RetryableError,
    ThrottledError,
)
from adflux.platforms.geo import COUNTRY_GEONAMES_ID
from adflux.platforms.money import decimal_to_micros, tiktok_amount
from adflux.platforms.types import AdGroupSpec, CampaignSpec, HealthReport, InsightRow, PublishResult

logger = logging.getLogger(__name__)

OBJECTIVES = {"traffic": "TRAFFIC", "leads": "LEAD_GENERATION"}
ADULT_AGE_GROUPS = ["AGE_18_24", "AGE_25_34", "AGE_35_44", "AGE_45_54", "AGE_55_100"]
AUTH_CODES = frozenset({40102, 40103, 40104, 40105})
PAGE_SIZE = 100
# The custom audience list pages at most 100 at a time.
AUDIENCE_PAGE_SIZE = 100


def classify_tiktok(response: httpx.Response, now: float) -> PlatformError | None:
    """TikTok puts business errors in an HTTP 200 body with a non-zero ``code``."""
    kwargs: dict[str, Any] = {"platform": "tiktok", "status_code": response.status_code}
    if response.status_code >= 500:
        return RetryableError(response.reason_phrase, **kwargs)
    if response.status_code == 429:
        return ThrottledError(response.reason_phrase, **kwargs)
    if response.status_code == 401:
        return AuthError(response.reason_phrase, **kwargs)
    if response.status_code >= 400:
        return FatalError(response.reason_phrase, **kwargs)
    if not response.headers.get("content-type", "").startswith("application/json"):
        return None  # a report file
    try:
        body = response.json()
    except ValueError:
        return RetryableError("unparseable response", **kwargs)
    code = body.get("code", 0)
    if code == 0:
        return None
    message = body.get("message", "")
    kwargs.update(code=code, details=body)
    if code == 40100:
        # No hint in TikTok's answer: exponential backoff decides the wait.
        return ThrottledError(message, **kwargs)
    if code in AUTH_CODES:
        return AuthError(message, **kwargs)
    if code >= 50000:
        return RetryableError(message, **kwargs)
    if 40000 <= code < 50000:
        return PlatformValidationError(message, **kwargs)
    return FatalError(message, **kwargs)


@register
class TikTokAdapter(TreeAdapter):
    """TikTok: campaign (special industry EMPLOYMENT) -> ad groups -> ads with inline creatives."""

    platform = "tiktok"
    default_base_url = "https://business-api.tiktok.com"
    default_api_version = "v1.3"
    classify = staticmethod(classify_tiktok)

    def default_headers(self) -> dict[str, str]:
        return {"Access-Token": self.account.credentials.get("access_token", "")}

    @property
    def advertiser(self) -> str:
        return self.account.account_id

    def _path(self, endpoint: str) -> str:
        return f"open_api/{self.api_version}/{endpoint}"

    def _post(self, endpoint: str, operation: str, body: dict[str, Any]) -> dict[str, Any]:
        payload = {"advertiser_id": self.advertiser, **body}
        return self.transport.request("POST", self._path(endpoint), operation=operation, json=payload).json()[
            "data"
        ]

    def _get(self, endpoint: str, operation: str, **params: Any) -> Any:
        # TikTok GETs take JSON-encoded lists and objects in the query string.
        query = {
            key: json.dumps(value) if isinstance(value, list | dict) else value
            for key, value in params.items()
        }
        response = self.transport.request("GET", self._path(endpoint), operation=operation, params=query)
        return (
            response.json()["data"]
            if response.headers.get("content-type", "").startswith("application/json")
            else response.text
        )

    def _all(self, endpoint: str, operation: str, filtering: dict[str, Any]) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        page = 1
        while True:
            data = self._get(
                endpoint,
                operation,
                advertiser_id=self.advertiser,
                filtering=filtering,
                page=page,
                page_size=PAGE_SIZE,
            )
            rows.extend(data.get("list", []))
            if page >= data.get("page_info", {}).get("total_page", 1):
                return rows
            page += 1

    def _find(self, endpoint: str, name_field: str, name: str, id_field: str, **filters: Any) -> str | None:
        for row in self._all(endpoint, f"find_{id_field}", {name_field: name, **filters}):
            if row.get(name_field) == name:
                return str(row[id_field])
        return None

    # -- publishing ------------------------------------------------------------------------

    ads_follow_groups = True  # each ad group's ad (with its inline creative) right after it

    def _campaign_step(self, tree: Tree, name: str) -> Step:
        spec = tree.spec
        first = next(iter(tree.plans.values())).targeting
        body = {
            "campaign_name": name,
            "objective_type": OBJECTIVES[spec.objective],
            "budget_mode": "BUDGET_MODE_TOTAL",
            "budget": tiktok_amount(spec.budget_total),
            "operation_status": "DISABLE",
            "special_industries": list(first.special_ad_categories),
            "request_id": str(int(hashlib.sha256(spec.key.encode()).hexdigest()[:15], 16)),
        }
        return Step(
            "campaign",
            lambda: self._find("campaign/get/", "campaign_name", name, "campaign_id"),
            lambda: str(self._post("campaign/create/", "create_campaign", body)["campaign_id"]),
            look_first=True,
        )

    def _group_step(self, tree: Tree, group: AdGroupSpec, name: str) -> Step:
        campaign_id = tree.result.campaign_id
        body = self._adgroup_body(tree.spec, name, group.daily_budget, campaign_id, tree.plans[group.ref])
        return Step(
            f"ad group {group.ref}",
            lambda: self._find(
                "adgroup/get/", "adgroup_name", name, "adgroup_id", campaign_ids=[campaign_id]
            ),
            lambda: str(self._post("adgroup/create/", "create_adgroup", body)["adgroup_id"]),
            look_first=tree.campaign_reused,
        )

    def _ad_step(self, tree: Tree, group: AdGroupSpec, name: str) -> Step:
        group_id = tree.result.ad_groups[group.ref]
        body = {
            "adgroup_id": group_id,
            "creatives": [self._creative(tree.spec, name)],
        }
        return Step(
            f"ad {group.ref}",
            lambda: self._find("ad/get/", "ad_name", name, "ad_id", adgroup_ids=[group_id]),
            lambda: str(self._post("ad/create/", "create_ad", body)["ad_ids"][0]),
            look_first=group.ref in tree.reused_groups,
        )

    def _adgroup_body(
        self, spec: CampaignSpec, name: str, daily: int, campaign_id: str, plan: CompliancePlan
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "campaign_id": campaign_id,
            "adgroup_name": name,
            "promotion_type": "WEBSITE",
            "placement_type": "PLACEMENT_TYPE_NORMAL",
            "placements": ["PLACEMENT_TIKTOK"],
            **self._targeting_fields(plan),
            "budget_mode": "BUDGET_MODE_DAY",
            "budget": tiktok_amount(daily),
            "schedule_type": "SCHEDULE_START_END" if spec.end_date else "SCHEDULE_FROM_NOW",
            "schedule_start_time": f"{spec.start_date.isoformat()} 00:00:00",
            "optimization_goal": "CLICK",
            "billing_event": "CPC",
            "bid_type": "BID_TYPE_NO_BID",
            "pacing": "PACING_MODE_SMOOTH",
            "operation_status": "DISABLE",
        }
        if spec.end_date:
            body["schedule_end_time"] = f"{spec.end_date.isoformat()} 23:59:59"
        return body

    @staticmethod
    def _targeting_fields(plan: CompliancePlan) -> dict[str, Any]:
        """An ad group's targeting fields (the ones adgroup/update takes back, too)."""
        targeting = plan.targeting
        locations = [str(city.geonames_id) for city in targeting.cities] or [
            str(COUNTRY_GEONAMES_ID.get(targeting.country, ""))
        ]
        fields: dict[str, Any] = {
            "location_ids": locations,
            "age_groups": ADULT_AGE_GROUPS,
            "gender": "GENDER_UNLIMITED",
            "languages": list(targeting.languages),
        }
        if targeting.custom_audience_id:
            fields["audience_ids"] = [targeting.custom_audience_id]
        return fields

    def _creative(self, spec: CampaignSpec, ad_name: str) -> dict[str, Any]:
        creative = spec.creative
        body: dict[str, Any] = {
            "ad_name": ad_name,
            "ad_format": "SINGLE_IMAGE",
            # TikTok reads operation_status per creative (default ENABLE), not on the ad/create body.
            "operation_status": "DISABLE",
            "ad_text": creative.primary_text[:100],
            "landing_page_url": creative.link_url,
            "call_to_action": creative.call_to_action,
            "display_name": str(self.account.extra.get("display_name", "Empleos")),
        }
        if creative.extra.get("image_ids"):
            body["image_ids"] = list(creative.extra["image_ids"])
        if self.account.extra.get("identity_id"):
            body["identity_id"] = self.account.extra["identity_id"]
            body["identity_type"] = self.account.extra.get("identity_type") or "CUSTOMIZED_USER"
        return body

    # -- lifecycle -------------------------------------------------------------------------

    def set_status(self, result: PublishResult, status: str) -> None:
        """ENABLE bottom-up; DISABLE/DELETE at the campaign is enough."""
        self._raise_for_status(status)
        value = {"active": "ENABLE", "paused": "DISABLE", "archived": "DELETE"}[status]
        # (No ids: every ad group is paused on its own, and the campaign alone is switched.)
        if status == "active" and result.ads:
            self._post(
                "ad/status/update/",
                "update_ads",
                {"ad_ids": list(result.ads.values()), "operation_status": value},
            )
        if status == "active" and result.ad_groups:
            self._post(
                "adgroup/status/update/",
                "update_adgroups",
                {"adgroup_ids": list(result.ad_groups.values()), "operation_status": value},
            )
        self._post(
            "campaign/status/update/",
            "update_campaign",
            {"campaign_ids": [result.campaign_id], "operation_status": value},
        )

    # -- reporting -------------------------------------------------------------------------

    report_batch = 100  # TikTok's most campaign_ids in one filter

    def fetch_insights(self, result: PublishResult, since: date, until: date) -> list[InsightRow]:
        """An async report task (create, check, download the CSV)."""
        return self.fetch_insights_many([result], since, until)

    def fetch_insights_many(
        self, results: Sequence[PublishResult], since: date, until: date
    ) -> list[InsightRow]:
        """One async report task over these campaigns' ad groups (campaign_ids filter)."""
        ids = [result.campaign_id for result in results]
        task_id = self._post(
            "report/task/create/",
            "create_report_task",
            {
                "report_type": "BASIC",
                "data_level": "AUCTION_ADGROUP",
                "dimensions": ["adgroup_id", "stat_time_day"],
                "metrics": ["spend", "impressions", "clicks", "reach", "conversion", "engagements"],
                "start_date": since.isoformat(),
                "end_date": until.isoformat(),
                "filtering": [
                    {
                        "field_name": "campaign_ids",
                        "filter_type": "IN",
                        "filter_value": json.dumps(ids),
                    }
                ],
            },
        )["task_id"]

        def poll() -> bool | None:
            status = self._get(
                "report/task/check/", "check_report_task", advertiser_id=self.advertiser, task_id=task_id
            )["status"]
            if status in ("FAILED", "CANCELED"):
                raise RetryableError(f"report task {task_id} ended as {status}", platform="tiktok")
            return True if status == "SUCCESS" else None

        self._wait_for(f"report task {task_id}", poll)
        text = self._get(
            "report/task/download/", "download_report", advertiser_id=self.advertiser, task_id=task_id
        )
        refs = {gid: ref for result in results for gid, ref in result.group_refs().items()}
        rows = []
        for row in csv.DictReader(io.StringIO(text)):
            rows.append(
                InsightRow(
                    ad_group_ref=refs.get(row["adgroup_id"]),
                    ad_group_id=row["adgroup_id"],
                    date=date.fromisoformat(row["stat_time_day"][:10]),
                    impressions=int(row["impressions"]),
                    reach=int(row["reach"]),
                    clicks=int(row["clicks"]),
                    engagements=int(row["engagements"]),
                    spend_micros=decimal_to_micros(row["spend"]),
                    applications=int(row["conversion"]),
                )
            )
        return rows

    # -- audiences: a file of EMAIL_SHA256 lines, then the custom audience made from it ---------

    def _find_audience(self, name: str) -> str | None:
        # Every page: the list has no name filter, and an account may hold hundreds of audiences.
        page = 1
        while True:
            data = self._get(
                "dmp/custom_audience/list/",
                "find_audience",
                advertiser_id=self.advertiser,
                page=page,
                page_size=AUDIENCE_PAGE_SIZE,
            )
            for row in data.get("list", []):
                if row.get("name") == name:
                    return str(row["custom_audience_id"])
            if page >= data.get("page_info", {}).get("total_page", 1):
                return None
            page += 1

    def _create_audience(self, name: str, hashes: list[str]) -> str:
        content = "\n".join(hashes).encode()
        upload = self.transport.request(
            "POST",
            self._path("dmp/custom_audience/file/upload/"),
            operation="upload_audience_file",
            data={
                "advertiser_id": self.advertiser,
                "calculate_type": "EMAIL_SHA256",
                "file_signature": hashlib.md5(content).hexdigest(),
            },
            files={"file": ("audience.txt", content, "text/plain")},
        ).json()["data"]
        body = {
            "custom_audience_name": name,
            "file_paths": [upload["file_path"]],
            "calculate_type": "EMAIL_SHA256",
        }
        return str(self._post("dmp/custom_audience/create/", "create_audience", body)["custom_audience_id"])

    def _fill_audience(self, audience: str, hashes: list[str]) -> tuple[int, int]:
        # The hashes went up as the file the audience was created from; nothing more to send.
        return len(hashes), 0

    # -- health ----------------------------------------------------------------------------

    def health(self) -> HealthReport:
        """advertiser/info proves the token (TikTok long-term tokens have no expiry)."""
        try:
            data = self._get("advertiser/info/", "advertiser_info", advertiser_ids=[self.advertiser])
        except AuthError as exc:
            return self._unhealthy(exc)
        info = (data.get("list") or [{}])[0]
        return HealthReport(
            self.platform,
            ok=info.get("status") == "STATUS_ENABLE",
            token_valid=True,
            api_version=self.api_version,
            throttle_headroom=self._headroom(),
            extra={"advertiser_status": info.get("status")},
        )
