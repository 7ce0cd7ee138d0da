"""Request bodies checked against the platforms' own published definitions (test-only libraries).

Google Ads: the ``google-ads`` protobuf request messages (JSON parsed with unknown fields refused,
GAQL fields checked against ``GoogleAdsRow``); TikTok: ``tiktok-business-api-sdk-official``'s
request models; Meta: ``facebook-business`` AdObjects fields and enums; X: ``twitter-ads`` resource
PROPERTIES; Snapchat: ``snapchat_schema`` (written from the public Marketing API docs).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import business_api_client.models as tiktok_models
from facebook_business.adobjects.ad import Ad
from facebook_business.adobjects.adcreative import AdCreative
from facebook_business.adobjects.adset import AdSet
from facebook_business.adobjects.campaign import Campaign
from facebook_business.adobjects.customaudience import CustomAudience
from google.ads.googleads.v24.services.types import (
    asset_service,
    conversion_upload_service,
    google_ads_service,
    offline_user_data_job_service,
    user_list_service,
)
from google.protobuf import json_format
from twitter_ads.audience import CustomAudience as XCustomAudience
from twitter_ads.campaign import Campaign as XCampaign
from twitter_ads.campaign import LineItem, TargetingCriteria
from twitter_ads.creative import Card as XCard
from twitter_ads.creative import MediaLibrary, PromotedTweet
from twitter_ads.resource import Batch

from contracts.conversion_schemas import check_meta_events, check_snapchat_events, check_x_conversions
from contracts.doc_schemas import check_documented
from contracts.official_edges import check_edges
from contracts.snapchat_schema import check_snapchat

GOOGLE_VERSION = "v24"  # the newest version google-ads 34.0.0 ships; the adapter calls v26
GOOGLE_MESSAGES = {
    r"googleAds:mutate$": google_ads_service.MutateGoogleAdsRequest,
    r"googleAds:searchStream$": google_ads_service.SearchGoogleAdsStreamRequest,
    r"googleAds:search$": google_ads_service.SearchGoogleAdsRequest,
    r"userLists:mutate$": user_list_service.MutateUserListsRequest,
    r"assets:mutate$": asset_service.MutateAssetsRequest,
    r"offlineUserDataJobs:create$": offline_user_data_job_service.CreateOfflineUserDataJobRequest,
    r"offlineUserDataJobs/\d+:addOperations$": (
        offline_user_data_job_service.AddOfflineUserDataJobOperationsRequest
    ),
    r"offlineUserDataJobs/\d+:run$": offline_user_data_job_service.RunOfflineUserDataJobRequest,
    r"customers/\d+:uploadClickConversions$": conversion_upload_service.UploadClickConversionsRequest,
}
TIKTOK_MODELS = {
    "campaign/create/": tiktok_models.CampaignCreateBody,
    "adgroup/create/": tiktok_models.AdgroupCreateBody,
    "ad/create/": tiktok_models.AdCreateBody,
    "campaign/status/update/": tiktok_models.CampaignStatusUpdateBody,
    "adgroup/status/update/": tiktok_models.AdgroupStatusUpdateBody,
    "ad/status/update/": tiktok_models.AdStatusUpdateBody,
    "report/task/create/": tiktok_models.ReportTaskCreateBody,
    "dmp/custom_audience/create/": tiktok_models.CustomAudienceCreateBody,
    "campaign/update/": tiktok_models.CampaignUpdateBody,
    "adgroup/update/": tiktok_models.AdgroupUpdateBody,
    "ad/update/": tiktok_models.AdUpdateBody,
    "pixel/batch/": tiktok_models.PixelBatchBody,
}
META_OBJECTS: dict[str, Any] = {
    "campaigns": Campaign,
    "adsets": AdSet,
    "adcreatives": AdCreative,
    "ads": Ad,
    "customaudiences": CustomAudience,
}
META_ENUMS = {  # field -> the enum class whose values it must take
    ("campaigns", "objective"): Campaign.Objective,
    ("campaigns", "status"): Campaign.Status,
    ("campaigns", "buying_type"): None,
    ("adsets", "billing_event"): AdSet.BillingEvent,
    ("adsets", "optimization_goal"): AdSet.OptimizationGoal,
    ("adsets", "bid_strategy"): AdSet.BidStrategy,
    ("adsets", "status"): AdSet.Status,
    ("ads", "status"): Ad.Status,
}
X_RESOURCES = {
    "campaigns": XCampaign,
    "line_items": LineItem,
    "promoted_tweets": PromotedTweet,
    "custom_audiences": XCustomAudience,
    "targeting_criteria": TargetingCriteria,
    "cards": XCard,  # website cards: name + components (MEDIA, DETAILS)
    "media_library": MediaLibrary,
}
# Names the SDK itself puts on the wire for a property (PromotedTweet.save sends tweet_id as tweet_ids).
WIRE_NAMES: dict[Any, set[str]] = {PromotedTweet: {"tweet_ids"}, TargetingCriteria: {"account_id"}}


@dataclass
class Recorded:
    method: str
    url: str
    content_type: str
    body: bytes


@dataclass
class Verdict:
    checked: int = 0
    refused: list[str] = field(default_factory=list)
    unchecked: list[str] = field(default_factory=list)


def _enum_values(enum: Any) -> set[str]:
    return {
        value for name, value in vars(enum).items() if not name.startswith("_") and isinstance(value, str)
    }


def check_google(path: str, body: dict[str, Any]) -> list[str] | None:
    for pattern, message in GOOGLE_MESSAGES.items():
        if re.search(pattern, path):
            request = message.pb()()
            try:
                json_format.Parse(json.dumps(body), request, ignore_unknown_fields=False)
            except json_format.ParseError as exc:
                return [f"{message.__name__}: {exc}"]
            query = body.get("query")
            return _gaql_problems(query) if query else []
    return None


def _gaql_problems(query: str) -> list[str]:
    """Every field in SELECT/WHERE/ORDER BY must be a path of GoogleAdsRow (resources, metrics, segments)."""
    row = google_ads_service.GoogleAdsRow.pb().DESCRIPTOR
    problems = []
    for name in set(re.findall(r"\b([a-z_]+(?:\.[a-z_0-9]+)+)\b", query)):
        descriptor = row
        for part in name.split("."):
            found = descriptor.fields_by_name.get(part) if descriptor is not None else None
            if found is None:
                problems.append(f"GAQL field {name} is not defined")
                break
            descriptor = found.message_type
    return problems


def check_tiktok(path: str, body: dict[str, Any]) -> list[str] | None:
    endpoint = path.split("/open_api/v1.3/")[-1]
    model = TIKTOK_MODELS.get(endpoint)
    return None if model is None else _model_problems(model, body, endpoint)


def _model_problems(model: Any, body: dict[str, Any], where: str) -> list[str]:
    problems = []
    for key, value in body.items():
        declared = model.swagger_types.get(key)
        if declared is None:
            problems.append(f"{where}: {key} is not a field of {model.__name__}")
            continue
        inner = re.fullmatch(r"list\[(\w+)\]", declared)
        nested = getattr(tiktok_models, (inner.group(1) if inner else declared), None)
        if nested is not None and hasattr(nested, "swagger_types"):
            for item in value if inner else [value]:
                if isinstance(item, dict):
                    problems += _model_problems(nested, item, f"{where}.{key}")
    return problems


def check_meta(path: str, form: dict[str, str]) -> list[str] | None:
    if re.fullmatch(r"/v[\d.]+/\d+/events", path):  # Conversions API
        return check_meta_events(form)
    if re.fullmatch(r"/v[\d.]+/\d+", path):  # an update of one object: a field of one of the object types
        known = set().union(*(_enum_values(obj.Field) for obj in META_OBJECTS.values()))
        problems = [f"update: {key} is not a field of any ad object" for key in form if key not in known]
        if "status" in form and form["status"] not in _enum_values(Campaign.Status):
            problems.append(f"update: status={form['status']} is not a status value")
        return problems
    edge = path.rstrip("/").rsplit("/", 1)[-1]
    obj = META_OBJECTS.get(edge)
    if obj is None or not path.split("/")[-2].startswith("act_"):
        return None
    fields = _enum_values(obj.Field)
    problems = [f"{edge}: {key} is not a {obj.__name__} field" for key in form if key not in fields]
    for key, value in form.items():
        enum = META_ENUMS.get((edge, key))
        if enum is not None and value not in _enum_values(enum):
            problems.append(f"{edge}: {key}={value} is not a {obj.__name__} value")
    if edge == "campaigns":
        for category in json.loads(form.get("special_ad_categories", "[]")):
            if category not in _enum_values(Campaign.SpecialAdCategories):
                problems.append(f"campaigns: special_ad_categories {category} unknown")
    return problems


def check_x_batch(path: str, body: Any) -> list[str] | None:
    """twitter-ads' Batch.batch_save body: [{"operation_type", "params"}], params of the resource."""
    match = re.search(r"/batch/accounts/[^/]+/([a-z_]+)$", path)
    resource = X_RESOURCES.get(match.group(1)) if match else None
    if resource is None or not isinstance(body, list):
        return None
    entity_id = f"{Batch._ENTITY_MAP[resource.__name__].lower()}_id"  # what batch_save adds
    allowed = set(resource.PROPERTIES) | WIRE_NAMES.get(resource, set()) | {entity_id}
    problems = []
    for entry in body:
        if entry.get("operation_type") not in ("Create", "Update", "Delete"):
            problems.append(f"batch: operation_type {entry.get('operation_type')!r} unknown")
        problems += [
            f"batch {match.group(1)}: {key} is not a {resource.__name__} property"
            for key in entry.get("params", {})
            if key not in allowed
        ]
    return problems


def check_x(method: str, path: str, params: dict[str, str]) -> list[str] | None:
    match = re.search(r"/accounts/[^/]+/([a-z_]+)(?:/[0-9a-z]+)?$", path)
    resource = X_RESOURCES.get(match.group(1)) if match else None
    if resource is None or method not in ("POST", "PUT"):
        return None
    allowed = set(resource.PROPERTIES) | WIRE_NAMES.get(resource, set())
    return [
        f"{match.group(1)}: {key} is not a {resource.__name__} property"
        for key in params
        if key not in allowed
    ]


PLATFORM_OF: list[tuple[str, str]] = [
    ("/open_api/v1.3/", "tiktok"),
    ("/customers", "google"),
    ("/12/accounts/", "x"),
    ("/12/measurement/conversions/", "x-conversions"),
    ("/v3/", "snapchat-conversions"),
    ("/12/batch/accounts/", "x"),
    ("/v1/", "snapchat"),
    ("/act_", "meta"),
    ("/v26.0/", "meta"),
    ("/2/media/upload", "x"),
]


def check(recorded: Recorded) -> list[str] | None:
    """The problems with one request (empty: accepted), or None when no definition covers it."""
    url = urlsplit(recorded.url)
    path = url.path
    if recorded.method == "GET" or recorded.method == "DELETE":
        return None
    platform = next((name for marker, name in PLATFORM_OF if marker in path), None)
    documented = check_documented(
        recorded.method, path, recorded.content_type, recorded.body, _parsed(recorded)
    )
    if documented is not None:
        return documented
    try:
        text = recorded.body.decode() if recorded.body else ""
    except UnicodeDecodeError:
        return None  # an image upload (multipart with binary parts): no library defines its schema
    if "json" in recorded.content_type:
        body: Any = json.loads(text or "null")
    else:
        body = dict(parse_qsl(text or url.query))
    edges = check_edges(recorded.method, path, body)
    if edges is not None:
        return edges
    checkers: dict[str, Callable[[], list[str] | None]] = {
        "google": lambda: check_google(path, body),
        "tiktok": lambda: check_tiktok(path, body),
        "meta": lambda: check_meta(path, body),
        "x": lambda: (
            check_x_batch(path, body)
            if "/batch/" in path
            else check_x(recorded.method, path, body if isinstance(body, dict) else {})
        ),
        "snapchat": lambda: check_snapchat(recorded.method, path, body),
        "snapchat-conversions": lambda: check_snapchat_events(body),
        "x-conversions": lambda: check_x_conversions(body),
    }
    return checkers[platform]() if platform in checkers else None


def _parsed(recorded: Recorded) -> Any:
    """The body as JSON or form parameters (the query string for a bodiless X call); None if binary."""
    url = urlsplit(recorded.url)
    try:
        text = recorded.body.decode() if recorded.body else ""
    except UnicodeDecodeError:
        return None
    if "json" in recorded.content_type:
        return json.loads(text or "null")
    return dict(parse_qsl(text or url.query))


# Not ad-API calls: the sandbox's control endpoints and the platforms' OAuth token endpoints.
_NOT_ADS_API = re.compile(r"^/(__sandbox/|token$|login/oauth2/|open_api/v1\.3/oauth2/|v\d+\.\d+/oauth/)")


def ads_api(recorded: Recorded) -> bool:
    """Whether a request went to a platform's ad API (not the sandbox's knobs, an OAuth endpoint, or
    the made-up platform the transport's own unit tests talk to)."""
    path = urlsplit(recorded.url).path
    return not _NOT_ADS_API.match(path) and any(marker in path for marker, _ in PLATFORM_OF)


def judge(requests: list[Recorded]) -> Verdict:
    verdict = Verdict()
    for recorded in requests:
        if not ads_api(recorded):
            continue
        problems = check(recorded)
        if problems is None:
            verdict.unchecked.append(f"{recorded.method} {urlsplit(recorded.url).path}")
            continue
        verdict.checked += 1
        verdict.refused += problems
    return verdict
