"""Applications sent back to the platforms' conversion APIs, so they optimise for real applicants.

One body builder per platform, in that platform's wire format, batched within its limit:
- Meta Conversions API: ``POST /<pixel>/events``, ``SubmitApplication`` events with hashed
  ``em``/``ph``, the click as ``fbc`` and ``event_id`` for deduplication;
- Google Ads ``customers/<cid>:uploadClickConversions`` by ``gclid`` (``orderId`` deduplicates);
- TikTok Events API ``pixel/batch/`` with the click id as ``context.ad.callback`` (``ttclid``);
- Snapchat Conversions API ``/v3/<pixel>/events`` with ``sc_click_id`` and hashed ``em``/``ph``;
- X Conversion API ``measurement/conversions/<pixel>`` with ``twclid`` and hashed identifiers.
Every platform deduplicates by our event id, so a batch may be retried safely. Only hashes ever
leave AdFlux; the caller sends only consenting candidates' applications.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from adflux.platforms.base import PlatformAdapter
from adflux.platforms.errors import FatalError

# Events per request, each platform's documented maximum or below it.
BATCH_LIMITS = {"meta": 1000, "google": 2000, "tiktok": 1000, "snapchat": 2000, "x": 500}
# How old an event may be when sent (Meta refuses server events older than seven days).
MAX_AGE = {"meta": timedelta(days=7), "google": timedelta(days=90)}
# Where each platform's settings in AccountConfig.extra name the pixel or conversion action.
REQUIRED_SETTINGS = {
    "meta": ("pixel_id",),
    "google": ("conversion_action_id",),
    "tiktok": ("pixel_code",),
    "snapchat": ("pixel_id",),
    "x": ("pixel_id", "event_tag_id"),
}
SNAPCHAT_CONVERSIONS_HOST = "https://tr.snapchat.com"


@dataclass(frozen=True)
class Conversion:
    """One attributed application of a consenting candidate, as a platform will receive it."""

    event_id: str  # AdFlux's id for the application: the platforms' deduplication key
    occurred_at: datetime
    click_id: str | None  # the platform's own click id (fbclid, gclid, ttclid, ScCid, twclid)
    clicked_at: datetime | None
    email_hash: str | None = None
    phone_hash: str | None = None
    job_reference: str | None = None


@dataclass(frozen=True)
class ConversionResult:
    """What happened to each event id: sent, or skipped with the reason (never sent)."""

    sent: list[str]
    skipped: dict[str, str]


def send_conversions(
    adapter: PlatformAdapter, conversions: list[Conversion], *, now: datetime | None = None
) -> ConversionResult:
    """Send `conversions` through the adapter's platform, in batches; raise PlatformError on failure
    (nothing of the failing batch is reported as sent)."""
    platform = adapter.platform
    settings = {name: str(adapter.account.extra.get(name) or "") for name in REQUIRED_SETTINGS[platform]}
    missing = [name for name, value in settings.items() if not value]
    if missing:
        raise FatalError(f"conversions need the account's {', '.join(missing)}", platform=platform)
    moment = now or datetime.now(UTC)
    skipped: dict[str, str] = {}
    ready = []
    for conversion in conversions:
        reason = _skip_reason(platform, conversion, moment)
        if reason:
            skipped[conversion.event_id] = reason
        else:
            ready.append(conversion)
    sent: list[str] = []
    sender = SENDERS[platform]
    for batch in _batches(ready, BATCH_LIMITS[platform]):
        sender(adapter, settings, batch)
        sent.extend(conversion.event_id for conversion in batch)
    return ConversionResult(sent=sent, skipped=skipped)


def _skip_reason(platform: str, conversion: Conversion, now: datetime) -> str | None:
    limit = MAX_AGE.get(platform)
    if limit is not None and now - conversion.occurred_at > limit:
        return f"older than {limit.days} days"
    if platform == "google" and not conversion.click_id:
        return "no gclid"
    if not (conversion.click_id or conversion.email_hash or conversion.phone_hash):
        return "neither a click id nor a hashed identifier"
    return None


def _batches(items: list[Conversion], size: int) -> Iterator[list[Conversion]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _meta(adapter: PlatformAdapter, settings: dict[str, str], batch: list[Conversion]) -> None:
    events = []
    for item in batch:
        user: dict[str, Any] = {}
        if item.email_hash:
            user["em"] = [item.email_hash]
        if item.phone_hash:
            user["ph"] = [item.phone_hash]
        if item.click_id and item.clicked_at:
            user["fbc"] = f"fb.1.{int(item.clicked_at.timestamp() * 1000)}.{item.click_id}"
        event: dict[str, Any] = {
            "event_name": "SubmitApplication",
            "event_time": int(item.occurred_at.timestamp()),
            "event_id": item.event_id,
            "action_source": "website",
            "user_data": user,
        }
        if item.job_reference:
            event["custom_data"] = {"content_ids": [item.job_reference], "content_type": "product"}
        events.append(event)
    adapter.transport.request(
        "POST",
        f"{adapter.api_version}/{settings['pixel_id']}/events",
        operation="send_conversions",
        data={"data": json.dumps(events)},
        params=adapter._params(),  # type: ignore[attr-defined]  # appsecret_proof when configured
        idempotent=True,  # Meta deduplicates by event_name + event_id
    )


def _google(adapter: PlatformAdapter, settings: dict[str, str], batch: list[Conversion]) -> None:
    cid = adapter.cid  # type: ignore[attr-defined]
    action = f"customers/{cid}/conversionActions/{settings['conversion_action_id']}"
    conversions = []
    for item in batch:
        conversion: dict[str, Any] = {
            "gclid": item.click_id,
            "conversionAction": action,
            "conversionDateTime": item.occurred_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S+00:00"),
            "orderId": item.event_id,
            "consent": {"adUserData": "GRANTED"},
        }
        identifiers = [{"hashedEmail": item.email_hash}] if item.email_hash else []
        if item.phone_hash:
            identifiers.append({"hashedPhoneNumber": item.phone_hash})
        if identifiers:
            conversion["userIdentifiers"] = identifiers
        conversions.append(conversion)
    body = {"conversions": conversions, "partialFailure": True}
    answer = adapter.transport.request(
        "POST",
        f"{adapter.api_version}/customers/{cid}:uploadClickConversions",
        operation="send_conversions",
        json=body,
        idempotent=True,  # Google deduplicates by orderId
    ).json()
    failure = answer.get("partialFailureError")
    if failure:
        raise FatalError(str(failure.get("message") or failure), platform="google", details=failure)


def _tiktok(adapter: PlatformAdapter, settings: dict[str, str], batch: list[Conversion]) -> None:
    events = []
    for item in batch:
        user = {}
        if item.email_hash:
            user["email"] = item.email_hash
        if item.phone_hash:
            user["phone_number"] = item.phone_hash
        context: dict[str, Any] = {"user": user}
        if item.click_id:
            context["ad"] = {"callback": item.click_id}
        events.append(
            {
                "type": "track",
                "event": "SubmitForm",
                "event_id": item.event_id,
                "timestamp": item.occurred_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "context": context,
            }
        )
    adapter.transport.request(
        "POST",
        f"open_api/{adapter.api_version}/pixel/batch/",
        operation="send_conversions",
        json={"pixel_code": settings["pixel_code"], "batch": events},
        idempotent=True,  # TikTok deduplicates by event_id
    )


def _snapchat(adapter: PlatformAdapter, settings: dict[str, str], batch: list[Conversion]) -> None:
    events = []
    for item in batch:
        user: dict[str, Any] = {}
        if item.email_hash:
            user["em"] = [item.email_hash]
        if item.phone_hash:
            user["ph"] = [item.phone_hash]
        if item.click_id:
            user["sc_click_id"] = item.click_id
        events.append(
            {
                "event_name": "SIGN_UP",
                "action_source": "WEB",
                "event_time": int(item.occurred_at.timestamp()),
                "event_id": item.event_id,
                "user_data": user,
            }
        )
    host = adapter.account.extra.get("conversions_base_url") or (
        SNAPCHAT_CONVERSIONS_HOST if adapter.base_url == adapter.default_base_url else adapter.base_url
    )
    adapter.transport.request(
        "POST",
        f"{str(host).rstrip('/')}/v3/{settings['pixel_id']}/events",
        operation="send_conversions",
        json={"data": events},
        idempotent=True,  # Snap deduplicates by event_id
    )


def _x(adapter: PlatformAdapter, settings: dict[str, str], batch: list[Conversion]) -> None:
    conversions = []
    for item in batch:
        identifiers: list[dict[str, str]] = []
        if item.click_id:
            identifiers.append({"twclid": item.click_id})
        if item.email_hash:
            identifiers.append({"hashed_email": item.email_hash})
        if item.phone_hash:
            identifiers.append({"hashed_phone_number": item.phone_hash})
        moment = item.occurred_at.astimezone(UTC)
        conversions.append(
            {
                "conversion_time": moment.strftime("%Y-%m-%dT%H:%M:%S.")
                + f"{moment.microsecond // 1000:03d}Z",
                "event_id": settings["event_tag_id"],
                "identifiers": identifiers,
                "conversion_id": item.event_id,
            }
        )
    adapter.transport.request(
        "POST",
        f"{adapter.api_version}/measurement/conversions/{settings['pixel_id']}",
        operation="send_conversions",
        json={"conversions": conversions},
        idempotent=True,  # X deduplicates by conversion_id
    )


SENDERS: dict[str, Callable[[PlatformAdapter, dict[str, str], list[Conversion]], None]] = {
    "meta": _meta,
    "google": _google,
    "tiktok": _tiktok,
    "snapchat": _snapchat,
    "x": _x,
}
