"""Snapchat Marketing API v1 adapter: campaign -> ad squad per segment -> creative + ad, Bearer token."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from adflux.platforms.adapters import register
from adflux.platforms.audiences import chunked
from adflux.platforms.base import Step, Tree, TreeAdapter, object_name
from adflux.platforms.compliance import CompliancePlan
from adflux.platforms.errors import (
    AuthError,
    FatalError,
    PlatformError,
    PlatformValidationError,
    RetryableError,
    ThrottledError,
)
from adflux.platforms.money import to_micros
from adflux.platforms.types import AdGroupSpec, CampaignSpec, HealthReport, InsightRow, PublishResult

logger = logging.getLogger(__name__)

STATUS_MAP = {"active": "ACTIVE", "paused": "PAUSED"}
STATS_FIELDS = "impressions,swipes,spend,uniques,conversion_sign_ups,quartile_1"
AUDIENCE_CHUNK = 100_000


def classify_snapchat(response: httpx.Response, now: float) -> PlatformError | None:
    """Sort a Snapchat response into success or an error class."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code < 400 and body.get("request_status", "SUCCESS") != "ERROR":
        return None
    message = body.get("display_message") or body.get("debug_message") or response.reason_phrase
    kwargs: dict[str, Any] = {
        "platform": "snapchat",
        "status_code": response.status_code,
        "code": body.get("error_code"),
        "details": body,
    }
    if response.status_code == 429:
        retry_after = response.headers.get("retry-after")
        return ThrottledError(message, retry_after=float(retry_after) if retry_after else None, **kwargs)
    if response.status_code == 401:
        return AuthError(message, **kwargs)
    if response.status_code >= 500:
        return RetryableError(message, **kwargs)
    if response.status_code in (400, 200):
        return PlatformValidationError(message, **kwargs)
    return FatalError(message, **kwargs)


# Fields Snap sets itself: returned by GET, not part of what a PUT carries.
READ_ONLY_FIELDS = frozenset(
    {"created_at", "updated_at", "review_status", "review_status_reasons", "delivery_status"}
)
ACCOUNT_TZ = ZoneInfo("America/Bogota")


def _midnight(day: date) -> str:
    """Midnight of ``day`` in the ad account's time zone: Snap cuts DAY stats at the account's midnight."""
    return datetime.combine(day, datetime.min.time(), ACCOUNT_TZ).isoformat(timespec="milliseconds")


@register
class SnapchatAdapter(TreeAdapter):
    """Snapchat: campaign -> ad squads -> one web-view creative -> one ad per squad."""

    platform = "snapchat"
    default_base_url = "https://adsapi.snapchat.com"
    default_api_version = "v1"
    classify = staticmethod(classify_snapchat)

    def default_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.account.credentials.get('access_token', '')}"}

    def _p(self, path: str) -> str:
        return f"{self.api_version}/{path}"

    def _call(self, method: str, path: str, operation: str, **kwargs: Any) -> dict[str, Any]:
        return self.transport.request(method, self._p(path), operation=operation, **kwargs).json()

    def _create(self, path: str, key: str, item: dict[str, Any], operation: str) -> str:
        answer = self._call("POST", path, operation, json={key: [item]})
        return str(answer[key][0][key[:-1]]["id"])

    def _all(self, path: str, key: str, operation: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        url: str | None = self._p(path)
        params: dict[str, Any] | None = {"limit": 200}
        while url:
            page = self.transport.request("GET", url, operation=operation, params=params).json()
            rows.extend(entry[key[:-1]] for entry in page.get(key, []))
            url, params = page.get("paging", {}).get("next_link"), None
        return rows

    def _find(self, path: str, key: str, name: str, operation: str) -> str | None:
        return next(
            (str(row["id"]) for row in self._all(path, key, operation) if row.get("name") == name), None
        )

    # -- publishing ------------------------------------------------------------------------

    def _campaign_step(self, tree: Tree, name: str) -> Step:
        spec, account = tree.spec, self.account.account_id
        campaign: dict[str, Any] = {
            "name": name,
            "ad_account_id": account,
            "status": "PAUSED",
            "start_time": _midnight(spec.start_date),
            "lifetime_spend_cap_micro": to_micros(spec.budget_total),
            "objective_v2_properties": {
                "objective_v2_type": "TRAFFIC" if spec.objective == "traffic" else "LEADS"
            },
        }
        if spec.end_date:
            campaign["end_time"] = _midnight(spec.end_date + timedelta(days=1))
        path = f"adaccounts/{account}/campaigns"
        return Step(
            "campaign",
            lambda: self._find(path, "campaigns", name, "find_campaign"),
            lambda: self._create(path, "campaigns", campaign, "create_campaign"),
            look_first=True,
        )

    def _existing_groups(self, tree: Tree) -> list[dict[str, Any]]:
        return self._all(f"campaigns/{tree.result.campaign_id}/adsquads", "adsquads", "list_adsquads")

    def _group_step(self, tree: Tree, group: AdGroupSpec, name: str) -> Step:
        campaign_id = tree.result.campaign_id
        squad = self._squad(tree.spec, name, group.daily_budget, campaign_id, tree.plans[group.ref])
        path = f"campaigns/{campaign_id}/adsquads"
        return Step(
            f"ad squad {group.ref}",
            lambda: self._find(path, "adsquads", name, "find_adsquad"),
            lambda: self._create(path, "adsquads", squad, "create_adsquad"),
        )

    def _creative_step(self, tree: Tree) -> Step:
        name = object_name(tree.spec.key, "creative")
        path = f"adaccounts/{self.account.account_id}/creatives"
        return Step(
            "creative",
            lambda: self._find(path, "creatives", name, "find_creative"),
            lambda: self._create(path, "creatives", self._creative(tree.spec, name), "create_creative"),
            look_first=tree.reused_any,
        )

    def _ad_name(self, spec: CampaignSpec, group: AdGroupSpec) -> str:
        return object_name(spec.key, "ad", group.ref)

    def _ad_step(self, tree: Tree, group: AdGroupSpec, name: str) -> Step:
        squad_id = tree.result.ad_groups[group.ref]
        ad = {
            "ad_squad_id": squad_id,
            "creative_id": tree.result.creative_id,
            "name": name,
            "type": "REMOTE_WEBPAGE",
            "status": "PAUSED",
        }
        path = f"adsquads/{squad_id}/ads"
        return Step(
            f"ad {group.ref}",
            lambda: self._find(path, "ads", name, "find_ad"),
            lambda: self._create(path, "ads", ad, "create_ad"),
            look_first=tree.reused_any,
        )

    def _squad(
        self, spec: CampaignSpec, name: str, daily: int, campaign_id: str, plan: CompliancePlan
    ) -> dict[str, Any]:
        return {
            "campaign_id": campaign_id,
            "name": name,
            "type": "SNAP_ADS",
            "placement_v2": {"config": "AUTOMATIC"},
            "optimization_goal": "SWIPES",
            "billing_event": "IMPRESSION",
            "auto_bid": True,
            "daily_budget_micro": to_micros(daily),
            "status": "PAUSED",
            "start_time": _midnight(spec.start_date),
            "targeting": self._snap_targeting(plan),
        }

    @staticmethod
    def _snap_targeting(plan: CompliancePlan) -> dict[str, Any]:
        """An ad squad's ``targeting`` object (a whole-entity PUT carries it back changed)."""
        targeting = plan.targeting
        snap_targeting: dict[str, Any] = {
            "geos": [{"country_code": targeting.country.lower()}],
            # Job ads are regulated content (Snap's own flag, default FALSE).
            "regulated_content": True,
        }
        if targeting.cities:
            snap_targeting["locations"] = [
                {
                    "circles": [
                        {
                            "latitude": city.latitude,
                            "longitude": city.longitude,
                            "radius": city.radius_km,
                            "unit": "KILOMETERS",
                        }
                        for city in targeting.cities
                    ]
                }
            ]
        if targeting.custom_audience_id:
            snap_targeting["segments"] = [
                {"segment_id": [targeting.custom_audience_id], "operation": "INCLUDE"}
            ]
        return snap_targeting

    def _creative(self, spec: CampaignSpec, name: str) -> dict[str, Any]:
        creative = spec.creative
        body: dict[str, Any] = {
            "ad_account_id": self.account.account_id,
            "name": name,
            "type": "WEB_VIEW",
            "headline": creative.headline[:34],
            "brand_name": str(self.account.extra.get("brand_name", "Empleos"))[:25],
            "shareable": True,
            "call_to_action": creative.call_to_action,
            "web_view_properties": {"url": creative.link_url},
        }
        if creative.extra.get("snap_media_id"):
            body["top_snap_media_id"] = creative.extra["snap_media_id"]
        return body

    # -- lifecycle -------------------------------------------------------------------------

    def set_status(self, result: PublishResult, status: str) -> None:
        """Snap updates are PUTs of the object; archiving deletes the campaign."""
        self._raise_for_status(status)
        account = self.account.account_id
        if status == "archived":
            self._call("DELETE", f"campaigns/{result.campaign_id}", "delete_campaign")
            return
        value = STATUS_MAP[status]
        if status == "active":
            for ref, squad_id in result.ad_groups.items():
                self._put_whole("ads", result.ads[ref], f"adsquads/{squad_id}/ads", value)
                self._put_whole("adsquads", squad_id, f"campaigns/{result.campaign_id}/adsquads", value)
        self._put_whole("campaigns", result.campaign_id, f"adaccounts/{account}/campaigns", value)

    def _put_whole(self, key: str, object_id: str, path: str, status: str) -> None:
        """Snap's PUT replaces the entity: read it whole, change the status, send it all back."""
        entity = self._read_whole(key, object_id)
        self._call("PUT", path, f"update_{key[:-1]}", json={key: [{**entity, "status": status}]})

    def _read_whole(self, key: str, object_id: str) -> dict[str, Any]:
        """One entity as GET returns it, minus what Snap sets itself: what a whole PUT carries back."""
        answer = self._call("GET", f"{key}/{object_id}", f"get_{key[:-1]}")
        return {
            name: value for name, value in answer[key][0][key[:-1]].items() if name not in READ_ONLY_FIELDS
        }

    # -- reporting -------------------------------------------------------------------------

    report_batch = 1_000  # platform campaigns per write; the account report behind them is read once
    _report: tuple[date, date, dict[str, list[InsightRow]]] | None = None

    def fetch_insights(self, result: PublishResult, since: date, until: date) -> list[InsightRow]:
        """Daily stats per ad squad (Snap reporting is synchronous)."""
        rows = []
        for ref, squad_id in result.ad_groups.items():
            answer = self._call(
                "GET",
                f"adsquads/{squad_id}/stats",
                "stats",
                params={
                    "granularity": "DAY",
                    "start_time": _midnight(since),
                    "end_time": _midnight(until + timedelta(days=1)),
                    "fields": STATS_FIELDS,
                },
            )
            for entry in answer.get("timeseries_stats", []):
                rows += _squad_rows(ref, squad_id, entry["timeseries_stat"].get("timeseries", []))
        return rows

    def fetch_insights_many(
        self, results: Sequence[PublishResult], since: date, until: date
    ) -> list[InsightRow]:
        """The account-level report (``breakdown=adsquad``, paged by squad) covers every ad squad of
        the account: it is read once and handed out batch by batch, each batch taking its squads'
        days from ``since`` (the sync asks for the earliest window first, so later, shorter windows
        reuse it). A squad it did not cover (created since, or already handed out: a later sync),
        another end day or an earlier start makes a fresh read."""
        wanted = {squad: ref for result in results for ref, squad in result.ad_groups.items()}
        report = self._report
        if report is None or report[1] != until or report[0] > since or not wanted.keys() <= report[2].keys():
            report = self._report = (since, until, self._account_report(since, until))
        covered = report[2]
        rows: list[InsightRow] = []
        for squad, ref in wanted.items():
            rows += [replace(row, ad_group_ref=ref) for row in covered.pop(squad, []) if row.date >= since]
        return rows

    def _account_report(self, since: date, until: date) -> dict[str, list[InsightRow]]:
        """Every ad squad of the account (empty ones too: ``omit_empty=false``), its days in the window."""
        covered: dict[str, list[InsightRow]] = {}
        url: str | None = self._p(f"adaccounts/{self.account.account_id}/stats")
        params: dict[str, Any] | None = {
            "granularity": "DAY",
            "breakdown": "adsquad",
            "start_time": _midnight(since),
            "end_time": _midnight(until + timedelta(days=1)),
            "fields": STATS_FIELDS,
            "omit_empty": "false",
            "limit": 1000,
        }
        while url:
            page = self.transport.request("GET", url, operation="account_stats", params=params).json()
            for entry in page.get("timeseries_stats", []):
                breakdown = entry["timeseries_stat"].get("breakdown_stats", {})
                for squad in breakdown.get("adsquad", []):
                    covered[str(squad["id"])] = _squad_rows(
                        None, str(squad["id"]), squad.get("timeseries", [])
                    )
            url, params = page.get("paging", {}).get("next_link"), None
        return covered

    # -- audiences: a first-party segment filled with EMAIL_SHA256 rows ---------------------------

    audience_kind = "segment"

    def _find_audience(self, name: str) -> str | None:
        return self._find(f"adaccounts/{self.account.account_id}/segments", "segments", name, "find_segment")

    def _create_audience(self, name: str, hashes: list[str]) -> str:
        account = self.account.account_id
        segment = {
            "name": name,
            "ad_account_id": account,
            "source_type": "FIRST_PARTY",
            "retention_in_days": 180,
            "description": "AdFlux: consented candidates",
        }
        return self._create(f"adaccounts/{account}/segments", "segments", segment, "create_segment")

    def _fill_audience(self, audience: str, hashes: list[str]) -> tuple[int, int]:
        received = 0
        for chunk in chunked(hashes, AUDIENCE_CHUNK):
            answer = self._call(
                "POST",
                f"segments/{audience}/users",
                "add_segment_users",
                json={"users": [{"schema": ["EMAIL_SHA256"], "data": [[digest] for digest in chunk]}]},
            )
            received += int(answer["users"][0]["user"].get("number_uploaded_users", len(chunk)))
        return received, 0

    # -- health ----------------------------------------------------------------------------

    def health(self) -> HealthReport:
        """GET /me proves the token; Snap tokens last 60 minutes, so expiry comes from credentials."""
        expires_raw = self.account.credentials.get("expires_at")
        expires = datetime.fromisoformat(expires_raw) if expires_raw else None
        try:
            self._call("GET", "me", "me")
        except AuthError as exc:
            return self._unhealthy(exc, expires)
        return HealthReport(
            self.platform,
            ok=True,
            token_valid=True,
            api_version=self.api_version,
            token_expires_at=expires,
            throttle_headroom=self._headroom(),
        )


def _squad_rows(ref: str | None, squad_id: str, timeseries: list[dict[str, Any]]) -> list[InsightRow]:
    """One ad squad's days with impressions or spend, from a DAY series of ``stats``."""
    rows = []
    for point in timeseries:
        stats = point.get("stats", {})
        if not stats.get("impressions") and not stats.get("spend"):
            continue
        rows.append(
            InsightRow(
                ad_group_ref=ref,
                ad_group_id=squad_id,
                date=date.fromisoformat(point["start_time"][:10]),
                impressions=int(stats.get("impressions", 0)),
                reach=int(stats["uniques"]) if "uniques" in stats else None,
                clicks=int(stats.get("swipes", 0)),
                engagements=int(stats["quartile_1"]) + int(stats.get("swipes", 0))
                if "quartile_1" in stats
                else None,
                spend_micros=int(stats.get("spend", 0)),
                applications=int(stats.get("conversion_sign_ups", 0)),
            )
        )
    return rows
