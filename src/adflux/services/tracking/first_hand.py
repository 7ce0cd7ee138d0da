"""First-hand applications and CPA beside what the platforms report, per campaign and platform.

Spend always comes from the platforms (they bill it); applications come twice: as each platform
reports them and as the portal's postbacks, attributed by AdFlux. The gap says how far each
platform's own count is from the applications the portal actually received.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select

from adflux import kpis
from adflux.constants import PLATFORMS
from adflux.extensions import db
from adflux.models import ApplicationEvent, Campaign, CampaignMetricDaily
from adflux.settings import current_settings

MICROS = 1_000_000
SOURCES = ("platform", "first_hand")  # which applications rules, pacing and allocation optimise for


def _platform_rows(
    since: date | None, until: date | None, campaign_id: int | None, page: list[int] | None = None
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
    if page is not None:
        # Each (campaign, platform) as its own index range of days: with the platform unbound, every
        # day the campaign has (a year: 1,095 rows) would be read and filtered.
        query = query.where(source.campaign_id.in_(page), source.platform.in_(PLATFORMS))
    return {(row.campaign_id, row.platform): row for row in db.session.execute(query)}


def _first_hand_rows(
    since: date | None, until: date | None, campaign_id: int | None, page: list[int] | None = None
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
    if page is not None:
        query = query.where(ApplicationEvent.campaign_id.in_(page))
    return {(row.campaign_id, row.platform): int(row.applications) for row in db.session.execute(query)}


def unattributed_count(since: date | None = None, until: date | None = None) -> int:
    """Applications owed to no campaign that happened from `since` to `until`, Bogotá days (the
    days attributed ones count on), as a range of instants: no date computed per row."""
    query = select(func.count()).where(ApplicationEvent.attribution == "unattributed")
    zone = ZoneInfo(current_settings().timezone)
    if since:
        query = query.where(ApplicationEvent.occurred_at >= datetime.combine(since, time(), tzinfo=zone))
    if until:
        end = datetime.combine(until + timedelta(days=1), time(), tzinfo=zone)
        query = query.where(ApplicationEvent.occurred_at < end)
    return int(db.session.scalar(query) or 0)


def first_hand_report(
    *,
    since: date | None = None,
    until: date | None = None,
    campaign_id: int | None = None,
    limit: int | None = None,
    after: int | None = None,
) -> dict[str, Any]:
    """Rows per campaign and platform: spend, platform and first-hand applications, both CPAs, the gap.

    With `limit`, one page of campaigns: the first `limit` campaigns (by id, after `after`) with
    either figures in the range, and `next_after` (None on the last page) to ask for the next.
    """
    page = None
    next_after = None
    if limit is not None:
        page = _campaign_page(since, until, campaign_id, limit + 1, after)
        if len(page) > limit:
            page = page[:limit]
            next_after = page[-1]
    platform = _platform_rows(since, until, campaign_id, page)
    first_hand = _first_hand_rows(since, until, campaign_id, page)
    rows = [
        _row(key, platform.get(key), first_hand.get(key, 0))
        for key in sorted(set(platform) | set(first_hand))
    ]
    report = {
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
        "rows": rows,
        "unattributed": unattributed_count(since, until),
    }
    if limit is not None:
        report.update(limit=limit, next_after=next_after)
    return report


def _row(key: tuple[int, str], reported: Any, own: int) -> dict[str, Any]:
    spend = round(int(reported.spend_micros or 0) / MICROS) if reported else 0
    platform_apps = int(reported.applications or 0) if reported else 0
    return {
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


def _campaign_page(
    since: date | None, until: date | None, campaign_id: int | None, size: int, after: int | None
) -> list[int]:
    """The first `size` campaign ids (after `after`) with rollup rows or attributed applications in
    the range: campaigns in id order, each probed for one row of either (an index lookup apiece)."""
    rollup = select(CampaignMetricDaily.campaign_id).where(CampaignMetricDaily.campaign_id == Campaign.id)
    events = select(ApplicationEvent.campaign_id).where(ApplicationEvent.campaign_id == Campaign.id)
    if since:
        rollup = rollup.where(CampaignMetricDaily.date >= since)
        events = events.where(ApplicationEvent.day >= since)
    if until:
        rollup = rollup.where(CampaignMetricDaily.date <= until)
        events = events.where(ApplicationEvent.day <= until)
    query = select(Campaign.id).where(or_(rollup.exists(), events.exists())).order_by(Campaign.id).limit(size)
    if after is not None:
        query = query.where(Campaign.id > after)
    if campaign_id is not None:
        query = query.where(Campaign.id == campaign_id)
    return list(db.session.scalars(query))


def applications_by(source: str, platform_count: int, first_hand_count: int) -> int:
    """The application count an optimiser should use for `source` ("platform" or "first_hand")."""
    if source not in SOURCES:
        raise ValueError(f"source must be one of {', '.join(SOURCES)}")
    return first_hand_count if source == "first_hand" else platform_count
