"""Snapchat Marketing API v1 request shapes, written from its public docs (no official Python client).

Sources: marketingapi.snapchat.com/docs — Campaigns, Ad Squads, Creatives, Ads, Audiences
(Segments / Users). Only the documented writable fields (plus ``id`` on updates) are listed.
"""

from __future__ import annotations

import re
from typing import Any

TARGETING = {"geos", "locations", "demographics", "segments", "devices", "interests", "regulated_content"}
WRITABLE: dict[str, set[str]] = {
    "campaigns": {
        "id",
        "ad_account_id",
        "name",
        "status",
        "start_time",
        "end_time",
        "daily_budget_micro",
        "lifetime_spend_cap_micro",
        "buy_model",
        "objective_v2_properties",
        "regulations",
        "measurement_spec",
    },
    "adsquads": {
        "id",
        "campaign_id",
        "name",
        "type",
        "status",
        "targeting",
        "placement_v2",
        "billing_event",
        "auto_bid",
        "bid_micro",
        "target_bid",
        "bid_strategy",
        "daily_budget_micro",
        "lifetime_budget_micro",
        "start_time",
        "end_time",
        "optimization_goal",
        "delivery_constraint",
        "pacing_type",
        "child_ad_type",
        "frequency_cap_max_impressions",
        "frequency_cap_time_period",
        "conversion_window",
        "pixel_id",
        "event_sources",
        "ad_account_id",  # echoed back from a GET on whole-entity updates
    },
    "creatives": {
        "id",
        "ad_account_id",
        "name",
        "type",
        "headline",
        "brand_name",
        "shareable",
        "call_to_action",
        "top_snap_media_id",
        "top_snap_crop_position",
        "web_view_properties",
        "profile_properties",
        "ad_product",
    },
    "ads": {
        "id",
        "ad_squad_id",
        "creative_id",
        "name",
        "type",
        "status",
        "render_type",
        "ad_account_id",
        "campaign_id",  # echoed back from a GET on whole-entity updates
    },
    "segments": {"id", "ad_account_id", "name", "description", "source_type", "retention_in_days"},
    "media": {"name", "type", "ad_account_id"},  # Media: create, then upload the file
}
ENUMS = {
    "status": {"ACTIVE", "PAUSED"},
    "type": {
        "SNAP_ADS",
        "REMOTE_WEBPAGE",
        "WEB_VIEW",
        "SNAP_AD",
        "APP_INSTALL",
        "DEEP_LINK",
        "COLLECTION",
        "IMAGE",
        "VIDEO",
    },
    "billing_event": {"IMPRESSION"},
    "source_type": {"FIRST_PARTY", "ENGAGEMENT", "PIXEL", "MOBILE"},
}
# What a PUT must carry: the whole entity (Snap replaces it).
REQUIRED_ON_PUT = {
    "campaigns": {"id", "name", "ad_account_id", "status", "start_time"},
    "adsquads": {
        "id",
        "campaign_id",
        "name",
        "type",
        "status",
        "targeting",
        "billing_event",
        "optimization_goal",
    },
    "ads": {"id", "ad_squad_id", "creative_id", "name", "type", "status"},
}


def check_snapchat(method: str, path: str, body: Any) -> list[str] | None:
    if re.search(r"/segments/[^/]+/users$", path):
        return _users(body)
    match = re.search(r"/(campaigns|adsquads|creatives|ads|segments|media)$", path)
    if match is None or not isinstance(body, dict):
        return None
    key = match.group(1)
    problems = [f"{key}: top-level {name} unknown" for name in body if name != key]
    for item in body.get(key, []):
        problems += [f"{key}: {name} is not a documented field" for name in item if name not in WRITABLE[key]]
        problems += [
            f"{key}: {name}={item[name]} not an allowed value"
            for name, allowed in ENUMS.items()
            if name in item and item[name] not in allowed
        ]
        problems += [
            f"{key}: targeting.{name} unknown" for name in item.get("targeting", {}) if name not in TARGETING
        ]
        if method == "PUT":
            problems += [
                f"{key}: PUT without {name}" for name in REQUIRED_ON_PUT.get(key, ()) if name not in item
            ]
    return problems


def _users(body: Any) -> list[str]:
    problems = []
    for user in body.get("users", []):
        if set(user) - {"schema", "data"}:
            problems.append(f"users: unknown {sorted(set(user) - {'schema', 'data'})}")
        width = len(user.get("schema", []))
        problems += [
            "users: a data row is not as wide as the schema" for row in user["data"] if len(row) != width
        ]
    return problems
