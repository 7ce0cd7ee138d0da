"""First-hand applications and CPA beside what the platforms report, per campaign and platform.

Spend always comes from the platforms (they bill it); applications come twice: as each platform
reports them and as the portal's postbacks, attributed by AdFlux. The gap says how far each
platform's own count is from the applications the portal actually received.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select

from adflux import kpis
from adflux.extensions import db
from adflux.models import ApplicationEvent, CampaignMetricDaily

MICROS = 1_000_000
SOURCES = ("platform", "first_hand")  # which applications rules, pacing and allocation optimise for


def _platform_rows(
    since: date | None, until: date | None, campaign_id: int | None
) -> dict[tuple[int, str], Any]:
    # From the campaign rollup (the same sums per campaign, platform and day as the raw rows, about
    # a ninth of the rows: one per campaign and platform a day instead of one per ad group a day).
    source = CampaignMetricDaily
    query = select(
        source.campaign_id,
        source.platform,
        func.sum(source.spend_micros).label("spend_micros"),
        func.sum(source.clicks).label("clicks"),
        func.sum(source.applications).label("applications"),
    ).group_by(source.campaign_id, source.platform)
    if since:
        query = query.where(source.date >= since)
    if until:
        query = query.where(source.date <= until)
    if campaign_id is not None:
        query = query.where(source.campaign_id == campaign_id)
    return {(row.campaign_id, row.platform): row for row in db.session.execute(query)}


def _first_hand_rows(
    since: date | None, until: date | None, campaign_id: int | None
) -> dict[tuple[int, str], int]:
    query = (
        select(ApplicationEvent.campaign_id, ApplicationEvent.platform, func.count().label("applications"))
        .where(ApplicationEvent.campaign_id.is_not(None))
        .group_by(ApplicationEvent.campaign_id, ApplicationEvent.platform)
    )
    if since:
        query = query.where(ApplicationEvent.day >= since)
    if until:
        query = query.where(ApplicationEvent.day <= until)
    if campaign_id is not None:
        query = query.where(ApplicationEvent.campaign_id == campaign_id)
    return {(row.campaign_id, row.platform): int(row.applications) for row in db.session.execute(query)}


def unattributed_count(since: date | None = None, until: date | None = None) -> int:
    query = select(func.count()).where(ApplicationEvent.attribution == "unattributed")
    if since:
        query = query.where(func.date(ApplicationEvent.occurred_at) >= since)
    if until:
        query = query.where(func.date(ApplicationEvent.occurred_at) <= until)
    return int(db.session.scalar(query) or 0)


def first_hand_report(
    *, since: date | None = None, until: date | None = None, campaign_id: int | None = None
) -> dict[str, Any]:
    """Rows per campaign and platform: spend, platform and first-hand applications, both CPAs, the gap."""
    platform = _platform_rows(since, until, campaign_id)
    first_hand = _first_hand_rows(since, until, campaign_id)
    rows = []
    for key in sorted(set(platform) | set(first_hand)):
        reported = platform.get(key)
        spend = round(int(reported.spend_micros or 0) / MICROS) if reported else 0
        platform_apps = int(reported.applications or 0) if reported else 0
        own = first_hand.get(key, 0)
        rows.append(
            {
                "campaign_id": key[0],
                "platform": key[1],
                "spend": spend,
                "clicks": int(reported.clicks or 0) if reported else 0,
                "applications_platform": platform_apps,
                "applications_first_hand": own,
                "applications_gap": platform_apps - own,
                "cpa_platform": kpis.cpa(spend, platform_apps),
                "cpa_first_hand": kpis.cpa(spend, own),
            }
        )
    return {
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
        "rows": rows,
        "unattributed": unattributed_count(since, until),
    }


def applications_by(source: str, platform_count: int, first_hand_count: int) -> int:
    """The application count an optimiser should use for `source` ("platform" or "first_hand")."""
    if source not in SOURCES:
        raise ValueError(f"source must be one of {', '.join(SOURCES)}")
    return first_hand_count if source == "first_hand" else platform_count
