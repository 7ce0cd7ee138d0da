"""The five platforms' conversion endpoints: they check each event as the real API does, keep one
copy per deduplication key and count every event received (so duplicates show).

Meta Conversions API ``POST /vNN.0/<pixel>/events`` (dedup: event_name + event_id), Google Ads
``POST /vNN/customers/<cid>:uploadClickConversions`` (order_id), TikTok ``POST /open_api/v1.3/
pixel/batch/`` (event_id), Snapchat Conversions API ``POST /v3/<pixel>/events`` (event_id) and X
``POST /12/measurement/conversions/<pixel>`` (conversion_id).
"""

from __future__ import annotations

import json
import re
import time
from datetime import datetime
from typing import Any

from adflux.sandbox.http import ApiError, Request, Response, json_response, route
from adflux.sandbox.state import SandboxState

KIND = "conversion"
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
META_ACTION_SOURCES = {"website", "email", "app", "phone_call", "chat", "physical_store", "system_generated"}
META_MAX_AGE_SECONDS = 7 * 86_400  # Meta refuses events more than seven days old
LIMITS = {"meta": 1000, "google": 2000, "tiktok": 1000, "snapchat": 2000, "x": 500}


def record(state: SandboxState, platform: str, key: str, event: dict[str, Any]) -> bool:
    """Keep ``event`` under ``key`` unless it is already there; True when it is new."""
    found = state.get(platform, KIND, key)
    if found is not None:
        found["_received"] = int(found.get("_received", 1)) + 1
        state.add(platform, KIND, found)  # touch: the store keeps the new count
        return False
    state.add(platform, KIND, {"id": key, "_received": 1, "event": event})
    return True


def conversion_counts(state: SandboxState) -> dict[str, dict[str, int]]:
    """Per platform: unique conversions kept and events received (duplicates included)."""
    out = {}
    for platform in LIMITS:
        rows = state.all(platform, KIND)
        out[platform] = {"unique": len(rows), "received": sum(int(row["_received"]) for row in rows)}
    return out


def _hashes(values: Any, where: str) -> list[str]:
    if not isinstance(values, list) or not all(isinstance(v, str) and _HEX64.match(v) for v in values):
        raise ValueError(f"{where} must be a list of lowercase SHA-256 hex digests")
    return values


def _batch(items: Any, platform: str, name: str) -> list[dict[str, Any]]:
    if not isinstance(items, list) or not items:
        raise ValueError(f"{name} must be a non-empty list")
    if len(items) > LIMITS[platform]:
        raise ValueError(f"{name} holds at most {LIMITS[platform]} events")
    if not all(isinstance(item, dict) for item in items):
        raise ValueError(f"every item of {name} must be an object")
    return items


class MetaConversions:
    """Meta Conversions API (server events for a pixel / dataset)."""

    state: SandboxState

    @route("POST", r"/v\d+\.\d+/(?P<pixel>\d+)/events")
    def post_events(self, request: Request, pixel: str) -> Response:
        try:
            events = _batch(json.loads(request.arg("data") or "null"), "meta", "data")
            for event in events:
                _check_meta_event(event)
        except ValueError as exc:
            raise ApiError("validation", f"(#100) {exc}", status=400, code=100, subcode=2804003) from exc
        for event in events:
            record(self.state, "meta", f"{pixel}:{event['event_name']}:{event['event_id']}", event)
        return json_response({"events_received": len(events), "messages": [], "fbtrace_id": "AsandboxTrace"})


def _check_meta_event(event: dict[str, Any]) -> None:
    for name in ("event_name", "event_id", "action_source"):
        if not isinstance(event.get(name), str) or not event[name]:
            raise ValueError(f"{name} is required")
    if event["action_source"] not in META_ACTION_SOURCES:
        raise ValueError(f"action_source {event['action_source']} is not valid")
    moment = event.get("event_time")
    if not isinstance(moment, int):
        raise ValueError("event_time must be a Unix time in seconds")
    if moment < time.time() - META_MAX_AGE_SECONDS or moment > time.time() + 600:
        raise ValueError("event_time is more than 7 days old or in the future")
    user = event.get("user_data")
    if not isinstance(user, dict) or not user:
        raise ValueError("user_data is required")
    for key in ("em", "ph"):
        if key in user:
            _hashes(user[key], f"user_data.{key}")
    fbc = user.get("fbc")
    if fbc is not None and not re.fullmatch(r"fb\.1\.\d{13}\.\S+", str(fbc)):
        raise ValueError("user_data.fbc must be fb.1.<click time in ms>.<fbclid>")


class GoogleConversions:
    """Google Ads ConversionUploadService.UploadClickConversions (gclid)."""

    state: SandboxState

    @route("POST", r"/(?P<version>v\d+)/customers/(?P<cid>\d{10}):uploadClickConversions")
    def upload_click_conversions(self, request: Request, version: str, cid: str) -> Response:
        body = request.json()
        try:
            if body.get("partialFailure") is not True:
                raise ValueError("partial_failure must be true for uploadClickConversions")
            conversions = _batch(body.get("conversions"), "google", "conversions")
            for item in conversions:
                _check_google_conversion(item, cid)
        except ValueError as exc:
            raise ApiError(
                "validation", str(exc), extra={"error_code": {"conversionUploadError": "INVALID_ARGUMENT"}}
            ) from exc
        results = []
        for item in conversions:
            key = item.get("orderId") or f"{item['gclid']}:{item['conversionDateTime']}"
            record(self.state, "google", f"{cid}:{item['conversionAction']}:{key}", item)
            results.append({k: item[k] for k in ("gclid", "conversionAction", "conversionDateTime")})
        return json_response({"results": results, "jobId": "1"})


def _check_google_conversion(item: dict[str, Any], cid: str) -> None:
    if not item.get("gclid"):
        raise ValueError("conversions.gclid is required (this upload is by click id)")
    action = str(item.get("conversionAction", ""))
    if not re.fullmatch(rf"customers/{cid}/conversionActions/\d+", action):
        raise ValueError("conversions.conversionAction must name one of this customer's conversion actions")
    moment = str(item.get("conversionDateTime", ""))
    try:
        datetime.strptime(moment, "%Y-%m-%d %H:%M:%S%z")
    except ValueError:
        raise ValueError("conversions.conversionDateTime must be yyyy-mm-dd hh:mm:ss+|-hh:mm") from None


class TikTokConversions:
    """TikTok Events API for web events (the SDK's /pixel/batch/)."""

    state: SandboxState

    @route("POST", r"/open_api/v1\.3/pixel/batch/")
    def pixel_batch(self, request: Request) -> Response:
        body = request.json()
        try:
            if not isinstance(body.get("pixel_code"), str) or not body["pixel_code"]:
                raise ValueError("pixel_code: Missing data for required field.")
            batch = _batch(body.get("batch"), "tiktok", "batch")
            for event in batch:
                _check_tiktok_event(event)
        except ValueError as exc:
            raise ApiError("validation", str(exc), code=40002) from exc
        for event in batch:
            record(self.state, "tiktok", f"{body['pixel_code']}:{event['event_id']}", event)
        return json_response({"code": 0, "message": "OK", "request_id": "sandbox", "data": {}})


def _check_tiktok_event(event: dict[str, Any]) -> None:
    for name in ("event", "event_id", "timestamp"):
        if not isinstance(event.get(name), str) or not event[name]:
            raise ValueError(f"batch.{name}: Missing data for required field.")
    context = event.get("context")
    if not isinstance(context, dict):
        raise ValueError("batch.context: Missing data for required field.")
    user = context.get("user") or {}
    for key in ("email", "phone_number"):
        if key in user and not _HEX64.match(str(user[key])):
            raise ValueError(f"batch.context.user.{key} must be a SHA-256 hex digest")


class SnapchatConversions:
    """Snapchat Conversions API v3 (server events for a Snap Pixel)."""

    state: SandboxState

    @route("POST", r"/v3/(?P<pixel>[0-9a-f-]{36})/events")
    def post_events(self, request: Request, pixel: str) -> Response:
        body = request.json()
        try:
            events = _batch(body.get("data"), "snapchat", "data")
            for event in events:
                for name in ("event_name", "event_id", "action_source"):
                    if not isinstance(event.get(name), str) or not event[name]:
                        raise ValueError(f"data.{name} is required")
                if not isinstance(event.get("event_time"), int):
                    raise ValueError("data.event_time must be a Unix time in seconds")
                user = event.get("user_data")
                if not isinstance(user, dict) or not user:
                    raise ValueError("data.user_data is required")
                for key in ("em", "ph"):
                    if key in user:
                        _hashes(user[key], f"data.user_data.{key}")
        except ValueError as exc:
            raise ApiError("validation", str(exc), status=400, code="E1001") from exc
        for event in events:
            record(self.state, "snapchat", f"{pixel}:{event['event_id']}", event)
        return json_response({"status": "VALID", "reason": "", "events_received": len(events)})


class XConversions:
    """X Conversion API (web conversions for a pixel's event tag)."""

    state: SandboxState

    @route("POST", r"/12/measurement/conversions/(?P<pixel>[0-9a-z]+)")
    def post_conversions(self, request: Request, pixel: str) -> Response:
        body = request.json()
        try:
            conversions = _batch(body.get("conversions"), "x", "conversions")
            for item in conversions:
                _check_x_conversion(item)
        except ValueError as exc:
            raise ApiError("validation", str(exc), status=400, code="INVALID_PARAMETER") from exc
        for item in conversions:
            record(self.state, "x", f"{pixel}:{item['event_id']}:{item['conversion_id']}", item)
        return json_response(
            {
                "data": {"conversions_processed": len(conversions), "debug_id": "sandbox"},
                "request": {"params": {"pixel_id": pixel}},
            }
        )


def _check_x_conversion(item: dict[str, Any]) -> None:
    for name in ("conversion_time", "event_id", "conversion_id"):
        if not isinstance(item.get(name), str) or not item[name]:
            raise ValueError(f"conversions.{name} is required")
    if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", item["conversion_time"]):
        raise ValueError("conversions.conversion_time must be ISO 8601 with milliseconds, in UTC (Z)")
    identifiers = item.get("identifiers")
    if not isinstance(identifiers, list) or not identifiers:
        raise ValueError("conversions.identifiers needs twclid, hashed_email or hashed_phone_number")
    for identifier in identifiers:
        if not isinstance(identifier, dict) or len(identifier) != 1:
            raise ValueError("each identifier is an object with one key")
        ((key, value),) = identifier.items()
        if key not in ("twclid", "hashed_email", "hashed_phone_number"):
            raise ValueError(f"identifier {key} is not supported")
        if key != "twclid" and not _HEX64.match(str(value)):
            raise ValueError(f"identifiers.{key} must be a SHA-256 hex digest")
