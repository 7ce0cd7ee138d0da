"""The writes no library gives a request model for, checked strictly against what the platforms'
own definitions say: the SDK's declared upload parameters where the SDK has an upload method
(TikTok image and audience-file uploads: ``FileApi``/``AudienceApi`` ``all_params``; Meta
``adimages``: ``AdImage.Field``), else schemas written from the public API docs:

- X ``POST /2/media/upload`` (docs.x.com, Media upload): multipart ``media`` plus ``media_category``
  (tweet_image, dm_image, amplify_image, subtitles...), ``media_type``, ``additional_owners``, ``shared``.
- X ``POST /12/accounts/:id/tweet`` (Ads API, Tweets): ``text`` (≤ 280), ``as_user_id``, ``card_uri``,
  ``conversation_settings``, ``media_keys``, ``name``, ``nullcast``, ``trim_user``, ``tweet_mode``,
  ``video_cta``, ``video_cta_value``, ``video_description``, ``video_title``.
- X ``POST /12/accounts/:id/custom_audiences/:id/users`` (Ads API, Audiences): a JSON list of
  ``{"operation_type": Update|Delete, "params": {"users": [...], "effective_at"?, "expires_at"?}}``,
  each user one person with lists of ``email``, ``phone_number``, ``handle``, ``twitter_id``,
  ``device_id``, ``partner_user_id``; at most 2,500 users per request.
- TikTok ``POST /open_api/v1.3/adgroup/budget/update/`` (API for Business, Update budgets):
  ``advertiser_id`` and ``budget``/``scheduled_budget`` lists of ``{adgroup_id, budget}`` /
  ``{adgroup_id, scheduled_budget}``, at most 20 ad groups.
- Snapchat ``POST /v1/media/:id/upload`` (Marketing API, Media): multipart ``file`` only.
"""

from __future__ import annotations

import email.parser
import email.policy
import inspect
import re
from functools import cache
from typing import Any

from business_api_client.api.audience_api import AudienceApi
from business_api_client.api.file_api import FileApi
from facebook_business.adobjects.adimage import AdImage

X_MEDIA_CATEGORIES = {"tweet_image", "tweet_gif", "tweet_video", "amplify_video", "amplify_image",
                      "dm_image", "dm_gif", "dm_video", "subtitles"}  # fmt: skip
X_TWEET_PARAMS = {
    "text", "as_user_id", "card_uri", "conversation_settings", "media_keys", "name", "nullcast",
    "trim_user", "tweet_mode", "video_cta", "video_cta_value", "video_description", "video_title",
}  # fmt: skip
X_USER_KEYS = {"email", "phone_number", "handle", "twitter_id", "device_id", "partner_user_id"}
X_USERS_PER_REQUEST = 2_500
TIKTOK_BUDGET_ITEMS = {
    "budget": {"adgroup_id", "budget"},
    "scheduled_budget": {"adgroup_id", "scheduled_budget"},
}


@cache
def sdk_params(method: Any) -> frozenset[str]:
    """The parameter names a tiktok-business-api-sdk-official method declares (its ``all_params``)."""
    block = inspect.getsource(method).split("all_params = [", 1)[1].split("]", 1)[0]
    return frozenset(re.findall(r"'(\w+)'", block)) - {"access_token"}


def multipart(content_type: str, body: bytes) -> tuple[dict[str, str], set[str]] | None:
    """The text fields and the file field names of a multipart/form-data body (None if not one)."""
    if not content_type.startswith("multipart/form-data"):
        return None
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    fields: dict[str, str] = {}
    files: set[str] = set()
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        if part.get_filename() is not None:
            files.add(name)
        else:
            raw = part.get_payload(decode=True)
            fields[name] = raw.decode() if isinstance(raw, bytes) else ""
    return fields, files


def _upload(where: str, parts: tuple[dict[str, str], set[str]], allowed: set[str] | frozenset[str],
            required: set[str]) -> list[str]:  # fmt: skip
    fields, files = parts
    names = set(fields) | files
    problems = [f"{where}: {name} is not a parameter" for name in sorted(names - set(allowed))]
    problems += [f"{where}: {name} is required" for name in sorted(required - names)]
    return problems


def _tiktok_image(parts: tuple[dict[str, str], set[str]]) -> list[str]:
    problems = _upload("image upload", parts, sdk_params(FileApi.ad_image_upload_with_http_info),
                       {"advertiser_id"})  # fmt: skip
    fields, files = parts
    if fields.get("upload_type", "UPLOAD_BY_FILE") == "UPLOAD_BY_FILE":
        problems += [
            f"image upload: {n} is required by file" for n in ("image_signature",) if n not in fields
        ]
        problems += [] if "image_file" in files else ["image upload: image_file is required by file"]
    return problems


def _x_media(parts: tuple[dict[str, str], set[str]]) -> list[str]:
    allowed = {"media", "media_category", "media_type", "additional_owners", "shared"}
    problems = _upload("media upload", parts, allowed, {"media"})
    category = parts[0].get("media_category")
    if category is not None and category not in X_MEDIA_CATEGORIES:
        problems.append(f"media upload: media_category {category} is not a category")
    return problems


def _multipart_check(path: str, parts: tuple[dict[str, str], set[str]]) -> list[str] | None:
    if path.endswith("/open_api/v1.3/file/image/ad/upload/"):
        return _tiktok_image(parts)
    if path.endswith("/open_api/v1.3/dmp/custom_audience/file/upload/"):
        audience_file = sdk_params(AudienceApi.dmp_custom_audience_file_upload_with_http_info)
        return _upload("audience file", parts, audience_file, {"advertiser_id", "file", "file_signature"})
    if path == "/2/media/upload":
        return _x_media(parts)
    if re.fullmatch(r"/v1/media/[0-9a-f-]+/upload", path):
        return _upload("snapchat media upload", parts, {"file"}, {"file"})
    return None


def _x_tweet(params: dict[str, str]) -> list[str]:
    problems = [f"tweet: {key} is not a parameter" for key in params if key not in X_TWEET_PARAMS]
    if len(params.get("text", "")) > 280:
        problems.append("tweet: text is over 280 characters")
    if not params.get("as_user_id"):
        problems.append("tweet: as_user_id is required")
    if not params.get("text") and not params.get("card_uri") and not params.get("media_keys"):
        problems.append("tweet: text is required without media or a card")
    return problems


def _x_users(body: Any) -> list[str]:
    if not isinstance(body, list) or not body:
        return ["audience users: the body must be a non-empty JSON list of operations"]
    problems = []
    for entry in body:
        extra = set(entry) - {"operation_type", "params"}
        problems += [f"audience users: {key} is not an operation field" for key in sorted(extra)]
        if entry.get("operation_type") not in ("Update", "Delete"):
            problems.append(f"audience users: operation_type {entry.get('operation_type')!r}")
        params = entry.get("params") or {}
        problems += [f"audience users: params.{k} unknown" for k in params if k not in
                     ("users", "effective_at", "expires_at")]  # fmt: skip
        users = params.get("users")
        if not isinstance(users, list) or not 1 <= len(users) <= X_USERS_PER_REQUEST:
            problems.append(f"audience users: 1 to {X_USERS_PER_REQUEST} users per request")
            continue
        for user in users:
            if not isinstance(user, dict) or not user or set(user) - X_USER_KEYS:
                problems.append(f"audience users: {user!r:.60} is not one person's identifiers")
            elif any(not isinstance(value, list) for value in user.values()):
                problems.append("audience users: each identifier type is a list")
    return problems


def _tiktok_budget(body: Any) -> list[str]:
    if not isinstance(body, dict):
        return ["budget update: the body must be a JSON object"]
    problems = [f"budget update: {k} is not a field" for k in body if k not in
                ("advertiser_id", *TIKTOK_BUDGET_ITEMS)]  # fmt: skip
    if "advertiser_id" not in body:
        problems.append("budget update: advertiser_id is required")
    lists = [key for key in TIKTOK_BUDGET_ITEMS if key in body]
    if not lists:
        problems.append("budget update: budget or scheduled_budget is required")
    for key in lists:
        items = body[key]
        if not isinstance(items, list) or not 1 <= len(items) <= 20:
            problems.append(f"budget update: {key} takes 1 to 20 ad groups")
            continue
        for item in items:
            if set(item) != TIKTOK_BUDGET_ITEMS[key]:
                problems.append(
                    f"budget update: {key} item {sorted(item)} is not {sorted(TIKTOK_BUDGET_ITEMS[key])}"
                )
    return problems


def check_documented(method: str, path: str, content_type: str, body: bytes, form: Any) -> list[str] | None:
    """Problems with one of these writes (empty: accepted), or None when it is not one of them.
    ``form`` is the parsed body (JSON, or form/query parameters) when it is text."""
    if method != "POST":
        return None
    parts = multipart(content_type, body)
    if parts is not None:
        return _multipart_check(path, parts)
    if re.fullmatch(r"/\d+/accounts/[0-9a-z]+/tweet", path):
        return _x_tweet(form if isinstance(form, dict) else {})
    if re.fullmatch(r"/\d+/accounts/[0-9a-z]+/custom_audiences/[0-9a-z]+/users", path):
        return _x_users(form)
    if path.endswith("/open_api/v1.3/adgroup/budget/update/"):
        return _tiktok_budget(form)
    if re.fullmatch(r"/v[\d.]+/act_\d+/adimages", path):
        known = {value for name, value in vars(AdImage.Field).items() if not name.startswith("_")}
        return [f"adimages: {key} is not an AdImage field" for key in form if key not in known]
    return None
