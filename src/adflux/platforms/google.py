"""Google Ads API adapter over REST: one atomic googleAds:mutate with temporary ids, GAQL reporting."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

import httpx

from adflux.constants import JOB_CATEGORY_LABELS
from adflux.platforms.audiences import prepare_hashes
from adflux.platforms.base import PlatformAdapter, object_name
from adflux.platforms.compliance import CompliancePlan
from adflux.platforms.errors import (
    AmbiguousOutcomeError,
    AuthError,
    FatalError,
    PlatformError,
    PlatformValidationError,
    RetryableError,
    ThrottledError,
)
from adflux.platforms.geo import COUNTRY_GOOGLE_GEO_TARGET
from adflux.platforms.money import to_micros
from adflux.platforms.registry import register
from adflux.platforms.types import AudienceResult, CampaignSpec, HealthReport, InsightRow, PublishResult

logger = logging.getLogger(__name__)

SPANISH = "languageConstants/1003"
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
            if isinstance(value, str) and _DURATION.match(value):
                return float(_DURATION.match(value)["seconds"])  # type: ignore[index]
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
        if credentials.get("login_customer_id"):
            headers["login-customer-id"] = credentials["login_customer_id"].replace("-", "")
        return headers

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
        """Everything in one atomic mutate; after an ambiguous failure, find the campaign by name."""
        plans = self.plan(spec)
        name = object_name(spec.key, spec.name)
        existing = self._find_tree(spec, name)
        if existing is not None:
            existing.compliance = {ref: plan.report() for ref, plan in plans.items()}
            return existing
        operations = self._operations(spec, name, plans)
        for attempt in range(1, 4):
            try:
                responses = self._mutate(operations, "mutate_campaign_tree")
                break
            except AmbiguousOutcomeError:
                logger.warning(
                    "google publish %s: response lost (attempt %d); looking it up", spec.key, attempt
                )
            except PlatformValidationError as exc:
                if exc.code != "DUPLICATE_CAMPAIGN_NAME":
                    raise
                logger.warning("google publish %s: campaign name taken; reusing the existing tree", spec.key)
            found = self._find_tree(spec, name)
            if found is not None:
                found.compliance = {ref: plan.report() for ref, plan in plans.items()}
                return found
        else:
            raise AmbiguousOutcomeError("could not confirm the campaign tree was created", platform="google")
        result = PublishResult(platform=self.platform, campaign_id="")
        refs = iter(group.ref for group in spec.ad_groups)
        ad_refs = iter(group.ref for group in spec.ad_groups)
        for response in responses:
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
        result.compliance = {ref: plan.report() for ref, plan in plans.items()}
        logger.info(
            "google campaign %s published with %d ad groups", result.campaign_id, len(result.ad_groups)
        )
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
            ref = by_prefix.get(row["adGroup"]["name"].split("]", 1)[0] + "]")
            if ref:
                result.ad_groups[ref] = str(row["adGroup"]["id"])
                result.ads[ref] = str(row["adGroupAd"]["ad"]["id"])
        result.reused = 1 + len(result.ad_groups) + len(result.ads)
        return result

    def _operations(
        self, spec: CampaignSpec, name: str, plans: dict[str, CompliancePlan]
    ) -> list[dict[str, Any]]:
        cid = self.cid
        budget_rn, campaign_rn = f"customers/{cid}/campaignBudgets/-1", f"customers/{cid}/campaigns/-2"
        # Google budgets live on the campaign: the ad groups' daily budgets add up to it.
        daily = spec.budget_daily or sum(group.daily_budget for group in spec.ad_groups)
        campaign: dict[str, Any] = {
            "resourceName": campaign_rn,
            "name": name,
            "status": "PAUSED",
            "advertisingChannelType": "SEARCH",
            "campaignBudget": budget_rn,
            "manualCpc": {"enhancedCpcEnabled": False},
            "networkSettings": {
                "targetGoogleSearch": True,
                "targetSearchNetwork": True,
                "targetContentNetwork": False,
                "targetPartnerSearchNetwork": False,
            },
            "containsEuPoliticalAdvertising": "DOES_NOT_CONTAIN_EU_POLITICAL_ADVERTISING",
            "startDate": spec.start_date.isoformat(),
        }
        if spec.end_date:
            campaign["endDate"] = spec.end_date.isoformat()
        operations: list[dict[str, Any]] = [
            {
                "campaignBudgetOperation": {
                    "create": {
                        "resourceName": budget_rn,
                        "name": object_name(spec.key, "presupuesto"),
                        "amountMicros": str(to_micros(daily)),
                        "deliveryMethod": "STANDARD",
                        "explicitlyShared": False,
                    }
                }
            },
            {"campaignOperation": {"create": campaign}},
            {
                "campaignCriterionOperation": {
                    "create": {"campaign": campaign_rn, "language": {"languageConstant": SPANISH}}
                }
            },
        ]
        # Locations are campaign-level in Google Ads: the union of the segments' cities, or the country.
        cities = {city.name: city for plan in plans.values() for city in plan.targeting.cities}
        if cities and all(plan.targeting.cities for plan in plans.values()):
            for city in cities.values():
                operations.append(
                    {
                        "campaignCriterionOperation": {
                            "create": {
                                "campaign": campaign_rn,
                                "proximity": {
                                    "geoPoint": {
                                        "latitudeInMicroDegrees": round(city.latitude * 1_000_000),
                                        "longitudeInMicroDegrees": round(city.longitude * 1_000_000),
                                    },
                                    "radius": city.radius_km,
                                    "radiusUnits": "KILOMETERS",
                                },
                            }
                        }
                    }
                )
        else:
            country = next(iter(plans.values())).targeting.country
            geo = COUNTRY_GOOGLE_GEO_TARGET.get(country)
            if geo is None:
                raise FatalError(f"no Google geo target for country {country}", platform="google")
            operations.append(
                {
                    "campaignCriterionOperation": {
                        "create": {
                            "campaign": campaign_rn,
                            "location": {"geoTargetConstant": f"geoTargetConstants/{geo}"},
                        }
                    }
                }
            )
        headlines, descriptions = self._copy(spec)
        for index, group in enumerate(spec.ad_groups):
            group_rn = f"customers/{cid}/adGroups/{-(index + 3)}"
            operations.append(
                {
                    "adGroupOperation": {
                        "create": {
                            "resourceName": group_rn,
                            "campaign": campaign_rn,
                            "name": object_name(spec.key, group.name, group.ref),
                            "status": "ENABLED",
                            "type": "SEARCH_STANDARD",
                            "cpcBidMicros": str(to_micros(max(200, group.daily_budget // 40))),
                        }
                    }
                }
            )
            operations.append(
                {
                    "adGroupAdOperation": {
                        "create": {
                            "adGroup": group_rn,
                            "status": "ENABLED",
                            "ad": {
                                "finalUrls": [spec.creative.link_url],
                                "responsiveSearchAd": {
                                    "headlines": [{"text": text} for text in headlines],
                                    "descriptions": [{"text": text} for text in descriptions],
                                },
                            },
                        }
                    }
                }
            )
            targeting = plans[group.ref].targeting
            for keyword in targeting.interests or self._default_keywords(spec):
                operations.append(
                    {
                        "adGroupCriterionOperation": {
                            "create": {
                                "adGroup": group_rn,
                                "status": "ENABLED",
                                "keyword": {"text": keyword[:80], "matchType": "BROAD"},
                            }
                        }
                    }
                )
            if targeting.custom_audience_id:
                operations.append(
                    {
                        "adGroupCriterionOperation": {
                            "create": {
                                "adGroup": group_rn,
                                "userList": {
                                    "userList": f"customers/{cid}/userLists/{targeting.custom_audience_id}"
                                },
                            }
                        }
                    }
                )
        return operations

    @staticmethod
    def _default_keywords(spec: CampaignSpec) -> list[str]:
        label = JOB_CATEGORY_LABELS.get(spec.job.category, spec.job.category)
        return [spec.job.title.lower(), f"empleo {label.lower()}", f"trabajo {spec.job.title.lower()}"]

    @staticmethod
    def _copy(spec: CampaignSpec) -> tuple[list[str], list[str]]:
        """3-15 unique headlines of <=30 chars and 2-4 descriptions of <=90 chars."""
        creative = spec.creative
        headlines = list(creative.extra.get("headlines") or [])
        headlines += [creative.headline, spec.job.title, "Aplica hoy", "Empleo en Colombia"]
        descriptions = list(creative.extra.get("descriptions") or [])
        descriptions += [creative.description or "", creative.primary_text, "Postúlate en minutos."]
        unique_headlines = list(dict.fromkeys(text[:30].strip() for text in headlines if text.strip()))[:15]
        unique_descriptions = list(dict.fromkeys(text[:90].strip() for text in descriptions if text.strip()))[
            :4
        ]
        return unique_headlines, unique_descriptions

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

    def fetch_insights(self, result: PublishResult, since: date, until: date) -> list[InsightRow]:
        """GAQL over ad_group with segments.date (Google reporting is synchronous)."""
        rows = self.search(
            "SELECT ad_group.id, segments.date, metrics.impressions, metrics.clicks, metrics.cost_micros, "
            "metrics.conversions, metrics.interactions FROM ad_group "
            f"WHERE campaign.id = {int(result.campaign_id)} "
            f"AND segments.date BETWEEN '{since.isoformat()}' AND '{until.isoformat()}'",
            "report",
        )
        refs = {external: ref for ref, external in result.ad_groups.items()}
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

    # -- audiences ---------------------------------------------------------------------------

    def upload_audience(
        self, name: str, *, emails: Iterable[str] = (), hashed_emails: Iterable[str] = ()
    ) -> AudienceResult:
        """Customer Match: a CRM-based user list filled through an OfflineUserDataJob."""
        hashes, invalid = prepare_hashes(emails, hashed_emails)
        list_name = object_name(name, "candidatos con consentimiento")

        def find() -> str | None:
            rows = self.search(
                "SELECT user_list.resource_name FROM user_list "
                f"WHERE user_list.name = {_gaql_string(list_name)}",
                "find_user_list",
            )
            return rows[0]["userList"]["resourceName"] if rows else None

        def create() -> str:
            answer = self.transport.request(
                "POST",
                self._customer("/userLists:mutate"),
                operation="create_user_list",
                json={
                    "operations": [
                        {
                            "create": {
                                "name": list_name,
                                "description": "AdFlux: consented candidates",
                                "membershipLifeSpan": 540,
                                "crmBasedUserList": {"uploadKeyType": "CONTACT_INFO"},
                            }
                        }
                    ]
                },
            )
            return answer.json()["results"][0]["resourceName"]

        user_list, _ = self._ensure("user list", find, create, look_first=True)
        job = self.transport.request(
            "POST",
            self._customer("/offlineUserDataJobs:create"),
            operation="create_offline_job",
            json={
                "job": {
                    "type": "CUSTOMER_MATCH_USER_LIST",
                    "customerMatchUserListMetadata": {"userList": user_list},
                }
            },
        ).json()["resourceName"]
        for start in range(0, len(hashes), AUDIENCE_CHUNK):
            chunk = hashes[start : start + AUDIENCE_CHUNK]
            self.transport.request(
                "POST",
                f"{self.api_version}/{job}:addOperations",
                operation="add_offline_job_operations",
                json={
                    "enablePartialFailure": True,
                    "operations": [
                        {"create": {"userIdentifiers": [{"hashedEmail": digest}]}} for digest in chunk
                    ],
                },
            )
        self.transport.request("POST", f"{self.api_version}/{job}:run", operation="run_offline_job", json={})
        return AudienceResult(
            audience_id=user_list.rsplit("/", 1)[-1], name=list_name, received=len(hashes), invalid=invalid
        )

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
            return HealthReport(
                self.platform,
                ok=False,
                token_valid=False,
                api_version=self.api_version,
                token_expires_at=expires,
                detail=str(exc),
            )
        accessible = [name.rsplit("/", 1)[-1] for name in answer.json().get("resourceNames", [])]
        expired = expires is not None and expires <= datetime.now(UTC)
        headroom = self.transport.limiter.headroom() if self.transport.limiter is not None else None
        return HealthReport(
            self.platform,
            ok=not expired,
            token_valid=not expired,
            api_version=self.api_version,
            token_expires_at=expires,
            throttle_headroom=headroom,
            detail="token expired" if expired else "",
            extra={"accessible_customers": accessible},
        )
