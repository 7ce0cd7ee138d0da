"""Google Ads API adapter over REST: one atomic googleAds:mutate with temporary ids, GAQL reporting."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import httpx

from adflux.platforms.adapters import register
from adflux.platforms.audiences import chunked
from adflux.platforms.base import PlatformAdapter, name_prefix, object_name
from adflux.platforms.compliance import CompliancePlan
from adflux.platforms.errors import (
    AuthError,
    FatalError,
    PlatformError,
    PlatformValidationError,
    RetryableError,
    ThrottledError,
)
from adflux.platforms.google_mutate import tree_operations
from adflux.platforms.google_oauth import GOOGLE_TOKEN_URI, GoogleOAuth, can_refresh
from adflux.platforms.media import attach as attach_media
from adflux.platforms.types import CampaignSpec, HealthReport, InsightRow, PublishResult

logger = logging.getLogger(__name__)

STATUS_MAP = {"active": "ENABLED", "paused": "PAUSED"}
AUDIENCE_CHUNK = 10_000
_DURATION = re.compile(r"^(?P<seconds>\d+(?:\.\d+)?)s$")


def _failure_errors(error: dict[str, Any]) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []
    for detail in error.get("details", []) or []:
        errors.extend(detail.get("errors", []) or [])
    return errors


def _retry_delay(error: dict[str, Any]) -> float | None:
    """QuotaErrorDetails.retryDelay (or a google.rpc.RetryInfo detail), as seconds."""
    for detail in error.get("details", []) or []:
        candidates = [detail.get("retryDelay")]
        candidates += [
            (item.get("details") or {}).get("quotaErrorDetails", {}).get("retryDelay")
            for item in detail.get("errors", []) or []
        ]
        for value in candidates:
            match = _DURATION.match(value) if isinstance(value, str) else None
            if match:
                return float(match["seconds"])
    return None


def classify_google(response: httpx.Response, now: float) -> PlatformError | None:
    """Sort a Google Ads REST response into success or an error class."""
    if response.status_code < 400:
        return None
    try:
        error = response.json().get("error", {})
    except ValueError:
        error = {}
    errors = _failure_errors(error)
    codes = [next(iter((item.get("errorCode") or {"unknown": "UNKNOWN"}).values())) for item in errors]
    message = (
        "; ".join(item.get("message", "") for item in errors)
        or error.get("message")
        or response.reason_phrase
    )
    status = error.get("status", "")
    kwargs: dict[str, Any] = {
        "platform": "google",
        "status_code": response.status_code,
        "code": codes[0] if codes else status,
        "details": errors or error,
    }
    if response.status_code == 429 or status == "RESOURCE_EXHAUSTED":
        return ThrottledError(message, retry_after=_retry_delay(error), **kwargs)
    if response.status_code == 401 or status == "UNAUTHENTICATED":
        return AuthError(message, **kwargs)
    if response.status_code >= 500 or status in ("INTERNAL", "UNAVAILABLE", "DEADLINE_EXCEEDED"):
        return RetryableError(message, **kwargs)
    if response.status_code == 400:
        return PlatformValidationError(message, **kwargs)
    return FatalError(message, **kwargs)


def _gaql_string(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _duplicate_name(error: PlatformError) -> bool:
    """Google refuses a second campaign of the same name: the first one is ours."""
    return isinstance(error, PlatformValidationError) and error.code == "DUPLICATE_CAMPAIGN_NAME"


@register
class GoogleAdsAdapter(PlatformAdapter):
    """Google Ads: budget, search campaign, ad group per segment, RSA and criteria in one mutate."""

    platform = "google"
    default_base_url = "https://googleads.googleapis.com"
    default_api_version = "v26"
    classify = staticmethod(classify_google)

    @property
    def cid(self) -> str:
        return self.account.account_id.replace("-", "")

    def default_headers(self) -> dict[str, str]:
        credentials = self.account.credentials
        headers = {
            "Authorization": f"Bearer {credentials.get('access_token', '')}",
            "developer-token": credentials.get("developer_token", ""),
        }
        manager = self.account.extra.get("login_customer_id") or credentials.get("login_customer_id")
        if manager:
            headers["login-customer-id"] = str(manager).replace("-", "")
        return headers

    def auth(self) -> httpx.Auth | None:
        """OAuth refresh when the account has a client and refresh token (else the access token as is)."""
        credentials = self.account.credentials
        if not can_refresh(credentials):
            return None
        custom = self.account.base_url and self.base_url != self.default_base_url
        # The sandbox (or any stand-in base URL) serves its token endpoint on the same host.
        token_uri = credentials.get("token_uri") or (f"{self.base_url}/token" if custom else GOOGLE_TOKEN_URI)
        return GoogleOAuth(credentials, token_uri, clock=lambda: self.config.clock())

    def _customer(self, suffix: str) -> str:
        return f"{self.api_version}/customers/{self.cid}{suffix}"

    def _mutate(self, operations: list[dict[str, Any]], operation: str) -> list[dict[str, Any]]:
        body = {"mutateOperations": operations, "partialFailure": False}
        answer = self.transport.request(
            "POST", self._customer("/googleAds:mutate"), operation=operation, json=body
        )
        return answer.json().get("mutateOperationResponses", [])

    def search(self, query: str, operation: str = "search") -> list[dict[str, Any]]:
        """Run a GAQL query through searchStream and return every row."""
        answer = self.transport.request(
            "POST",
            self._customer("/googleAds:searchStream"),
            operation=operation,
            json={"query": query},
            idempotent=True,
        )
        rows: list[dict[str, Any]] = []
        for batch in answer.json():
            rows.extend(batch.get("results", []))
        return rows

    # -- publishing ------------------------------------------------------------------------

    def publish(self, spec: CampaignSpec) -> PublishResult:
        """The image asset first, then everything in one atomic mutate; after an ambiguous failure,
        find the campaign by name."""
        spec, uploaded = attach_media(self, spec)
        plans = self.plan(spec)
        name = object_name(spec.key, spec.name)
        found = self._find_tree(spec, name)
        if found is not None:
            if uploaded:
                found.extra["media"] = uploaded
            return self._published(found, plans)
        created, _ = self._ensure(
            "campaign tree",
            lambda: self._find_tree(spec, name),
            lambda: self._create_tree(spec, name, plans),
            look_first=False,  # just looked (the lookup returns the whole tree, not an id to log)
            taken=_duplicate_name,
            failure="could not confirm the campaign tree was created",
        )
        if uploaded:
            created.extra["media"] = uploaded
        return self._published(created, plans)

    def _create_tree(self, spec: CampaignSpec, name: str, plans: dict[str, CompliancePlan]) -> PublishResult:
        operations = tree_operations(self.cid, spec, name, plans)
        result = PublishResult(platform=self.platform, campaign_id="")
        refs = iter(group.ref for group in spec.ad_groups)
        ad_refs = iter(group.ref for group in spec.ad_groups)
        for response in self._mutate(operations, "mutate_campaign_tree"):
            ((key, value),) = response.items()
            resource = value["resourceName"]
            last = resource.rsplit("/", 1)[-1]
            if key == "campaignBudgetResult":
                result.extra["budget"] = resource
            elif key == "campaignResult":
                result.campaign_id = last
                result.extra["campaign"] = resource
            elif key == "adGroupResult":
                result.ad_groups[next(refs)] = last
            elif key == "adGroupAdResult":
                result.ads[next(ad_refs)] = last.split("~", 1)[1]
        return result

    def _find_tree(self, spec: CampaignSpec, name: str) -> PublishResult | None:
        rows = self.search(
            "SELECT campaign.resource_name, campaign.id, campaign.status, campaign.campaign_budget "
            f"FROM campaign WHERE campaign.name = {_gaql_string(name)} AND campaign.status != 'REMOVED'",
            "find_campaign",
        )
        if not rows:
            return None
        campaign = rows[0]["campaign"]
        result = PublishResult(platform=self.platform, campaign_id=str(campaign["id"]))
        result.extra["campaign"] = campaign["resourceName"]
        by_prefix = {object_name(spec.key, "", group.ref): group.ref for group in spec.ad_groups}
        ads = self.search(
            "SELECT ad_group.id, ad_group.name, ad_group_ad.ad.id FROM ad_group_ad "
            f"WHERE campaign.id = {campaign['id']}",
            "find_ads",
        )
        for row in ads:
            ref = by_prefix.get(name_prefix(row["adGroup"]["name"]))
            if ref:
                result.ad_groups[ref] = str(row["adGroup"]["id"])
                result.ads[ref] = str(row["adGroupAd"]["ad"]["id"])
        result.reused = 1 + len(result.ad_groups) + len(result.ads)
        return result

    # -- lifecycle ---------------------------------------------------------------------------

    def set_status(self, result: PublishResult, status: str) -> None:
        """The campaign status gates delivery; ad groups and ads are created ENABLED under it."""
        self._raise_for_status(status)
        resource = result.extra.get("campaign") or f"customers/{self.cid}/campaigns/{result.campaign_id}"
        if status == "archived":
            operation: dict[str, Any] = {"campaignOperation": {"remove": resource}}
        else:
            operation = {
                "campaignOperation": {
                    "update": {"resourceName": resource, "status": STATUS_MAP[status]},
                    "updateMask": "status",
                }
            }
        self._mutate([operation], f"set_status_{status}")

    # -- reporting ---------------------------------------------------------------------------

    report_batch = 500  # campaign ids in one GAQL IN list

    def fetch_insights(self, result: PublishResult, since: date, until: date) -> list[InsightRow]:
        """GAQL over ad_group with segments.date (Google reporting is synchronous)."""
        return self._report(f"campaign.id = {int(result.campaign_id)}", since, until, result.group_refs())

    def fetch_insights_many(
        self, results: Sequence[PublishResult], since: date, until: date
    ) -> list[InsightRow]:
        """One GAQL query over the account's ad groups of these campaigns (campaign.id IN (...))."""
        refs = {gid: ref for result in results for gid, ref in result.group_refs().items()}
        ids = ", ".join(str(int(result.campaign_id)) for result in results)
        return self._report(f"campaign.id IN ({ids})", since, until, refs)

    def _report(self, where: str, since: date, until: date, refs: dict[str, str]) -> list[InsightRow]:
        rows = self.search(
            "SELECT ad_group.id, segments.date, metrics.impressions, metrics.clicks, metrics.cost_micros, "
            "metrics.conversions, metrics.interactions FROM ad_group "
            f"WHERE {where} "
            f"AND segments.date BETWEEN '{since.isoformat()}' AND '{until.isoformat()}'",
            "report",
        )
        out = []
        for row in rows:
            metrics = row.get("metrics", {})
            group_id = str(row["adGroup"]["id"])
            out.append(
                InsightRow(
                    ad_group_ref=refs.get(group_id),
                    ad_group_id=group_id,
                    date=date.fromisoformat(row["segments"]["date"]),
                    impressions=int(metrics.get("impressions", 0)),
                    reach=None,  # search campaigns report no reach
                    clicks=int(metrics.get("clicks", 0)),
                    engagements=None,
                    spend_micros=int(metrics.get("costMicros", 0)),
                    applications=round(float(metrics.get("conversions", 0))),
                )
            )
        return out

    # -- audiences: Customer Match, a CRM-based user list filled through an OfflineUserDataJob ---

    audience_kind = "user list"

    def _find_audience(self, name: str) -> str | None:
        rows = self.search(
            f"SELECT user_list.resource_name FROM user_list WHERE user_list.name = {_gaql_string(name)}",
            "find_user_list",
        )
        return rows[0]["userList"]["resourceName"] if rows else None

    def _create_audience(self, name: str, hashes: list[str]) -> str:
        user_list = {
            "name": name,
            "description": "AdFlux: consented candidates",
            "membershipLifeSpan": 540,
            "crmBasedUserList": {"uploadKeyType": "CONTACT_INFO"},
        }
        answer = self.transport.request(
            "POST",
            self._customer("/userLists:mutate"),
            operation="create_user_list",
            json={"operations": [{"create": user_list}]},
        )
        return answer.json()["results"][0]["resourceName"]

    def _fill_audience(self, audience: str, hashes: list[str]) -> tuple[int, int]:
        metadata = {"userList": audience}
        job = self.transport.request(
            "POST",
            self._customer("/offlineUserDataJobs:create"),
            operation="create_offline_job",
            json={"job": {"type": "CUSTOMER_MATCH_USER_LIST", "customerMatchUserListMetadata": metadata}},
        ).json()["resourceName"]
        for chunk in chunked(hashes, AUDIENCE_CHUNK):
            operations = [{"create": {"userIdentifiers": [{"hashedEmail": digest}]}} for digest in chunk]
            self.transport.request(
                "POST",
                f"{self.api_version}/{job}:addOperations",
                operation="add_offline_job_operations",
                json={"enablePartialFailure": True, "operations": operations},
            )
        self.transport.request("POST", f"{self.api_version}/{job}:run", operation="run_offline_job", json={})
        return len(hashes), 0

    def _audience_id(self, audience: str) -> str:
        return audience.rsplit("/", 1)[-1]  # the user list's resource name ends in its id

    # -- health ------------------------------------------------------------------------------

    def health(self) -> HealthReport:
        """listAccessibleCustomers proves the token; expiry comes from the stored credentials."""
        expires_raw = self.account.credentials.get("expires_at")
        expires = datetime.fromisoformat(expires_raw) if expires_raw else None
        try:
            answer = self.transport.request(
                "GET", f"{self.api_version}/customers:listAccessibleCustomers", operation="list_customers"
            )
        except AuthError as exc:
            return self._unhealthy(exc, expires)
        accessible = [name.rsplit("/", 1)[-1] for name in answer.json().get("resourceNames", [])]
        expired = expires is not None and expires <= datetime.now(UTC)
        return HealthReport(
            self.platform,
            ok=not expired,
            token_valid=not expired,
            api_version=self.api_version,
            token_expires_at=expires,
            throttle_headroom=self._headroom(),
            detail="token expired" if expired else "",
            extra={"accessible_customers": accessible},
        )
