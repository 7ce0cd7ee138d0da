"""Spend control for one campaign: pacing (spent vs budget vs time), target vs actual CPA and the
change of each KPI against the previous period of the same length."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import case, func, select

from adflux.extensions import db
from adflux.kpis import cpa, ctr
from adflux.models import Campaign, CampaignMetricDaily
from adflux.services.local_dates import today

# KPIs compare the last PERIOD_DAYS with the PERIOD_DAYS before them.
PERIOD_DAYS = 7
KPIS = ("spend", "clicks", "applications", "ctr", "cpa")


@dataclass(frozen=True)
class Pacing:
    """How far a campaign is through its money and its time."""

    spent: int
    budget: int
    spent_share: float
    elapsed_share: float | None  # None for an open-ended campaign
    days_left: int | None
    target_cpa: int | None
    actual_cpa: float | None
    kpi_changes: dict[str, dict[str, Any]]

    @property
    def ahead_of_time(self) -> bool:
        """Spending faster than time passes (by more than ten points), or nearly out of money."""
        if self.elapsed_share is None:
            return self.spent_share >= 0.9
        return self.spent_share - self.elapsed_share > 0.10

    @property
    def cpa_over_target(self) -> bool:
        return (
            self.target_cpa is not None and self.actual_cpa is not None and self.actual_cpa > self.target_cpa
        )


def campaign_pacing(campaign: Campaign, *, on: date | None = None, last_metric_day: Any = ...) -> Pacing:
    """The campaign's pacing, CPA against its target and KPI changes, as of `on` (Bogotá today).

    `last_metric_day`: the campaign's newest day with metrics (None: none) when the caller has
    read it already (the campaign page has): then one statement reads everything."""
    on = on or today()
    if last_metric_day is ...:
        totals, days = _days(campaign.id)
    else:
        totals, days = _days_up_to(campaign.id, last_metric_day)
    spent = round(totals["spend_micros"] / 1_000_000)
    elapsed = days_left = None
    if campaign.end_date is not None:
        flight = (campaign.end_date - campaign.start_date).days + 1
        done = min(max((on - campaign.start_date).days + 1, 0), flight)
        elapsed = done / flight if flight > 0 else 1.0
        days_left = max((campaign.end_date - on).days, 0)
    return Pacing(
        spent=spent,
        budget=campaign.budget_total,
        spent_share=spent / campaign.budget_total if campaign.budget_total else 0.0,
        elapsed_share=elapsed,
        days_left=days_left,
        target_cpa=campaign.target_cpa,
        actual_cpa=cpa(spent, totals["applications"]),
        kpi_changes=_changes(days) if days else {},
    )


def _changes(days: list[tuple[date, dict[str, int]]]) -> dict[str, dict[str, Any]]:
    """Each KPI over the last PERIOD_DAYS up to the last day with metrics, the period before and
    the relative change (`days`: the latest days' sums, newest first)."""
    last = days[0][0]
    current = _kpis(_added(sums for day, sums in days if day > last - timedelta(days=PERIOD_DAYS)))
    start = last - timedelta(days=2 * PERIOD_DAYS)
    previous = _kpis(_added(sums for day, sums in days if start < day <= last - timedelta(days=PERIOD_DAYS)))
    changes = {}
    for name in KPIS:
        now, before = current[name], previous[name]
        change = (now - before) / before if now is not None and before else None
        changes[name] = {"current": now, "previous": before, "change": change}
    return changes


def _kpis(sums: dict[str, int]) -> dict[str, float | None]:
    spend = sums["spend_micros"] / 1_000_000
    return {
        "spend": spend,
        "clicks": sums["clicks"],
        "applications": sums["applications"],
        "ctr": ctr(sums["clicks"], sums["impressions"]),
        "cpa": cpa(spend, sums["applications"]),
    }


SUMMED = ("spend_micros", "impressions", "clicks", "applications")


def _added(days: Any) -> dict[str, int]:
    totals = dict.fromkeys(SUMMED, 0)
    for sums in days:
        for key in SUMMED:
            totals[key] += sums[key]
    return totals


def _days(campaign_id: int) -> tuple[dict[str, int], list[tuple[date, dict[str, int]]]]:
    """The campaign's sums over its whole life, and each of its latest 2 x PERIOD_DAYS days with
    metrics (newest first, summed over platforms): two statements where a sum per period after
    reading the last day took four. (Not one: ordering the campaign's days by date with a limit
    makes PostgreSQL walk the date index of every campaign's rows, ~10 s at 10,000 campaigns.)"""
    m = CampaignMetricDaily
    sums = [func.coalesce(func.sum(getattr(m, key)), 0) for key in SUMMED]
    whole = db.session.execute(select(func.max(m.date), *sums).where(m.campaign_id == campaign_id)).one()
    last = whole[0]
    totals = {key: int(value) for key, value in zip(SUMMED, whole[1:], strict=True)}
    if last is None:
        return totals, []
    since = last - timedelta(days=2 * PERIOD_DAYS - 1)
    stmt = (
        select(m.date, *sums)
        .where(m.campaign_id == campaign_id, m.date.between(since, last))
        .group_by(m.date)
        .order_by(m.date.desc())
    )
    days = [
        (row[0], {key: int(v) for key, v in zip(SUMMED, row[1:], strict=True)})
        for row in db.session.execute(stmt)
    ]
    return totals, days


def _days_up_to(
    campaign_id: int, last: date | None
) -> tuple[dict[str, int], list[tuple[date, dict[str, int]]]]:
    """As `_days`, the last day known: the whole life and both periods summed in one statement
    (the periods' sums stand for their days: `_changes` reads them by date)."""
    m = CampaignMetricDaily
    if last is None:
        return dict.fromkeys(SUMMED, 0), []
    current = last - timedelta(days=PERIOD_DAYS - 1)
    previous = last - timedelta(days=2 * PERIOD_DAYS - 1)
    columns = [getattr(m, key) for key in SUMMED]
    in_current, in_previous = (
        m.date.between(current, last),
        m.date.between(previous, current - timedelta(days=1)),
    )
    stmt = select(
        *[func.coalesce(func.sum(c), 0) for c in columns],
        *[func.coalesce(func.sum(case((in_current, c), else_=0)), 0) for c in columns],
        *[func.coalesce(func.sum(case((in_previous, c), else_=0)), 0) for c in columns],
    ).where(m.campaign_id == campaign_id)
    row = [int(value) for value in db.session.execute(stmt).one()]
    width = len(SUMMED)
    totals, now, before = (dict(zip(SUMMED, row[n * width : (n + 1) * width], strict=True)) for n in range(3))
    return totals, [(last, now), (current - timedelta(days=1), before)]
