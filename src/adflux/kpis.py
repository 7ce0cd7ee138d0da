"""The derived ratios of ad performance, defined once: CTR, CPC and CPA.

Each is computed from summed counts (never averaged from per-row ratios) and is None when its
denominator is zero: a campaign with no application yet has no CPA (not "the spend", not 0).
"""

from __future__ import annotations


def ctr(clicks: float, impressions: float) -> float | None:
    """Click-through rate as a fraction (0.0123 = 1.23 %)."""
    return clicks / impressions if impressions else None


def cpc(spend: float, clicks: float) -> float | None:
    """Cost per click, in the currency of `spend`, to the cent."""
    return round(spend / clicks, 2) if clicks else None


def cpa(spend: float, applications: float) -> float | None:
    """Cost per application, in the currency of `spend`, to the cent."""
    return round(spend / applications, 2) if applications else None


def cpa_at_least(spend: float, applications: float) -> float:
    """The least the CPA can be: the CPA, or before the first application the spend (the first
    application will have cost at least that). What target-CPA alerts compare."""
    value = cpa(spend, applications)
    return spend if value is None else value
