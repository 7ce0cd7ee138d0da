"""Conversion-API request bodies checked against the platforms' own definitions.

Meta: rebuilt with facebook-business's server-side ``Event``/``UserData``/``CustomData`` (typed
setters refuse wrong types; the rebuilt, normalised event must equal what was sent). Snapchat
Conversions API v3 and X Conversion API: written from their public docs (no official Python
client covers them). Google (``UploadClickConversionsRequest``) and TikTok (``PixelBatchBody``)
are checked in ``official.py`` with the other protobuf messages and SDK models.
"""

from __future__ import annotations

import json
import re
from typing import Any

from facebook_business.adobjects.serverside.action_source import ActionSource
from facebook_business.adobjects.serverside.custom_data import CustomData
from facebook_business.adobjects.serverside.event import Event
from facebook_business.adobjects.serverside.user_data import UserData

META_USER_KEYS = {"em": "emails", "ph": "phones", "fbc": "fbc", "fbp": "fbp", "external_id": "external_ids"}
META_CUSTOM_KEYS = {"content_ids", "content_type", "value", "currency", "content_name", "content_category"}
SNAP_EVENT = {
    "event_name",
    "action_source",
    "event_time",
    "event_id",
    "event_source_url",
    "user_data",
    "custom_data",
}
SNAP_USER = {"em", "ph", "sc_click_id", "sc_cookie1", "client_ip_address", "client_user_agent", "external_id"}
SNAP_EVENTS = {
    "PURCHASE",
    "SAVE",
    "START_CHECKOUT",
    "ADD_CART",
    "VIEW_CONTENT",
    "ADD_BILLING",
    "SIGN_UP",
    "SEARCH",
    "PAGE_VIEW",
    "SUBSCRIBE",
    "AD_CLICK",
    "AD_VIEW",
    "COMPLETE_TUTORIAL",
    "LEVEL_COMPLETE",
    "INVITE",
    "LOGIN",
    "SHARE",
    "RESERVE",
    "ACHIEVEMENT_UNLOCKED",
    "ADD_TO_WISHLIST",
    "SPENT_CREDITS",
    "RATE",
    "START_TRIAL",
    "LIST_VIEW",
    "APP_OPEN",
    "CUSTOM_EVENT_1",
}
SNAP_SOURCES = {"WEB", "MOBILE_APP", "OFFLINE"}
X_CONVERSION = {
    "conversion_time",
    "event_id",
    "identifiers",
    "number_items",
    "price_currency",
    "value",
    "conversion_id",
    "description",
    "contents",
}
X_IDENTIFIERS = {"twclid", "hashed_email", "hashed_phone_number"}


def check_meta_events(form: dict[str, str]) -> list[str]:
    problems = [f"events: {key} is not a parameter" for key in form if key not in ("data", "test_event_code")]
    for index, sent in enumerate(json.loads(form.get("data", "[]"))):
        try:
            user = sent.get("user_data", {})
            custom = sent.get("custom_data")
            unknown = [k for k in user if k not in META_USER_KEYS] + [
                k for k in custom or {} if k not in META_CUSTOM_KEYS
            ]
            if unknown:
                problems.append(f"events[{index}]: unknown keys {unknown}")
                continue
            event = Event(
                event_name=sent["event_name"],
                event_time=sent["event_time"],
                event_id=sent.get("event_id"),
                action_source=ActionSource(sent["action_source"]),
                user_data=UserData(**{META_USER_KEYS[k]: v for k, v in user.items()}),
                custom_data=CustomData(**custom) if custom is not None else None,
            )
        except (TypeError, ValueError, KeyError) as exc:
            problems.append(f"events[{index}]: {exc!r}")
            continue
        if event.normalize() != sent:
            problems.append(
                f"events[{index}]: the SDK's event differs from the one sent: {event.normalize()}"
            )
    return problems


def check_snapchat_events(body: Any) -> list[str]:
    if not isinstance(body, dict) or set(body) != {"data"}:
        return ['snapchat events: the body is {"data": [...]}']
    problems = []
    for index, event in enumerate(body["data"]):
        problems += [f"data[{index}]: {k} is not a documented field" for k in event if k not in SNAP_EVENT]
        problems += [
            f"data[{index}]: user_data.{k} unknown" for k in event.get("user_data", {}) if k not in SNAP_USER
        ]
        if event.get("event_name") not in SNAP_EVENTS:
            problems.append(f"data[{index}]: event_name {event.get('event_name')} is not a standard event")
        if event.get("action_source") not in SNAP_SOURCES:
            problems.append(f"data[{index}]: action_source {event.get('action_source')} unknown")
    return problems


def check_x_conversions(body: Any) -> list[str]:
    if not isinstance(body, dict) or set(body) != {"conversions"}:
        return ['x conversions: the body is {"conversions": [...]}']
    problems = []
    for index, item in enumerate(body["conversions"]):
        problems += [
            f"conversions[{index}]: {k} is not a documented field" for k in item if k not in X_CONVERSION
        ]
        for identifier in item.get("identifiers", []):
            problems += [
                f"conversions[{index}]: identifier {k} unknown" for k in identifier if k not in X_IDENTIFIERS
            ]
        if not re.fullmatch(r"tw-[0-9a-z]+-[0-9a-z]+", str(item.get("event_id", ""))):
            problems.append(f"conversions[{index}]: event_id must be an event tag id (tw-<pixel>-<event>)")
    return problems
