"""Meta Marketing API adapter (Graph API, form-encoded; campaign -> ad set -> creative -> ad)."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from typing import Any

import httpx

from adflux.platforms.adapters import register
from adflux.platforms.audiences import chunked
from adflux.platforms.base import Step, Tree, TreeAdapter, name_prefix, object_name
from adflux.platforms.compliance import PLATFORM_RULE, AllowedTargeting, ComplianceNote, CompliancePlan
from adflux.platforms.errors import (
    AuthError,
    FatalError,
    PlatformError,
    PlatformValidationError,
    RetryableError,
    ThrottledError,
)
from adflux.platforms.money import decimal_to_micros, meta_amount
from adflux.platforms.types import AdGroupSpec, CampaignSpec, HealthReport, InsightRow, PublishResult

logger = logging.getLogger(__name__)

THROTTLE_CODES = frozenset({4, 17, 32, 613})
AUTH_CODES = frozenset({102, 190, 463, 467})
APPLICATION_ACTIONS = ("offsite_conversion.fb_pixel_submit_application", "submit_application", "lead")
OBJECTIVES = {"traffic": "OUTCOME_TRAFFIC", "leads": "OUTCOME_LEADS"}
STATUS_MAP = {"active": "ACTIVE", "paused": "PAUSED", "archived": "ARCHIVED"}
INSIGHT_FIELDS = "adset_id,adset_name,impressions,reach,clicks,inline_link_clicks,spend,actions"
AUDIENCE_CHUNK = 10_000


def _meta_hint(response: httpx.Response) -> float | None:
    """Seconds to wait from Meta's usage headers, if they say."""
    waits: list[float] = []
    raw = response.headers.get("x-business-use-case-usage")
    if raw:
        try:
            for entries in json.loads(raw).values():
                for entry in entries:
                    minutes = entry.get("estimated_time_to_regain_access") or 0
                    waits.append(float(minutes) * 60)
        except (ValueError, AttributeError, TypeError):
            logger.debug("unparseable X-Business-Use-Case-Usage: %r", raw)
    raw = response.headers.get("x-ad-account-usage")
    if raw:
        try:
            waits.append(float(json.loads(raw).get("reset_time_duration") or 0))
        except (ValueError, AttributeError, TypeError):
            logger.debug("unparseable X-Ad-Account-Usage: %r", raw)
    positive = [wait for wait in waits if wait > 0]
    return max(positive) if positive else None


def classify_meta(response: httpx.Response, now: float) -> PlatformError | None:
    """Sort a Graph API response into success or an error class."""
    if response.status_code < 400:
        return None
    try:
        error = response.json().get("error", {})
    except ValueError:
        error = {}
    code = error.get("code")
    message = error.get("error_user_msg") or error.get("message") or response.reason_phrase
    kwargs: dict[str, Any] = {
        "platform": "meta",
        "status_code": response.status_code,
        "code": code,
        "details": error,
    }
    if code in THROTTLE_CODES or (isinstance(code, int) and 80000 <= code <= 80014):
        return ThrottledError(message, retry_after=_meta_hint(response), **kwargs)
    if code == 100 and error.get("error_subcode") == 33:
        return FatalError(message, **kwargs)  # the object does not exist (or we cannot see it)
    if code in AUTH_CODES or response.status_code == 401:
        return AuthError(message, **kwargs)
    if error.get("is_transient") or code in (1, 2) or response.status_code >= 500:
        return RetryableError(message, **kwargs)
    if (response.status_code in (400, 422) and code == 100) or error.get("error_subcode"):
        return PlatformValidationError(message, **kwargs)
    if code in (10, 200, 294) or response.status_code in (403, 404):
        return FatalError(message, **kwargs)
    return (
        PlatformValidationError(message, **kwargs)
        if response.status_code == 400
        else FatalError(message, **kwargs)
    )


@register
class MetaAdapter(TreeAdapter):
    """Meta Marketing API: campaign -> ad set per segment -> one creative -> ad per ad set."""

    platform = "meta"
    default_base_url = "https://graph.facebook.com"
    default_api_version = "v26.0"
    classify = staticmethod(classify_meta)

    @property
    def act(self) -> str:
        account_id = self.account.account_id
        return account_id if account_id.startswith("act_") else f"act_{account_id}"

    def default_headers(self) -> dict[str, str]:
        # A header rather than ?access_token= keeps the token out of URLs and access logs.
        return {"Authorization": f"Bearer {self.account.credentials.get('access_token', '')}"}

    def _params(self, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        params = dict(extra or {})
        secret = self.account.credentials.get("app_secret")
        if secret:
            token = self.account.credentials.get("access_token", "").encode()
            params["appsecret_proof"] = hmac.new(secret.encode(), token, hashlib.sha256).hexdigest()
        return params

    def _path(self, *parts: str) -> str:
        return "/".join((self.api_version, *parts))

    def _get(self, path: str, operation: str, **params: Any) -> dict[str, Any]:
        return self.transport.request(
            "GET", self._path(path), operation=operation, params=self._params(params)
        ).json()

    def _post(self, path: str, operation: str, data: dict[str, Any]) -> dict[str, Any]:
        form = {
            key: json.dumps(value) if isinstance(value, dict | list) else value for key, value in data.items()
        }
        return self.transport.request(
            "POST", self._path(path), operation=operation, data=form, params=self._params()
        ).json()

    def _list(self, path: str, operation: str, **params: Any) -> list[dict[str, Any]]:
        """All rows of a paged edge (follows paging.next)."""
        rows: list[dict[str, Any]] = []
        page = self._get(path, operation, **params)
        while True:
            rows.extend(page.get("data", []))
            next_url = page.get("paging", {}).get("next")
            if not next_url:
                return rows
            page = self.transport.request("GET", next_url, operation=operation).json()

    def _find_by_name(self, edge: str, name: str, operation: str) -> str | None:
        rows = self._list(
            edge,
            operation,
            fields="id,name",
            filtering=json.dumps([{"field": "name", "operator": "EQUAL", "value": name}]),
        )
        for row in rows:
            if row.get("name") == name:
                return str(row["id"])
        return None

    # -- publishing ------------------------------------------------------------------------

    def _campaign_step(self, tree: Tree, name: str) -> Step:
        spec, plans = tree.spec, tree.plans
        return Step(
            "campaign",
            lambda: self._find_by_name(f"{self.act}/campaigns", name, "find_campaign"),
            lambda: self._create_campaign(spec, name, plans),
            look_first=True,
        )

    def _existing_groups(self, tree: Tree) -> list[dict[str, Any]]:
        return self._list(f"{tree.result.campaign_id}/adsets", "list_adsets", fields="id,name")

    def _existing_ads(self, tree: Tree) -> list[dict[str, Any]]:
        return self._list(f"{tree.result.campaign_id}/ads", "list_ads", fields="id,name")

    def _match_key(self, name: str) -> str:
        # Meta may keep a renamed label: our [adflux:...] prefix alone identifies the object.
        return name_prefix(name)

    def _group_step(self, tree: Tree, group: AdGroupSpec, name: str) -> Step:
        campaign_id = tree.result.campaign_id
        # Resolved before the create (interest search calls), once per new ad set.
        targeting = self._targeting(tree.plans[group.ref])
        return Step(
            f"ad set {group.ref}",
            lambda: self._find_child(campaign_id, "adsets", name),
            lambda: self._create_ad_set(tree.spec, group.daily_budget, name, campaign_id, targeting),
        )

    def _creative_step(self, tree: Tree) -> Step:
        name = object_name(tree.spec.key, tree.spec.creative.headline, "creative")
        return Step(
            "creative",
            lambda: self._find_by_name(f"{self.act}/adcreatives", name, "find_creative"),
            lambda: self._create_creative(tree.spec, name),
            look_first=tree.reused_any,
        )

    def _ad_step(self, tree: Tree, group: AdGroupSpec, name: str) -> Step:
        result = tree.result
        data = {
            "name": name,
            "adset_id": result.ad_groups[group.ref],
            "creative": {"creative_id": result.creative_id},
            "status": "PAUSED",
        }
        return Step(
            f"ad {group.ref}",
            lambda: self._find_child(result.campaign_id, "ads", name),
            lambda: str(self._post(f"{self.act}/ads", "create_ad", data)["id"]),
        )

    def _find_child(self, campaign_id: str, edge: str, name: str) -> str | None:
        for row in self._list(f"{campaign_id}/{edge}", f"list_{edge}", fields="id,name"):
            if row.get("name") == name:
                return str(row["id"])
        return None

    def _objective(self, spec: CampaignSpec) -> str:
        """Leads needs a pixel (OUTCOME_LEADS refuses LINK_CLICKS); without one, publish as traffic."""
        if spec.objective == "leads" and not self.account.extra.get("pixel_id"):
            logger.warning("meta: leads objective without a pixel_id on the account; publishing as traffic")
            return "traffic"
        return spec.objective

    def _create_campaign(self, spec: CampaignSpec, name: str, plans: dict[str, CompliancePlan]) -> str:
        first = next(iter(plans.values())).targeting
        data = {
            "name": name,
            "objective": OBJECTIVES[self._objective(spec)],
            "status": "PAUSED",
            "buying_type": "AUCTION",
            "special_ad_categories": list(first.special_ad_categories),
            "special_ad_category_country": list(first.special_ad_category_country),
            "spend_cap": meta_amount(spec.budget_total),
            # Budgets live on the ad sets (one per segment), so no campaign budget sharing.
            "is_adset_budget_sharing_enabled": "false",
        }
        return str(self._post(f"{self.act}/campaigns", "create_campaign", data)["id"])

    def _create_ad_set(
        self, spec: CampaignSpec, daily_budget: int, name: str, campaign_id: str, targeting: dict[str, Any]
    ) -> str:
        data: dict[str, Any] = {
            "name": name,
            "campaign_id": campaign_id,
            "daily_budget": meta_amount(daily_budget),
            "billing_event": "IMPRESSIONS",
            "optimization_goal": "LINK_CLICKS",
            "bid_strategy": "LOWEST_COST_WITHOUT_CAP",
            "targeting": targeting,
            "start_time": datetime.combine(spec.start_date, time.min, UTC).isoformat(),
            "status": "PAUSED",
        }
        pixel_id = self.account.extra.get("pixel_id")
        if self._objective(spec) == "leads":
            data["optimization_goal"] = "OFFSITE_CONVERSIONS"
            data["promoted_object"] = {"pixel_id": str(pixel_id), "custom_event_type": "SUBMIT_APPLICATION"}
        if spec.end_date:
            data["end_time"] = (
                datetime.combine(spec.end_date, time.max, UTC).replace(microsecond=0).isoformat()
            )
        return str(self._post(f"{self.act}/adsets", "create_adset", data)["id"])

    def _create_creative(self, spec: CampaignSpec, name: str) -> str:
        page_id = self.account.extra.get("page_id")
        if not page_id:
            raise FatalError(
                "The Meta account has no Facebook page id (page_id): set it on the platform account",
                platform="meta",
            )
        creative = spec.creative
        link_data: dict[str, Any] = {
            "link": creative.link_url,
            "message": creative.primary_text,
            "name": creative.headline,
            "call_to_action": {"type": creative.call_to_action, "value": {"link": creative.link_url}},
        }
        if creative.description:
            link_data["description"] = creative.description
        if creative.extra.get("image_hash"):
            link_data["image_hash"] = creative.extra["image_hash"]
        story: dict[str, Any] = {"page_id": str(page_id), "link_data": link_data}
        if self.account.extra.get("instagram_actor_id"):
            story["instagram_actor_id"] = str(self.account.extra["instagram_actor_id"])
        data = {"name": name, "object_story_spec": story}
        return str(self._post(f"{self.act}/adcreatives", "create_creative", data)["id"])

    def _targeting(self, plan: CompliancePlan) -> dict[str, Any]:
        allowed: AllowedTargeting = plan.targeting
        targeting: dict[str, Any] = {"age_min": allowed.age_min, "age_max": allowed.age_max}
        if allowed.cities:
            targeting["geo_locations"] = {
                "custom_locations": [
                    {
                        "latitude": city.latitude,
                        "longitude": city.longitude,
                        "radius": city.radius_km,
                        "distance_unit": "kilometer",
                        "name": city.name,
                    }
                    for city in allowed.cities
                ]
            }
        else:
            targeting["geo_locations"] = {"countries": [allowed.country]}
        interests = []
        for interest in allowed.interests:
            rows = self._get("search", "search_interest", type="adinterest", q=interest, limit=1).get(
                "data", []
            )
            if rows:
                interests.append({"id": str(rows[0]["id"]), "name": rows[0].get("name", interest)})
            else:
                plan.notes.append(
                    ComplianceNote(
                        "interest", "dropped", interest, "Meta has no matching interest", PLATFORM_RULE
                    )
                )
        if interests:
            targeting["flexible_spec"] = [{"interests": interests}]
        if allowed.custom_audience_id:
            targeting["custom_audiences"] = [{"id": allowed.custom_audience_id}]
        return targeting

    # -- lifecycle -------------------------------------------------------------------------

    def set_status(self, result: PublishResult, status: str) -> None:
        """ACTIVE needs every level active; pausing or archiving the campaign is enough."""
        self._raise_for_status(status)
        value = STATUS_MAP[status]
        if status == "active":
            # Children first, campaign last: nothing delivers before the whole tree is on.
            for ad_id in result.ads.values():
                self._post(ad_id, "update_ad", {"status": value})
            for ad_set_id in result.ad_groups.values():
                self._post(ad_set_id, "update_adset", {"status": value})
        self._post(result.campaign_id, "update_campaign", {"status": value})

    # -- reporting -------------------------------------------------------------------------

    report_batch = 100  # campaign ids in one account-level report's filtering

    def fetch_insights(self, result: PublishResult, since: date, until: date) -> list[InsightRow]:
        """Daily ad-set rows through an async report run (POST insights, poll, read)."""
        return self._report(f"{result.campaign_id}/insights", since, until, result.group_refs())

    def fetch_insights_many(
        self, results: Sequence[PublishResult], since: date, until: date
    ) -> list[InsightRow]:
        """One account-level report run (level=adset) filtered to these campaigns' ids."""
        refs = {gid: ref for result in results for gid, ref in result.group_refs().items()}
        ids = [str(result.campaign_id) for result in results]
        filtering = [{"field": "campaign.id", "operator": "IN", "value": ids}]
        return self._report(f"{self.act}/insights", since, until, refs, filtering)

    def _report(
        self,
        path: str,
        since: date,
        until: date,
        refs: dict[str, str],
        filtering: list[dict[str, Any]] | None = None,
    ) -> list[InsightRow]:
        spec: dict[str, Any] = {
            "level": "adset",
            "time_increment": 1,
            "time_range": {"since": since.isoformat(), "until": until.isoformat()},
            "fields": INSIGHT_FIELDS,
        }
        if filtering:
            spec["filtering"] = filtering
        run_id = str(self._post(path, "create_report_run", spec)["report_run_id"])

        def poll() -> bool | None:
            status = self._get(run_id, "poll_report_run", fields="async_status,async_percent_completion")
            state = status.get("async_status")
            if state in ("Job Failed", "Job Skipped"):
                raise RetryableError(f"report run {run_id} ended as {state}", platform="meta", details=status)
            return True if state == "Job Completed" else None

        self._wait_for(f"report run {run_id}", poll)
        return [_insight(row, refs) for row in self._list(f"{run_id}/insights", "read_report_run", limit=500)]

    # -- audiences: a customer-list custom audience (EMAIL_SHA256), filled in chunks -----------

    def _find_audience(self, name: str) -> str | None:
        return self._find_by_name(f"{self.act}/customaudiences", name, "find_audience")

    def _create_audience(self, name: str, hashes: list[str]) -> str:
        data = {
            "name": name,
            "subtype": "CUSTOM",
            "description": "AdFlux: consented candidates",
            "customer_file_source": "USER_PROVIDED_ONLY",
        }
        return str(self._post(f"{self.act}/customaudiences", "create_audience", data)["id"])

    def _fill_audience(self, audience: str, hashes: list[str]) -> tuple[int, int]:
        received = invalid = 0
        for chunk in chunked(hashes, AUDIENCE_CHUNK):
            answer = self._post(
                f"{audience}/users",
                "add_audience_users",
                {"payload": {"schema": "EMAIL_SHA256", "data": [[digest] for digest in chunk]}},
            )
            received += int(answer.get("num_received", len(chunk)))
            invalid += int(answer.get("num_invalid_entries", 0))
        return received, invalid

    # -- health ----------------------------------------------------------------------------

    def health(self) -> HealthReport:
        """debug_token for the token; the ad account's usage header for headroom."""
        token = self.account.credentials.get("access_token", "")
        try:
            debug = self._get("debug_token", "debug_token", input_token=token).get("data", {})
            account = self.transport.request(
                "GET",
                self._path(self.act),
                operation="get_account",
                params=self._params({"fields": "account_status"}),
            )
        except AuthError as exc:
            return self._unhealthy(exc)
        expires = int(debug.get("expires_at") or 0)
        usage = account.headers.get("x-ad-account-usage")
        headroom = (
            max(0.0, 1 - float(json.loads(usage).get("acc_id_util_pct", 0)) / 100)
            if usage
            else self._headroom()
        )
        valid = bool(debug.get("is_valid"))
        return HealthReport(
            self.platform,
            ok=valid,
            token_valid=valid,
            api_version=self.api_version,
            token_expires_at=datetime.fromtimestamp(expires, UTC) if expires else None,
            throttle_headroom=headroom,
            detail="" if valid else "token is not valid",
            extra={"account_status": account.json().get("account_status")},
        )


def _insight(row: dict[str, Any], refs: dict[str, str]) -> InsightRow:
    """One ad set's day of a report run."""
    actions = {item["action_type"]: int(float(item["value"])) for item in row.get("actions", [])}
    return InsightRow(
        ad_group_ref=refs.get(str(row["adset_id"])),
        ad_group_id=str(row["adset_id"]),
        date=date.fromisoformat(row["date_start"]),
        impressions=int(row.get("impressions", 0)),
        reach=int(row["reach"]) if "reach" in row else None,
        clicks=int(row.get("inline_link_clicks", row.get("clicks", 0))),
        engagements=int(row["clicks"]) if "clicks" in row else None,
        spend_micros=decimal_to_micros(row.get("spend", "0")),
        applications=sum(actions.get(name, 0) for name in APPLICATION_ACTIONS),
    )
