"""X Ads API v12 adapter: campaign -> line item per segment -> promoted-only post, OAuth 1.0a."""

from __future__ import annotations

import gzip
import json
import logging
from collections.abc import Generator, Sequence
from datetime import date, timedelta
from typing import Any

import httpx
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA1, Client

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
from adflux.platforms.x_cards import website_card

logger = logging.getLogger(__name__)

OBJECTIVES = {"traffic": "WEBSITE_CLICKS", "leads": "WEBSITE_CONVERSIONS"}
STATUS_MAP = {"active": "ACTIVE", "paused": "PAUSED"}
AUDIENCE_CHUNK = 2_500
STATS_IDS = 20  # entity_ids in one stats job (X's maximum)
STATS_JOBS = 100  # jobs queued at once per account (X's concurrency limit)
COUNTRY_NAMES = {"CO": "Colombia"}
MEDIA_UPLOAD_URL = "https://api.x.com/2/media/upload"


class OAuth1Auth(httpx.Auth):
    """Sign each request with OAuth 1.0a HMAC-SHA1 (query and form parameters are signed)."""

    requires_request_body = True

    def __init__(self, consumer_key: str, consumer_secret: str, token: str, token_secret: str) -> None:
        self._client = Client(
            consumer_key,
            client_secret=consumer_secret,
            resource_owner_key=token,
            resource_owner_secret=token_secret,
            signature_method=SIGNATURE_HMAC_SHA1,
        )

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith("application/x-www-form-urlencoded") and request.content:
            _, headers, _ = self._client.sign(
                str(request.url),
                http_method=request.method,
                body=request.content.decode(),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
        else:
            _, headers, _ = self._client.sign(str(request.url), http_method=request.method)
        request.headers["Authorization"] = headers["Authorization"]
        yield request


# X's edge codes: 32 could not authenticate you, 89 invalid or expired token, 215 bad auth data.
AUTH_CODES = frozenset({32, 89, 215})


def classify_x(response: httpx.Response, now: float) -> PlatformError | None:
    """Sort an X Ads response into success or an error class."""
    if response.status_code < 400:
        return None
    try:
        errors = response.json().get("errors", [])
    except ValueError:
        errors = []
    message = "; ".join(error.get("message", "") for error in errors) or response.reason_phrase
    kwargs: dict[str, Any] = {
        "platform": "x",
        "status_code": response.status_code,
        "code": errors[0].get("code") if errors else None,
        "details": errors,
    }
    if response.status_code == 429:
        reset = response.headers.get("x-account-rate-limit-reset") or response.headers.get(
            "x-rate-limit-reset"
        )
        retry_after = max(0.0, float(reset) - now) if reset else None
        return ThrottledError(message, retry_after=retry_after, **kwargs)
    if response.status_code == 401 or kwargs["code"] in AUTH_CODES:
        return AuthError(message, **kwargs)
    if response.status_code >= 500:
        return RetryableError(message, **kwargs)
    if response.status_code == 400:
        return PlatformValidationError(message, **kwargs)
    return FatalError(message, **kwargs)


@register
class XAdsAdapter(TreeAdapter):
    """X Ads: campaign (funding instrument, daily budget) -> line items -> one promoted-only post."""

    platform = "x"
    default_base_url = "https://ads-api.x.com"
    default_api_version = "12"
    classify = staticmethod(classify_x)

    def auth(self) -> httpx.Auth:
        credentials = self.account.credentials
        return OAuth1Auth(
            credentials.get("consumer_key", ""),
            credentials.get("consumer_secret", ""),
            credentials.get("access_token", ""),
            credentials.get("access_token_secret", ""),
        )

    @property
    def media_upload_url(self) -> str:
        """X's media upload lives on api.x.com, not the ads host (a stand-in base URL serves both)."""
        configured = self.account.extra.get("media_upload_url")
        if configured:
            return str(configured)
        custom = self.account.base_url and self.base_url != self.default_base_url
        return f"{self.base_url}/2/media/upload" if custom else MEDIA_UPLOAD_URL

    def _acc(self, suffix: str = "") -> str:
        return f"{self.api_version}/accounts/{self.account.account_id}{suffix}"

    def _call(self, method: str, path: str, operation: str, **kwargs: Any) -> Any:
        return self.transport.request(method, path, operation=operation, **kwargs).json()

    def _all(self, path: str, operation: str, **params: Any) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        params = {"count": 200, "with_draft": "true", **params}
        while True:
            page = self._call("GET", path, operation, params=params)
            rows.extend(page.get("data", []))
            if not page.get("next_cursor"):
                return rows
            params["cursor"] = page["next_cursor"]

    def _find(self, path: str, name: str, operation: str, **params: Any) -> str | None:
        for row in self._all(path, operation, **params):
            if row.get("name") == name:
                return str(row["id"])
        return None

    # -- publishing ------------------------------------------------------------------------

    def _funding_instrument(self) -> str:
        configured = self.account.extra.get("funding_instrument_id")
        if configured:
            return str(configured)
        for row in self._call("GET", self._acc("/funding_instruments"), "list_funding_instruments").get(
            "data", []
        ):
            if row.get("entity_status") == "ACTIVE" and row.get("able_to_fund", True):
                return str(row["id"])
        raise FatalError("the X ads account has no active funding instrument", platform="x")

    def publish(self, spec: CampaignSpec) -> PublishResult:
        self._as_user()  # checked before any object of the tree is created
        return super().publish(spec)

    def _as_user(self) -> str:
        """The user the promoted posts are published as: X refuses a post without one."""
        as_user = self.account.extra.get("as_user_id")
        if not as_user:
            raise FatalError("x promoted posts need the account's as_user_id", platform=self.platform)
        return str(as_user)

    def _campaign_step(self, tree: Tree, name: str) -> Step:
        spec = tree.spec
        tree.result.extra["funding_instrument_id"] = funding = self._funding_instrument()
        daily = spec.budget_daily or sum(group.daily_budget for group in spec.ad_groups)
        params = {
            "funding_instrument_id": funding,
            "name": name,
            "daily_budget_amount_local_micro": to_micros(daily),
            "total_budget_amount_local_micro": to_micros(spec.budget_total),
            "entity_status": "PAUSED",
        }
        return Step(
            "campaign",
            lambda: self._find(self._acc("/campaigns"), name, "find_campaign", q=name[:50]),
            lambda: self._create("/campaigns", "create_campaign", params),
            look_first=True,
        )

    def _existing_groups(self, tree: Tree) -> list[dict[str, Any]]:
        return self._all(self._acc("/line_items"), "list_line_items", campaign_ids=tree.result.campaign_id)

    def _group_step(self, tree: Tree, group: AdGroupSpec, name: str) -> Step:
        campaign_id = tree.result.campaign_id
        params = {
            "campaign_id": campaign_id,
            "name": name,
            "objective": OBJECTIVES[tree.spec.objective],
            "product_type": "PROMOTED_TWEETS",
            "placements": "ALL_ON_TWITTER",
            "bid_strategy": "AUTO",
            "entity_status": "PAUSED",
            # The flight lives on the line item: the current API's campaign has no start_time/end_time.
            "start_time": f"{tree.spec.start_date.isoformat()}T00:00:00Z",
            **({"end_time": f"{tree.spec.end_date.isoformat()}T23:59:59Z"} if tree.spec.end_date else {}),
        }
        return Step(
            f"line item {group.ref}",
            lambda: self._find(self._acc("/line_items"), name, "find_line_item", campaign_ids=campaign_id),
            lambda: self._create("/line_items", "create_line_item", params),
        )

    def _after_group(self, tree: Tree, group: AdGroupSpec, group_id: str) -> None:
        self._ensure_targeting(group_id, tree.plans[group.ref])

    def _creative_step(self, tree: Tree) -> Step:
        name = object_name(tree.spec.key, "post")
        as_user = self._as_user()
        card_uri = website_card(self, tree.spec)  # the image and the link, when there is an image
        params = {
            "text": self._post_text(tree.spec, with_link=card_uri is None),
            "nullcast": "true",
            "name": name,
            "as_user_id": as_user,
            **({"card_uri": card_uri} if card_uri else {}),
        }
        return Step(
            "promoted-only post",
            lambda: self._find(
                self._acc("/tweets"), name, "find_post", tweet_type="PUBLISHED", timeline_type="NULLCAST"
            ),
            lambda: str(
                self._call("POST", self._acc("/tweet"), "create_post", params=params)["data"]["id_str"]
            ),
            look_first=tree.reused_any,
        )

    def _ad_step(self, tree: Tree, group: AdGroupSpec, name: str) -> Step:
        # A promoted post has no name of ours: the line item's promoted post is the one.
        item_id = tree.result.ad_groups[group.ref]
        params = {"line_item_id": item_id, "tweet_ids": tree.result.creative_id}

        def find() -> str | None:
            rows = self._all(self._acc("/promoted_tweets"), "list_promoted", line_item_ids=item_id)
            return str(rows[0]["id"]) if rows else None

        def create() -> str:
            answer = self._call("POST", self._acc("/promoted_tweets"), "promote_post", params=params)
            return str(answer["data"][0]["id"])

        return Step(f"promoted post {group.ref}", find, create, look_first=tree.reused_any)

    def _create(self, suffix: str, operation: str, params: dict[str, Any]) -> str:
        return str(self._call("POST", self._acc(suffix), operation, params=params)["data"]["id"])

    @staticmethod
    def _post_text(spec: CampaignSpec, *, with_link: bool = True) -> str:
        """Headline and text; the link too unless a website card carries it."""
        creative = spec.creative
        room = 280 - (len(creative.link_url) + 1 if with_link else 0)
        # The longest wording that fits, never a cut one: both parts, else the text, else the headline.
        options = (f"{creative.headline}\n{creative.primary_text}", creative.primary_text, creative.headline)
        text = next((option for option in options if len(option) <= room), creative.headline)
        return f"{text}\n{creative.link_url}" if with_link else text

    def _ensure_targeting(self, line_item_id: str, plan: CompliancePlan) -> None:
        """Targeting criteria for a line item, skipping those that already exist."""
        have = {(row["targeting_type"], row["targeting_value"]) for row in self._criteria(line_item_id)}
        for targeting_type, value in self._wanted_targeting(plan):
            if (targeting_type, value) in have:
                continue
            self._call(
                "POST",
                self._acc("/targeting_criteria"),
                "create_targeting",
                params={
                    "line_item_id": line_item_id,
                    "targeting_type": targeting_type,
                    "targeting_value": value,
                },
            )

    def _criteria(self, line_item_id: str) -> list[dict[str, Any]]:
        """The line item's targeting criteria as X lists them (deleted ones left out)."""
        rows = self._all(self._acc("/targeting_criteria"), "list_targeting", line_item_ids=line_item_id)
        return [row for row in rows if not row.get("deleted")]

    def _wanted_targeting(self, plan: CompliancePlan) -> list[tuple[str, str]]:
        """(targeting_type, targeting_value) pairs for a compliance plan (locations looked up)."""
        wanted: list[tuple[str, str]] = []
        targeting = plan.targeting
        places = [(city.name, "CITIES") for city in targeting.cities] or [
            (COUNTRY_NAMES.get(targeting.country, targeting.country), "COUNTRIES")
        ]
        for place, kind in places:
            rows = self._call(
                "GET",
                f"{self.api_version}/targeting_criteria/locations",
                "lookup_location",
                params={"q": place, "location_type": kind, "country_code": targeting.country},
            )
            if rows.get("data"):
                wanted.append(("LOCATION", rows["data"][0]["targeting_value"]))
        wanted += [("BROAD_KEYWORD", interest) for interest in targeting.interests]
        if targeting.custom_audience_id:
            wanted.append(("CUSTOM_AUDIENCE", targeting.custom_audience_id))
        return wanted

    # -- lifecycle -------------------------------------------------------------------------

    def set_status(self, result: PublishResult, status: str) -> None:
        """Line items first, then the campaign; archiving deletes the campaign (X has no archive)."""
        self._raise_for_status(status)
        if status == "archived":
            self._call("DELETE", self._acc(f"/campaigns/{result.campaign_id}"), "delete_campaign")
            return
        if status == "active":
            for item_id in result.ad_groups.values():
                self._call(
                    "PUT",
                    self._acc(f"/line_items/{item_id}"),
                    "update_line_item",
                    params={"entity_status": "ACTIVE"},
                )
        self._call(
            "PUT",
            self._acc(f"/campaigns/{result.campaign_id}"),
            "update_campaign",
            params={"entity_status": STATUS_MAP[status]},
        )

    # -- reporting -------------------------------------------------------------------------

    report_batch = 200  # platform campaigns per write: their line items in jobs of 20 ids

    def fetch_insights(self, result: PublishResult, since: date, until: date) -> list[InsightRow]:
        """Asynchronous stats job per line item, polled, then the gzip file downloaded and parsed."""
        return self.fetch_insights_many([result], since, until)

    def fetch_insights_many(
        self, results: Sequence[PublishResult], since: date, until: date
    ) -> list[InsightRow]:
        """The campaigns' line items in asynchronous jobs of up to 20 ``entity_ids`` (X's maximum),
        at most 100 jobs queued at once (X's per-account concurrency): create them all, poll them
        together (one request for up to 200 job ids), download each gzip file as it is ready."""
        refs = {item: ref for result in results for item, ref in result.group_refs().items()}
        items = [item for result in results for item in result.ad_groups.values()]
        rows: list[InsightRow] = []
        for wave in chunked(items, STATS_IDS * STATS_JOBS):
            jobs = [self._create_stats_job(ids, since, until) for ids in chunked(wave, STATS_IDS)]
            for url in self._wait_for_jobs(jobs):
                # The file lives on a CDN: no OAuth signature, but the same retries and metrics.
                raw = self.transport.request("GET", url, operation="download_stats", auth=False).content
                payload = json.loads(gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw)
                rows += _stats_rows(payload, refs, since)
        return rows

    def _create_stats_job(self, ids: list[str], since: date, until: date) -> str:
        job = self._call(
            "POST",
            self._jobs_path(),
            "create_stats_job",
            params={
                "entity": "LINE_ITEM",
                "entity_ids": ",".join(ids),
                "start_time": f"{since.isoformat()}T00:00:00Z",
                "end_time": f"{(until + timedelta(days=1)).isoformat()}T00:00:00Z",
                "granularity": "DAY",
                "placement": "ALL_ON_TWITTER",
                "metric_groups": "ENGAGEMENT,BILLING,WEB_CONVERSION",
            },
        )["data"]
        return str(job["id_str"])

    def _wait_for_jobs(self, job_ids: list[str]) -> list[str]:
        """The files' URLs once every job succeeded (one poll request for all of them)."""
        done: dict[str, str] = {}

        def poll() -> list[str] | None:
            waiting = [job_id for job_id in job_ids if job_id not in done]
            answer = self._call(
                "GET", self._jobs_path(), "poll_stats_job", params={"job_ids": ",".join(waiting)}
            )
            for job in answer["data"]:
                if job.get("status") == "FAILED":
                    raise RetryableError(f"stats job {job['id_str']} failed", platform="x")
                if job.get("status") == "SUCCESS":
                    done[str(job["id_str"])] = str(job["url"])
            return [done[job_id] for job_id in job_ids] if len(done) == len(job_ids) else None

        return self._wait_for(f"stats jobs {job_ids[0]}…", poll)

    def _jobs_path(self) -> str:
        return f"{self.api_version}/stats/jobs/accounts/{self.account.account_id}"

    # -- audiences: a custom audience with SHA-256 emails, sent in batches to the users endpoint --

    def _find_audience(self, name: str) -> str | None:
        return self._find(self._acc("/custom_audiences"), name, "find_audience")

    def _create_audience(self, name: str, hashes: list[str]) -> str:
        return self._create("/custom_audiences", "create_audience", {"name": name})

    def _fill_audience(self, audience: str, hashes: list[str]) -> tuple[int, int]:
        received = 0
        for chunk in chunked(hashes, AUDIENCE_CHUNK):
            answer = self._call(
                "POST",
                self._acc(f"/custom_audiences/{audience}/users"),
                "add_audience_users",
                # One element per person: each user object holds that person's identifiers.
                json=[{"operation_type": "Update", "params": {"users": [{"email": [h]} for h in chunk]}}],
            )
            received += int(answer["data"].get("success_count", len(chunk)))
        return received, 0

    # -- health ----------------------------------------------------------------------------

    def health(self) -> HealthReport:
        """The account endpoint proves the OAuth credentials; rate-limit headers give headroom."""
        try:
            response = self.transport.request("GET", self._acc(), operation="get_account")
        except AuthError as exc:
            return self._unhealthy(exc)
        limit = response.headers.get("x-rate-limit-limit")
        remaining = response.headers.get("x-rate-limit-remaining")
        headroom = int(remaining) / int(limit) if limit and remaining and int(limit) else None
        return HealthReport(
            self.platform,
            ok=True,
            token_valid=True,
            api_version=self.api_version,
            token_expires_at=None,  # OAuth 1.0a user tokens do not expire; they are revoked
            throttle_headroom=headroom,
            extra={"approval_status": response.json()["data"].get("approval_status")},
        )


def _stats_rows(payload: dict[str, Any], refs: dict[str, str], since: date) -> list[InsightRow]:
    """Daily rows from a stats job's file (one series per metric, one value per day)."""
    rows = []
    for entity in payload.get("data", []):
        for segment in entity.get("id_data", []):
            metrics = segment.get("metrics", {})
            sign_ups = (metrics.get("conversion_sign_ups") or {}).get("metric") or []
            for index in range(payload.get("time_series_length", 0)):

                def value(series: list[int] | None, index: int = index) -> int:
                    return int(series[index] or 0) if series and index < len(series) else 0

                impressions = value(metrics.get("impressions"))
                spend = value(metrics.get("billed_charge_local_micro"))
                if not impressions and not spend:
                    continue
                rows.append(
                    InsightRow(
                        ad_group_ref=refs.get(str(entity["id"])),
                        ad_group_id=str(entity["id"]),
                        date=since + timedelta(days=index),
                        impressions=impressions,
                        reach=None,  # daily reach is not in X's ENGAGEMENT/BILLING groups
                        clicks=value(metrics.get("url_clicks")),
                        engagements=value(metrics.get("engagements")),
                        spend_micros=spend,
                        applications=value(sign_ups),
                    )
                )
    return rows
