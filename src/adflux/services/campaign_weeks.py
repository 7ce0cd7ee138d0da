"""One campaign's results per platform per week (Monday to Sunday), summed in the database.

The campaign page charts its latest days one point a day; over its whole life (a year on three
platforms is 1,095 daily points per chart, and each chart carries its data as a table too) it
charts one point a week instead, summed by the database from the campaign rollup. CTR, CPC and
CPA are derived from each week's sums, as every report derives them. A week the range cuts
(the campaign's first or last) sums only its days inside the range: `days` says how many.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import BigInteger, Date, cast, func, select

from adflux.extensions import db
from adflux.models import CampaignMetricDaily
from adflux.services.reports import COUNTS, derive


def week_start(day: date) -> date:
    """The Monday of `day`'s week."""
    return day - timedelta(days=day.weekday())


def weeks_between(since: date, until: date) -> list[date]:
    """The Monday of every week from `since`'s to `until`'s."""
    first, last = week_start(since), week_start(until)
    return [first + timedelta(weeks=n) for n in range((last - first).days // 7 + 1)]


def _monday(column: Any) -> Any:
    if db.session.get_bind().dialect.name == "postgresql":
        return cast(func.date_trunc("week", column), Date)
    # SQLite: forward to the week's Sunday (the day itself if Sunday), then back six days.
    return func.date(column, "weekday 0", "-6 days")


def campaign_weeks(*, campaign_id: int, since: date, until: date) -> dict[str, list[dict[str, Any]]]:
    """{platform: [{"week": Monday, "days": days summed, counts..., spend, ctr, cpc, cpa}]}."""
    week = _monday(CampaignMetricDaily.date).label("week")
    sums = [cast(func.sum(getattr(CampaignMetricDaily, c)), BigInteger).label(c) for c in COUNTS]
    stmt = (
        select(CampaignMetricDaily.platform, week, func.count(func.distinct(CampaignMetricDaily.date)), *sums)
        .where(CampaignMetricDaily.campaign_id == campaign_id, CampaignMetricDaily.date.between(since, until))
        .group_by(CampaignMetricDaily.platform, week)
        .order_by(CampaignMetricDaily.platform, week)
    )
    series: dict[str, list[dict[str, Any]]] = {}
    for platform, monday, days, *counts in db.session.execute(stmt):
        monday = monday if isinstance(monday, date) else date.fromisoformat(monday)
        values = {
            c: (v if v is not None or c == "engagements" else 0) for c, v in zip(COUNTS, counts, strict=True)
        }
        series.setdefault(platform, []).append(derive({"week": monday, "days": int(days), **values}))
    return series
