"""A segment's dominant traits with their shares, for people: "25–34 (44 %) · Bogotá (60 %) ·
Tecnología (90 %)". Each trait is the most common value in the segment with the share it really
holds, so a name never claims more than the data (the stored name is built from medians)."""

from __future__ import annotations

from typing import Any

from adflux.web.formatting import percent

# Profile keys, in the order the traits are said.
TRAIT_KEYS = ("age_distribution", "top_cities", "top_categories")


def segment_traits(segment: Any) -> str:
    """The segment's age band, city and job category that most of it shares, each with its share."""
    profile = getattr(segment, "profile", None) or {}
    parts = []
    for key in TRAIT_KEYS:
        top = _top(profile.get(key))
        if top is not None:
            parts.append(f"{top.get('label') or top['value']} ({percent(top['share'], 0)})")
    return " · ".join(parts)


def _top(items: Any) -> dict[str, Any] | None:
    if not isinstance(items, list):
        return None
    found = [
        i for i in items if isinstance(i, dict) and "value" in i and isinstance(i.get("share"), (int, float))
    ]
    return max(found, key=lambda i: i["share"]) if found else None
