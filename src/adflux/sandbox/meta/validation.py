"""What the Meta emulation accepts: objectives, special ad categories, budgets and Employment targeting."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Any

from adflux.sandbox.api import loads_maybe
from adflux.sandbox.http import ApiError

OBJECTIVES = {
    "OUTCOME_TRAFFIC": "traffic",
    "OUTCOME_LEADS": "leads",
    "OUTCOME_AWARENESS": "traffic",
    "OUTCOME_ENGAGEMENT": "traffic",
    "OUTCOME_SALES": "leads",
    "OUTCOME_APP_PROMOTION": "traffic",
}
CATEGORIES = {
    "NONE",
    "EMPLOYMENT",
    "HOUSING",
    "CREDIT",
    "FINANCIAL_PRODUCTS_SERVICES",
    "ISSUES_ELECTIONS_POLITICS",
    "ONLINE_GAMBLING_AND_GAMING",
}
SETTABLE = {"ACTIVE", "PAUSED", "ARCHIVED", "DELETED"}
# Employment ads: cities and pins are expanded to at least 15 miles.
MIN_RADIUS_KM = 15 * 1.609344
# Wording a reviewer would reject in a job ad (discrimination by age, sex or looks).
DISAPPROVED_PHRASES = (
    "solo hombres",
    "solo mujeres",
    "menores de",
    "mayores de",
    "edad maxima",
    "buena presencia",
    "sexo masculino",
    "sexo femenino",
)
# The sandbox's own subcode for special-ad-category targeting rejections (Meta's is unverified).
SAC_TARGETING_SUBCODE = 1_870_227


def fold(text: str) -> str:
    """Lowercase ASCII, accents dropped: how the reviewer and the interest search compare text."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def invalid(message: str, title: str = "Invalid parameter", subcode: int | None = None) -> ApiError:
    """Graph's invalid-parameter error (code 100), with the user-facing title and message."""
    return ApiError(
        "validation",
        message,
        status=400,
        code=100,
        subcode=subcode,
        extra={"error_user_title": title, "error_user_msg": message},
    )


def check_campaign(params: dict[str, str]) -> tuple[list[str], list[str], str]:
    """Validate a new campaign; return its special ad categories, their countries and its status."""
    if params["objective"] not in OBJECTIVES:
        raise invalid(f"Param objective must be one of {{{', '.join(OBJECTIVES)}}}")
    categories = loads_maybe(params.get("special_ad_categories"))
    if categories is None:
        raise invalid(
            "Special ad categories are required. Use NONE or [] if none apply.",
            "Special ad category required",
            subcode=2_490_487,
        )
    if not isinstance(categories, list) or set(categories) - CATEGORIES:
        raise invalid(f"Invalid special_ad_categories: {categories}")
    countries = loads_maybe(params.get("special_ad_category_country"), []) or []
    if set(categories) - {"NONE"} and not countries:
        raise invalid(
            "special_ad_category_country is required when a special ad category is selected",
            "Country required for special ad category",
            subcode=3_858_495,
        )
    status = params.get("status", "ACTIVE")
    if status not in ("ACTIVE", "PAUSED"):
        raise invalid("Param status must be one of {ACTIVE, PAUSED}")
    return categories, countries, status


AudienceLookup = Callable[[str], dict[str, Any] | None]


def check_adset(
    params: dict[str, str], campaign: dict[str, Any], audience: AudienceLookup
) -> tuple[str | None, dict[str, Any]]:
    """Validate a new ad set under ``campaign``; return its own budget (if any) and its targeting."""
    budget = params.get("daily_budget") or params.get("lifetime_budget")
    if not budget and not campaign.get("daily_budget") and not campaign.get("lifetime_budget"):
        raise invalid("An ad set needs a daily_budget or lifetime_budget", "Budget required")
    if budget and int(budget) < 1_000:
        raise invalid(
            "The daily budget is too low: the minimum for COP is 1000",
            "Budget too low",
            subcode=1_885_272,
        )
    targeting = loads_maybe(params["targeting"], {})
    if not isinstance(targeting, dict):
        raise invalid("targeting must be a JSON object")
    check_targeting(campaign, targeting, audience)
    if params["optimization_goal"] == "OFFSITE_CONVERSIONS" and not params.get("promoted_object"):
        raise invalid("promoted_object with a pixel_id is required for OFFSITE_CONVERSIONS")
    goals = GOALS_BY_OBJECTIVE.get(campaign.get("objective", ""))
    if goals and params["optimization_goal"] not in goals:
        raise invalid(
            f"Performance goal {params['optimization_goal']} is not available for {campaign['objective']}",
            "Invalid optimization goal",
            subcode=2_490_408,
        )
    return budget, targeting


# The optimization goals Meta accepts per ODAX objective (the subset the sandbox emulates).
GOALS_BY_OBJECTIVE = {
    "OUTCOME_TRAFFIC": ("LINK_CLICKS", "LANDING_PAGE_VIEWS", "IMPRESSIONS", "REACH"),
    "OUTCOME_LEADS": ("OFFSITE_CONVERSIONS", "LEAD_GENERATION", "QUALITY_LEAD", "CONVERSATIONS"),
}


def check_targeting(campaign: dict[str, Any], targeting: dict[str, Any], audience: AudienceLookup) -> None:
    """A location is always needed; Employment campaigns also lose age, gender, ZIP, exclusions, ..."""
    geo = targeting.get("geo_locations") or {}
    if not geo and not targeting.get("custom_audiences"):
        raise invalid("Targeting needs at least one location in geo_locations", "Location required")
    if "EMPLOYMENT" not in campaign.get("special_ad_categories", []):
        return
    problems = []
    if targeting.get("genders") not in (None, [], [0], [1, 2]):
        problems.append("gender targeting is not available")
    if int(targeting.get("age_min", 18)) > 18 or int(targeting.get("age_max", 65)) < 65:
        problems.append("age must be 18 to 65+")
    if geo.get("zips"):
        problems.append("ZIP/postal code targeting is not available")
    if targeting.get("excluded_geo_locations"):
        problems.append("locations cannot be excluded")
    if targeting.get("exclusions") or targeting.get("excluded_custom_audiences"):
        problems.append("audience exclusions are not available")
    for location in geo.get("custom_locations", []) + geo.get("cities", []):
        radius = float(location.get("radius", MIN_RADIUS_KM))
        km = radius * 1.609344 if location.get("distance_unit", "mile") == "mile" else radius
        if km < MIN_RADIUS_KM - 0.01:
            problems.append("cities and pins need a radius of at least 15 miles")
    for item in targeting.get("custom_audiences", []):
        found = audience(str(item.get("id")))
        if found and found.get("subtype") == "LOOKALIKE":
            problems.append("lookalike audiences are not available")
    if problems:
        raise invalid(
            "Your ad set targets options that aren't available for ads in the Employment special ad "
            "category: " + "; ".join(problems) + ".",
            "Targeting not available for special ad category",
            subcode=SAC_TARGETING_SUBCODE,
        )
