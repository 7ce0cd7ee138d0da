"""The campaigns that spent most over a window: ranked in the database, and kept for the overview.

Ranking sums every campaign's rollup rows of the window (30 days x 10,000 campaigns x 3 platforms
= 900,000 rows: 0.3-2 s depending on what is in memory). The overview's preset windows (the last
7, 30 and 90 days) are ranked once whenever the day totals are rebuilt — once per metrics sync,
in its transaction — and stored (`campaign_rankings`, the first KEPT of each), so every web
process reads the ten it shows instead of ranking on its first view after each sync. Any other
window is ranked when asked.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import BigInteger, cast, delete, func, insert, select

from adflux.extensions import db
from adflux.models import CampaignMetricDaily, CampaignRanking, DailyMetricTotal
from adflux.services import local_dates

WINDOWS = (7, 30, 90)  # the overview's presets (web/views/overview.RANGE_PRESETS)
KEPT = 50  # positions stored per window: an overview asks for 10
COUNTS = ("impressions", "reach", "clicks", "engagements", "spend_micros", "applications")


def rank(since: date, until: date, limit: int) -> list[dict[str, Any]]:
    """The `limit` campaigns with the most spend over [since, until], with their sums."""
    sums = []
    for column in COUNTS:
        total = cast(func.sum(getattr(CampaignMetricDaily, column)), BigInteger)
        sums.append((total if column == "engagements" else func.coalesce(total, 0)).label(column))
    spend = cast(func.sum(CampaignMetricDaily.spend_micros), BigInteger)
    ranked = (
        select(CampaignMetricDaily.campaign_id.label("campaign"), *sums)
        .where(CampaignMetricDaily.date.between(since, until))
        .group_by(CampaignMetricDaily.campaign_id)
        .order_by(spend.desc(), CampaignMetricDaily.campaign_id)
        .limit(limit)
    )
    return [dict(r._mapping) for r in db.session.execute(ranked)]


def last_day() -> date:
    """The day the overview's windows end on: today (Bogotá), or the newest synced day if later."""
    today = local_dates.today()
    latest = db.session.scalar(select(func.max(DailyMetricTotal.date)))
    return max(today, latest) if latest else today


def refresh() -> None:
    """Rank the preset windows ending on `last_day()` again, replacing what was stored."""
    until = last_day()
    db.session.execute(delete(CampaignRanking))
    for days in WINDOWS:
        since = until - timedelta(days=days - 1)
        rows = [
            {"since": since, "until": until, "position": position, "campaign_id": row.pop("campaign"), **row}
            for position, row in enumerate(rank(since, until, KEPT), start=1)
        ]
        if rows:
            db.session.execute(insert(CampaignRanking), rows)


def stored(since: date, until: date, limit: int) -> list[dict[str, Any]] | None:
    """The stored ranking of [since, until] (first `limit`), or None when none is stored for it."""
    if limit > KEPT:
        return None
    columns = [getattr(CampaignRanking, c) for c in COUNTS]
    rows = db.session.execute(
        select(CampaignRanking.campaign_id.label("campaign"), *columns)
        .where(CampaignRanking.since == since, CampaignRanking.until == until)
        .order_by(CampaignRanking.position)
        .limit(limit)
    ).all()
    return [dict(r._mapping) for r in rows] or None
